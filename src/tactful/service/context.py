"""The store a face works on, opened through the application layer so a face never imports
the store itself (the import contracts in pyproject hold it to that)."""

from __future__ import annotations

from tactful.store.store import Store

__all__ = ["Store", "open_store", "ready"]


def open_store(url: str | None = None) -> Store:
    """The store at ``url`` (default: the configured one), migrated to the current schema."""
    return Store.open(url)


def ready(store: Store) -> bool:
    """True when the store answers and is at the schema this engine expects."""
    from tactful.errors import StoreError

    try:
        return store.is_current()
    except StoreError:
        return False
