"""The loader's choices that a command line declares: enums in a module that imports nothing.

The CLI names them in its commands' signatures, so they are loaded by ``tactful --help``; kept
here, printing the help does not import Polars and the store with the rest of ``conflicts``.
"""

from __future__ import annotations

from enum import StrEnum

__all__ = ["ConflictPolicy"]


class ConflictPolicy(StrEnum):
    KEEP = "keep"
    REPLACE = "replace"

    @classmethod
    def parse(cls, value: str) -> ConflictPolicy:
        try:
            return cls(value)
        except ValueError:
            allowed = ", ".join(p.value for p in cls)
            raise ValueError(f"on_conflict must be one of {allowed}, got {value!r}") from None
