"""One registration mechanism for every kind of plug-in (readers, stores, detectors, ...).

A registry maps a short name to a class or factory. Banks add their own through the Python entry
point group ``tactful.<registry name>`` without touching Tactful; a dotted path
(``my_bank.readers:FixedWidthReader``) works too, as in Feast's backend configuration.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterator
from importlib.metadata import entry_points
from typing import Generic, TypeVar

from tactful.errors import ConfigError

T = TypeVar("T")


class Registry(Generic[T]):
    """Named plug-ins of one kind.

    >>> r: Registry[type] = Registry("examples")
    >>> @r.register("dict")
    ... class D(dict): ...
    >>> r.get("dict") is D
    True
    """

    def __init__(self, kind: str) -> None:
        self.kind = kind
        self._items: dict[str, T] = {}
        self._loaded_entry_points = False

    def register(self, name: str) -> Callable[[T], T]:
        def decorator(item: T) -> T:
            if name in self._items and self._items[name] is not item:
                raise ConfigError(f"{self.kind} plug-in {name!r} is already registered")
            self._items[name] = item
            return item

        return decorator

    def _load_entry_points(self) -> None:
        if self._loaded_entry_points:
            return
        self._loaded_entry_points = True
        for ep in entry_points(group=f"tactful.{self.kind}"):
            if ep.name not in self._items:
                self._items[ep.name] = ep.load()

    def get(self, name: str) -> T:
        if name in self._items:
            return self._items[name]
        if ":" in name:
            module_name, _, attr = name.partition(":")
            try:
                item: T = getattr(importlib.import_module(module_name), attr)
            except (ImportError, AttributeError) as exc:
                raise ConfigError(f"cannot load {self.kind} plug-in {name!r}: {exc}") from exc
            return item
        self._load_entry_points()
        if name not in self._items:
            known = ", ".join(sorted(self._items)) or "none"
            raise ConfigError(f"unknown {self.kind} plug-in {name!r} (known: {known})")
        return self._items[name]

    def names(self) -> list[str]:
        self._load_entry_points()
        return sorted(self._items)

    def __iter__(self) -> Iterator[tuple[str, T]]:
        self._load_entry_points()
        return iter(sorted(self._items.items()))
