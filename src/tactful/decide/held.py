"""What a long-running process keeps in memory per store: the feed's evidence and feature cache.

Keyed weakly by the ``Store`` object, so a store closed and dropped takes its state with it, and
two stores in one process (a test's, the demo's) never share numbers. Made on first use, under a
lock: the API serves requests from several threads.
"""

from __future__ import annotations

import threading
import weakref
from collections.abc import Callable
from typing import TYPE_CHECKING, Generic, TypeVar

if TYPE_CHECKING:
    from tactful.store.store import Store

T = TypeVar("T")


class PerStore(Generic[T]):
    """One ``T`` per store, made by ``make`` the first time the store asks."""

    def __init__(self, make: Callable[[], T]) -> None:
        self._make = make
        self._held: weakref.WeakKeyDictionary[Store, T] = weakref.WeakKeyDictionary()
        self._lock = threading.Lock()

    def of(self, store: Store) -> T:
        with self._lock:
            held = self._held.get(store)
            if held is None:
                held = self._held[store] = self._make()
            return held
