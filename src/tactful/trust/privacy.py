"""Privacy by default: identifiers masked where people read them, files only their owner reads.

A note, a report or an error message is read by more people than the data it describes: it is
pasted into tickets, kept in CI logs, mailed around. So an account number, an IBAN or a customer
id is shown there by its last four characters only (``mask``), which is enough to tell two
accounts of one customer apart and too little to use. The store itself, the rejects files (whose
job is to show the bank the rows it must fix) and ``tactful export`` keep identifiers whole; they
are customer data, and are created readable by their owner only (``private_open``): 0600 files
in 0700 folders, with no change to the process umask, which a library must not touch.

A pseudonym (``pseudonym``) is a keyed hash: without the key (``TACTFUL_SECRET_KEY``, kept
outside the store) it cannot be turned back into the id even by trying every id a bank could
have, which a plain hash of ``C-1001`` could not promise.

>>> mask("DE89370400440532013000")
'…3000'
>>> mask("C-7")
'…'
"""

from __future__ import annotations

import hashlib
import hmac
import os
from collections.abc import Iterable
from pathlib import Path
from typing import Any, TextIO, cast

ELLIPSIS = "…"
SHOWN = 4
"""Characters of an identifier a message may show: the last four, as on a card receipt."""

FILE_MODE = 0o600
DIR_MODE = 0o700


def mask(identifier: object) -> str:
    """``'…'`` and the last four characters of ``identifier``.

    An identifier shorter than twice that shows nothing but the ellipsis: four characters of a
    six-character id would give most of it away.
    """
    text = "" if identifier is None else str(identifier)
    if len(text) < 2 * SHOWN:
        return ELLIPSIS
    return ELLIPSIS + text[-SHOWN:]


def mask_in(text: str, identifiers: Iterable[str]) -> str:
    """``text`` with every occurrence of each identifier replaced by its mask (longest first,
    so an IBAN inside a transaction id is masked whole)."""
    for ident in sorted({i for i in identifiers if i}, key=len, reverse=True):
        text = text.replace(ident, mask(ident))
    return text


def pseudonym(identifier: str, key: bytes) -> str:
    """A keyed, stable pseudonym of ``identifier`` (HMAC-SHA256, hex): the same id gives the
    same pseudonym under the same key, and nobody without the key can reverse it."""
    if not key:
        raise ValueError("a pseudonym needs a non-empty key")
    return hmac.new(key, identifier.encode("utf-8"), hashlib.sha256).hexdigest()


def private_dir(path: Path) -> Path:
    """Create ``path`` and any missing parent as 0700 folders; folders that already exist keep
    their mode (``--report-dir /tmp`` must not change ``/tmp``)."""
    missing = []
    here = path
    while not here.exists():
        missing.append(here)
        if here.parent == here:
            break
        here = here.parent
    for folder in reversed(missing):
        try:
            folder.mkdir(mode=DIR_MODE)
        except FileExistsError:  # made by someone else meanwhile; theirs to keep
            continue
        os.chmod(folder, DIR_MODE)  # mkdir's mode is filtered by the umask; say it exactly
    return path


def _private_opener(path: str, flags: int) -> int:
    fd = os.open(path, flags, FILE_MODE)
    # A file an earlier version wrote 0644 is rewritten by us: it is tightened too.
    os.fchmod(fd, FILE_MODE)
    return fd


def private_open(path: Path, mode: str = "w", **kwargs: Any) -> TextIO:
    """``open(path, mode)`` for a text file of customer data: created 0600 (an existing one is
    set to 0600), its missing folders 0700. ``mode`` writes text: ``w``, ``a`` or ``x``."""
    if mode not in {"w", "a", "x"}:
        raise ValueError(f"private_open writes text files; mode {mode!r} does not")
    private_dir(path.parent)
    return cast(TextIO, open(path, mode, opener=_private_opener, **kwargs))


def write_private_text(path: Path, text: str) -> Path:
    """Write ``text`` (UTF-8) to ``path`` as a 0600 file."""
    with private_open(path, "w", encoding="utf-8") as fh:
        fh.write(text)
    return path


def create_private_file(path: Path) -> bool:
    """Create an empty 0600 ``path`` if it does not exist (for a database file, before the
    driver creates it with the umask's mode); True if it was created here."""
    private_dir(path.parent)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, FILE_MODE)
    except FileExistsError:
        return False
    os.fchmod(fd, FILE_MODE)
    os.close(fd)
    return True
