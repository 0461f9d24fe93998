"""Shard values as bytes, without pickles: how a shard and its result cross to a Spark worker.

A per-shard function's inputs and outputs are frames, plain values and small frozen dataclasses
of them (a shard's ids, its transactions, the consenting customers; an ``EnrichResult``). The
structure goes as JSON, each frame as Arrow IPC, so what crosses the wire is data that any Arrow
reader can open and nothing that runs code when read. A dataclass is rebuilt only if its type
was registered here by name (``register``), never by importing a name found in the bytes.

>>> import polars as pl
>>> value = (("c1", "c2"), pl.DataFrame({"x": [1, 2]}), frozenset({"c1"}))
>>> back = decode(encode(value))
>>> back[0], back[1].equals(value[1]), back[2]
(('c1', 'c2'), True, frozenset({'c1'}))
"""

from __future__ import annotations

import dataclasses
import io
import json
import struct
from datetime import date, datetime
from typing import Any, TypeVar

import polars as pl

from tactful.errors import ConfigError

T = TypeVar("T")

_types: dict[str, type[Any]] = {}


def register(cls: type[T]) -> type[T]:
    """Let dataclass ``cls`` cross as a shard value (under its qualified name)."""
    if not dataclasses.is_dataclass(cls):
        raise ConfigError(f"only dataclasses cross as shard values, not {cls!r}")
    _types[f"{cls.__module__}:{cls.__qualname__}"] = cls
    return cls


def _tree(value: object, frames: list[pl.DataFrame]) -> object:
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, pl.DataFrame):
        frames.append(value)
        return {"frame": len(frames) - 1}
    if isinstance(value, tuple):
        return {"tuple": [_tree(v, frames) for v in value]}
    if isinstance(value, list):
        return {"list": [_tree(v, frames) for v in value]}
    if isinstance(value, frozenset):
        return {"frozenset": [_tree(v, frames) for v in sorted(value)]}
    if isinstance(value, datetime):
        return {"datetime": value.isoformat()}
    if isinstance(value, date):
        return {"date": value.isoformat()}
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        name = f"{type(value).__module__}:{type(value).__qualname__}"
        if name not in _types:
            raise ConfigError(f"shard value type {name} is not registered (batch.codec.register)")
        fields = {f.name: _tree(getattr(value, f.name), frames) for f in dataclasses.fields(value)}
        return {"dataclass": name, "fields": fields}
    raise ConfigError(f"a shard value cannot hold {type(value).__name__}")


def _untree(node: Any, frames: list[pl.DataFrame]) -> Any:
    if not isinstance(node, dict):
        return node
    (key, body), *rest = node.items()
    if key == "frame":
        return frames[body]
    if key == "tuple":
        return tuple(_untree(v, frames) for v in body)
    if key == "list":
        return [_untree(v, frames) for v in body]
    if key == "frozenset":
        return frozenset(_untree(v, frames) for v in body)
    if key == "datetime":
        return datetime.fromisoformat(body)
    if key == "date":
        return date.fromisoformat(body)
    if key == "dataclass":
        cls = _types.get(body)
        if cls is None:
            raise ConfigError(f"shard value type {body} is not registered (batch.codec.register)")
        return cls(**{k: _untree(v, frames) for k, v in rest[0][1].items()})
    raise ConfigError(f"unknown shard value node {key!r}")


_LEN = struct.Struct("<Q")


def encode(value: object) -> bytes:
    """``value`` as: the JSON structure, then each frame as an Arrow IPC stream, each part
    preceded by its length."""
    frames: list[pl.DataFrame] = []
    head = json.dumps(_tree(value, frames), separators=(",", ":")).encode()
    out = io.BytesIO()
    out.write(_LEN.pack(len(head)) + head)
    for frame in frames:
        buf = io.BytesIO()
        frame.write_ipc_stream(buf, compression="uncompressed")
        part = buf.getvalue()
        out.write(_LEN.pack(len(part)) + part)
    return out.getvalue()


def decode(data: bytes) -> Any:
    """The value ``encode`` wrote."""
    view = memoryview(data)
    parts: list[memoryview] = []
    at = 0
    while at < len(view):
        (size,) = _LEN.unpack_from(view, at)
        at += _LEN.size
        parts.append(view[at : at + size])
        at += size
    if not parts:
        raise ConfigError("an empty shard value")
    frames = [pl.read_ipc_stream(io.BytesIO(part)) for part in parts[1:]]
    return _untree(json.loads(bytes(parts[0])), frames)
