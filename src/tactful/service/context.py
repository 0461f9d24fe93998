"""The store a face works on, opened through the application layer so a face never imports
the store itself (the import contracts in pyproject hold it to that).

A command of the command line works in one ``session``: the store is opened (and migrated) when
the command starts and closed when it ends, however it ends, so no command leaves a pool of
connections behind it. The API opens its store once per process (``open_store``) and closes it
at shutdown.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from tactful.store.store import Store

__all__ = ["Store", "StoreStatus", "open_store", "ready", "session", "status", "upgrade"]


def open_store(url: str | None = None) -> Store:
    """The store at ``url`` (default: the configured one), migrated to the current schema."""
    return Store.open(url)


@contextmanager
def session(url: str | None = None, *, migrate: bool = True) -> Iterator[Store]:
    """The store at ``url`` for the length of one command, closed when the block ends."""
    store = Store.open(url, migrate=migrate)
    try:
        yield store
    finally:
        store.close()


def ready(store: Store) -> bool:
    """True when the store answers and is at the schema this engine expects."""
    from tactful.errors import StoreError

    try:
        return store.is_current()
    except StoreError:
        return False


@dataclass(frozen=True)
class StoreStatus:
    url: str
    revision: str | None
    expected: str
    counts: dict[str, int]
    """Rows per table; empty when the store has no schema yet."""


def status(store: Store) -> StoreStatus:
    """Where the store's schema is, where this code expects it, and how much it holds."""
    from tactful.store.engine import head_revision

    revision = store.revision()
    return StoreStatus(store.url, revision, head_revision(), store.counts() if revision else {})


def upgrade(store: Store, *, revision: str = "head") -> str | None:
    """Apply the migrations up to ``revision``; the revision the store is at afterwards."""
    store.upgrade(revision)
    return store.revision()
