"""HMAC-SHA256 signatures for the few artifacts that must stay pickles.

A checksum stored next to an artifact proves nothing against whoever can write both (the
``models`` table and the model directory, or a database row): they replace the bytes and the
checksum together. A signature made with a key that lives *outside* the store and the model
directory does: without the key nobody can produce bytes this engine will unpickle.

The key is ``TACTFUL_SECRET_KEY`` (at least 32 characters; set it on every host that loads
models, the same on each), or else a random key that ``signing_key(create=True)`` writes on first
use into ``TACTFUL_SECRET_KEY_FILE`` (default ``$XDG_CONFIG_HOME/tactful/secret.key``) with mode
0600. A key file that others may read or write is refused, as is loading a signed artifact when
no key exists: a lost key means retraining the few models stored as signed pickles, never
loading them unchecked.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
import stat
from pathlib import Path

from tactful.config import get_settings
from tactful.errors import ArtifactRefused, ConfigError

__all__ = ["MIN_KEY_CHARS", "key_file", "sign", "signing_key", "verify"]

MIN_KEY_CHARS = 32


def key_file() -> Path:
    """Where the generated key is (or will be) kept."""
    configured = get_settings().secret_key_file
    if configured is not None:
        return configured
    base = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "tactful" / "secret.key"


def signing_key(*, create: bool) -> bytes | None:
    """The key: ``TACTFUL_SECRET_KEY``, else the key file, else (``create``) a new key file.

    Returns ``None`` only when nothing is configured and ``create`` is false.
    """
    settings = get_settings()
    if settings.secret_key is not None:
        value = settings.secret_key.get_secret_value()
        if len(value) < MIN_KEY_CHARS:
            raise ConfigError(
                f"TACTFUL_SECRET_KEY has {len(value)} characters; use at least {MIN_KEY_CHARS} "
                "(e.g. python -c 'import secrets; print(secrets.token_hex(32))')"
            )
        return value.encode("utf-8")
    path = key_file()
    if path.exists():
        return _read_key_file(path)
    if not create:
        return None
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:  # another process created it first: use theirs
        return _read_key_file(path)
    with os.fdopen(fd, "w", encoding="ascii") as fh:
        fh.write(secrets.token_hex(32) + "\n")
    return _read_key_file(path)


def _read_key_file(path: Path) -> bytes:
    info = path.stat()
    if info.st_mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise ConfigError(
            f"secret key file {path} is open to other users (mode "
            f"{stat.S_IMODE(info.st_mode):o}); run: chmod 600 {path}"
        )
    if hasattr(os, "getuid") and info.st_uid != os.getuid():
        raise ConfigError(f"secret key file {path} belongs to another user; refusing to use it")
    value = path.read_text("ascii").strip()
    if len(value) < MIN_KEY_CHARS:
        raise ConfigError(f"secret key file {path} holds fewer than {MIN_KEY_CHARS} characters")
    return value.encode("ascii")


def sign(data: bytes) -> str:
    """The hex HMAC-SHA256 of ``data`` under the signing key (created on first use)."""
    key = signing_key(create=True)
    if key is None:  # pragma: no cover -- create=True always yields a key or raises
        raise ConfigError("no secret key could be created")
    return hmac.new(key, data, hashlib.sha256).hexdigest()


def verify(data: bytes, signature: str, *, what: str) -> None:
    """Raise ``ArtifactRefused`` unless ``signature`` is ``data``'s HMAC under the key."""
    key = signing_key(create=False)
    if key is None:
        raise ArtifactRefused(
            f"{what} is signed, but no secret key is configured (TACTFUL_SECRET_KEY, or the key "
            f"file {key_file()}); refusing to load it. Restore the key, or retrain the model"
        )
    expected = hmac.new(key, data, hashlib.sha256).hexdigest()
    if not hmac.compare_digest(expected, signature):
        raise ArtifactRefused(
            f"{what}: signature does not match this engine's secret key (tampered, or signed "
            "with another key); refusing to load it"
        )
