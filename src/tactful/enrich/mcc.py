"""ISO 18245 merchant category codes -> detailed category.

``data/mcc_categories.csv`` holds ranges (airlines 3000-3299, car rental 3300-3499, hotels
3500-3999, the ISO blocks) and single codes; the narrowest range containing a code wins. A few
codes are mapped to ``UNCATEGORIZED`` on purpose: they are ambiguous (6012, "financial
institutions", carries top-ups and transfers alike) or sensitive without a category of their own
(5967 adult teleservices, 7273 dating and escort services).

>>> mcc_category("5411")
'FOOD_AND_DRINK_GROCERIES'
>>> mcc_category("3058")
'TRAVEL_FLIGHTS'
>>> mcc_category("ABCD") is None
True
"""

from __future__ import annotations

import csv
from functools import cache
from importlib import resources
from typing import Final

import polars as pl

from tactful.enrich.taxonomy import DETAILED, UNCATEGORIZED
from tactful.errors import ConfigError

__all__ = ["SENSITIVE_MCC", "mcc_category", "mcc_table"]

SENSITIVE_MCC: Final[frozenset[str]] = frozenset({"5967", "7273", "7995", "7800", "7801", "7802"})
"""Codes whose mere presence is sensitive, whatever category they map to."""


@cache
def _mapping() -> dict[str, str]:
    text = resources.files("tactful.enrich").joinpath("data/mcc_categories.csv").read_text("utf-8")
    spans: list[tuple[int, int, int, str]] = []
    for number, row in enumerate(csv.DictReader(text.splitlines()), start=2):
        lo, hi, cat = int(row["mcc_from"]), int(row["mcc_to"]), row["category_detailed"].strip()
        if cat != UNCATEGORIZED and cat not in DETAILED:
            raise ConfigError(f"mcc_categories.csv:{number}: unknown category {cat!r}")
        if lo > hi:
            raise ConfigError(f"mcc_categories.csv:{number}: range {lo}-{hi} is empty")
        spans.append((hi - lo, lo, hi, cat))
    out: dict[str, str] = {}
    for _, lo, hi, cat in sorted(spans, reverse=True):  # widest first, narrower overwrite
        for code in range(lo, hi + 1):
            out[f"{code:04d}"] = cat
    return out


def mcc_category(mcc: str | None) -> str | None:
    """The detailed category of ``mcc`` (``UNCATEGORIZED`` when deliberately ambiguous)."""
    if mcc is None:
        return None
    return _mapping().get(mcc.strip())


@cache
def mcc_table() -> pl.DataFrame:
    """mcc (4-char string) -> mcc_category_detailed, for joins."""
    mapping = _mapping()
    return pl.DataFrame(
        {"mcc": list(mapping), "mcc_category_detailed": list(mapping.values())},
        schema={"mcc": pl.String, "mcc_category_detailed": pl.String},
    )
