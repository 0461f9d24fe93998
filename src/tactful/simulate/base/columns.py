"""Struct-of-arrays records: the simulator's internal tables.

Each generator appends column arrays for many customers at once; ``Builder`` checks the column
names against the record's declared fields, fills the columns a generator does not set with the
field's default and concatenates, so generators stay small and vectorised.
"""

from __future__ import annotations

from dataclasses import fields
from typing import Any, ClassVar, Generic, TypeVar

import numpy as np
from numpy.typing import ArrayLike, NDArray


class Columns:
    """Base of a dataclass whose fields are equal-length NumPy arrays.

    Subclasses declare ``SPEC``: field name -> (dtype, default value).
    """

    SPEC: ClassVar[dict[str, tuple[type[Any], int | float | bool]]]

    def __len__(self) -> int:
        first = fields(self)[0].name  # type: ignore[arg-type]
        return len(getattr(self, first))

    def take(self: C, index: NDArray[Any]) -> C:
        return type(self)(**{f.name: getattr(self, f.name)[index] for f in fields(self)})  # type: ignore[arg-type]


C = TypeVar("C", bound=Columns)


class Builder(Generic[C]):
    """Collects column parts for a ``Columns`` record."""

    def __init__(self, cls: type[C]) -> None:
        self._cls = cls
        self._parts: list[dict[str, NDArray[Any]]] = []

    def add(self, **cols: ArrayLike) -> None:
        unknown = set(cols) - set(self._cls.SPEC)
        if unknown:
            raise TypeError(f"{self._cls.__name__} has no columns {sorted(unknown)}")
        arrays = {k: np.asarray(v) for k, v in cols.items()}
        lengths = {a.shape[0] for a in arrays.values() if a.ndim > 0}
        if len(lengths) > 1:
            raise ValueError(f"{self._cls.__name__}: columns of different lengths {lengths}")
        n = lengths.pop() if lengths else 0
        if n == 0:
            return
        part: dict[str, NDArray[Any]] = {}
        for name, (dtype, default) in self._cls.SPEC.items():
            if name in arrays:
                a = arrays[name]
                part[name] = (
                    np.full(n, a, dtype=dtype) if a.ndim == 0 else a.astype(dtype, copy=False)
                )
            else:
                part[name] = np.full(n, default, dtype=dtype)
        self._parts.append(part)

    def extend(self, record: C) -> None:
        """Append a whole record without copying its arrays."""
        if len(record):
            self._parts.append({name: getattr(record, name) for name in self._cls.SPEC})

    def build(self) -> C:
        cols: dict[str, NDArray[Any]] = {}
        for name, (dtype, _) in self._cls.SPEC.items():
            if len(self._parts) == 1:
                cols[name] = self._parts[0][name]
            elif self._parts:
                cols[name] = np.concatenate([p[name] for p in self._parts])
            else:
                cols[name] = np.zeros(0, dtype=dtype)
        return self._cls(**cols)
