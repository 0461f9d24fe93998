"""Turning a file's bytes into text without losing a line to a wrong encoding.

Bank exports come in UTF-8 (with or without a BOM), UTF-16 from spreadsheet tools, and Windows
code pages from older core systems. A file that is not valid UTF-8 is decoded as cp1252 (whose
superset of Latin-1 covers the Western European exports we meet), and a file that mixes both has
each line decoded on its own, so one mis-encoded line does not garble the rest.
"""

from __future__ import annotations

import codecs
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Decoded:
    text: str
    encoding: str
    note: str = ""


def _fallback(line: bytes) -> str:
    try:
        return line.decode("cp1252")
    except UnicodeDecodeError:
        return line.decode("latin-1")


def decode(data: bytes, encoding: str | None = None) -> Decoded:
    """Decode ``data`` with ``encoding`` if given, else by BOM, UTF-8, then cp1252 per line."""
    if encoding:
        try:
            return Decoded(data.decode(encoding).lstrip("\ufeff"), encoding)
        except (UnicodeDecodeError, LookupError) as exc:
            raise UnicodeError(f"cannot decode as {encoding}: {exc}") from exc
    if data.startswith(codecs.BOM_UTF8):
        data = data[len(codecs.BOM_UTF8) :]
    elif data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        try:
            return Decoded(data.decode("utf-16").lstrip("\ufeff"), "utf-16")
        except UnicodeDecodeError:
            pass
    try:
        return Decoded(data.decode("utf-8"), "utf-8")
    except UnicodeDecodeError:
        pass
    lines = data.split(b"\n")
    utf8_lines = bad_lines = 0
    out: list[str] = []
    for line in lines:
        try:
            text = line.decode("utf-8")
            if not line.isascii():
                utf8_lines += 1
        except UnicodeDecodeError:
            bad_lines += 1
            text = _fallback(line)
        out.append(text)
    if utf8_lines == 0:
        return Decoded(_fallback(data), "cp1252", "not UTF-8: decoded as cp1252")
    return Decoded(
        "\n".join(out), "mixed", f"mixed encodings: {bad_lines} line(s) not UTF-8 decoded as cp1252"
    )
