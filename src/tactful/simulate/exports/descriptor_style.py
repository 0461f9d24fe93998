"""How one world's card processors print merchants, drawn per seed (data/descriptor_styles.toml).

Why per seed: an engine tuned on one bank's descriptors ("SQ *" before every café, names cut at
22 characters, upper case) should be scored on banks that print them differently. The options
and their sources (ISO 8583 field 43; the facilitators' own prefixes) are in the data file.

>>> style = draw_style(3, unseen=False)
>>> style.truncate in (0, 22, 25) and style.case in ("upper", "title")
True
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any, Final

import numpy as np

from tactful.simulate.base.rng import Keyed

COUNTRIES: Final = ("US", "GB", "DE", "FR", "ES", "NL")


@dataclass(frozen=True, slots=True)
class DescriptorStyle:
    """The printing conventions of one world."""

    truncate: int
    """Characters of the merchant part kept (0: all)."""
    case: str
    """``upper`` or ``title``."""
    terminal_id: float
    """Share of independents (and unseen chains) printing a terminal id."""
    city_suffix: float
    """Share of independents whose processor appends the city."""
    processor_share: float
    """Share of independents paid through a payment facilitator."""
    processors: dict[str, tuple[str, ...]]
    """Country -> the facilitator prefixes of this world, as printed."""

    def apply_case(self, text: str) -> str:
        return text.title() if self.case == "title" else text.upper()


@cache
def _data() -> dict[str, Any]:
    text = (
        resources.files("tactful.simulate")
        .joinpath("data/descriptor_styles.toml")
        .read_text("utf-8")
    )
    return tomllib.loads(text)


def _pick(r: Keyed, name: str, key: int = 0) -> Any:
    spec = _data()[name]
    weights = np.asarray(spec["weights"], dtype=np.float64)
    i = int(r.categorical(f"style.{name}", weights / weights.sum(), np.array([key]))[0])
    return spec["values"][i]


def _unseen_processors(r: Keyed, country: int) -> tuple[str, ...]:
    spec = _data()["unseen_processors"]
    letters, seps = spec["letters"], spec["separators"]
    n = 2 + int(r.integers("style.up.n", 3, np.array([country]))[0])
    out = []
    for k in range(n):
        idx = r.integers("style.up.l", len(letters), np.array([country]), np.arange(4) + 10 * k)
        sep = seps[int(r.integers("style.up.s", len(seps), np.array([country]), np.array([k]))[0])]
        out.append("".join(letters[int(i)] for i in idx) + sep)
    return tuple(out)


@cache
def draw_style(seed: int, unseen: bool) -> DescriptorStyle:
    """The style of the world ``seed`` (the unseen world uses invented facilitators)."""
    r = Keyed(seed)
    processors: dict[str, tuple[str, ...]] = {}
    for ci, country in enumerate(COUNTRIES):
        if unseen:
            processors[country] = _unseen_processors(r, ci)
            continue
        options: list[list[str]] = _data()["processors"][country]
        keep = r.bernoulli(
            "style.proc.keep", 0.7, np.full(len(options), ci), np.arange(len(options))
        )
        if keep.sum() < 2:
            keep[:2] = True
        chosen = []
        for k in np.flatnonzero(keep):
            spellings = options[int(k)]
            j = int(
                r.integers("style.proc.spell", len(spellings), np.array([ci]), np.array([k]))[0]
            )
            chosen.append(spellings[j])
        processors[country] = tuple(chosen)
    return DescriptorStyle(
        truncate=int(_pick(r, "truncate")),
        case=str(_pick(r, "case")),
        terminal_id=float(_pick(r, "terminal_id")),
        city_suffix=float(_pick(r, "city_suffix")),
        processor_share=float(_pick(r, "processor_share")),
        processors=processors,
    )
