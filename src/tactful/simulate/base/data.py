"""The simulator's literal catalogues, read once from ``simulate/data/`` (shipped as package data).

Plain tables (billers, services, personas, descriptor templates, payer names) live in CSV and TOML
files so a reader can see and edit them without reading code; the logic that draws from them stays
in Python. A broken file is a bug of the package, reported with its file and line.

>>> rows = csv_rows("billers.csv")
>>> rows[0]["name"], rows[0]["country"]
('Con Edison', 'US')
"""

from __future__ import annotations

import csv
import tomllib
from functools import cache
from importlib import resources
from typing import Any


@cache
def text(name: str) -> str:
    """The text of ``simulate/data/<name>``."""
    return resources.files("tactful.simulate").joinpath(f"data/{name}").read_text("utf-8")


@cache
def toml(name: str) -> dict[str, Any]:
    """``simulate/data/<name>`` parsed as TOML."""
    return tomllib.loads(text(name))


def csv_rows(name: str) -> list[dict[str, str]]:
    """The records of ``simulate/data/<name>``, each with its columns by name, in file order."""
    return list(csv.DictReader(text(name).splitlines()))


def number(value: str) -> int | float:
    """A CSV cell as the number it was written as: ``3`` an int, ``0.12`` or ``3.0`` a float."""
    return int(value) if value.lstrip("-").isdigit() else float(value)


def bad_row(name: str, line: int, exc: Exception) -> ValueError:
    """The error for a row of a shipped data file that cannot be read (``line`` counts the
    header as line 1)."""
    return ValueError(f"simulate/data/{name}:{line}: {exc!r}")
