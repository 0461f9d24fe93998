"""Parameters of everyday card spending, one entry per kind of merchant.

``share`` is the kind's typical share of net income and ``ticket`` its median ticket in US
dollars (scaled by the region's price level); together they give the number of purchases.
Shares are set so that the categories add up to the BLS Consumer Expenditure Survey's profile
(food at home ~8% and food away ~5% of spending, gasoline ~4%, apparel ~3%, entertainment ~5%)
and to ONS Family Spending for the UK; they are approximate and documented in
docs/simulator.md, "Everyday spending". Weekday, hour and season profiles are relative weights.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

import numpy as np
from numpy.typing import NDArray

_Z = 0.02


def _hours(spec: dict[int, float], floor: float = _Z) -> tuple[float, ...]:
    return tuple(spec.get(h, floor) for h in range(24))


HOURS: Final[dict[str, tuple[float, ...]]] = {
    "shop": _hours(
        {
            7: 0.2,
            8: 0.5,
            9: 0.8,
            10: 1,
            11: 1.2,
            12: 1.3,
            13: 1.1,
            14: 1,
            15: 1,
            16: 1.2,
            17: 1.5,
            18: 1.5,
            19: 1.2,
            20: 0.8,
            21: 0.4,
            22: 0.15,
            23: 0.05,
        },
        0.005,
    ),
    "meal": _hours(
        {
            11: 0.5,
            12: 2,
            13: 1.6,
            14: 0.6,
            15: 0.2,
            16: 0.2,
            17: 0.5,
            18: 1.5,
            19: 2,
            20: 1.6,
            21: 0.8,
            22: 0.3,
            23: 0.1,
        },
        0.01,
    ),
    "morning": _hours(
        {
            6: 0.5,
            7: 1.5,
            8: 2,
            9: 1.5,
            10: 1,
            11: 0.6,
            12: 0.5,
            13: 0.5,
            14: 0.5,
            15: 0.6,
            16: 0.4,
            17: 0.2,
            18: 0.1,
        },
        0.005,
    ),
    "evening": _hours(
        {0: 0.6, 1: 0.3, 2: 0.1, 17: 0.3, 18: 0.8, 19: 1.2, 20: 1.5, 21: 1.6, 22: 1.5, 23: 1.0},
        0.01,
    ),
    "day": _hours(
        {
            7: 0.6,
            8: 1,
            9: 0.9,
            10: 0.8,
            11: 0.8,
            12: 0.9,
            13: 0.8,
            14: 0.8,
            15: 0.9,
            16: 1,
            17: 1.1,
            18: 1,
            19: 0.7,
            20: 0.4,
            21: 0.2,
        },
        0.02,
    ),
    "commute": _hours(
        {
            6: 0.4,
            7: 1.5,
            8: 2,
            9: 1,
            10: 0.4,
            11: 0.3,
            12: 0.4,
            13: 0.3,
            14: 0.3,
            15: 0.5,
            16: 0.8,
            17: 1.8,
            18: 1.5,
            19: 0.6,
            20: 0.3,
            21: 0.3,
            22: 0.2,
        },
        0.03,
    ),
    "online": _hours(
        {
            0: 0.3,
            1: 0.15,
            6: 0.1,
            7: 0.3,
            8: 0.5,
            9: 0.7,
            10: 0.7,
            11: 0.7,
            12: 0.9,
            13: 0.7,
            14: 0.7,
            15: 0.7,
            16: 0.7,
            17: 0.8,
            18: 1,
            19: 1.2,
            20: 1.4,
            21: 1.4,
            22: 1.1,
            23: 0.6,
        },
        0.05,
    ),
    "night": _hours(
        {
            0: 0.8,
            1: 0.7,
            2: 0.5,
            3: 0.2,
            6: 0.3,
            7: 0.8,
            8: 1,
            9: 0.6,
            12: 0.5,
            13: 0.5,
            14: 0.5,
            15: 0.5,
            16: 0.6,
            17: 0.8,
            18: 1,
            19: 0.9,
            20: 0.8,
            21: 0.9,
            22: 1,
            23: 0.9,
        },
        0.1,
    ),
    "office": _hours(
        {8: 0.5, 9: 1, 10: 1, 11: 1, 12: 0.7, 13: 0.9, 14: 1, 15: 1, 16: 1, 17: 0.5}, 0.0
    ),
}

SEASONS: Final[dict[str, tuple[float, ...]]] = {
    "flat": (1,) * 12,
    "food": (0.95, 0.93, 1, 1, 1, 1, 1, 1, 0.98, 1, 1.02, 1.18),
    "going_out": (0.85, 0.9, 1, 1, 1.05, 1.05, 1.1, 1.1, 1, 1, 0.95, 1.2),
    "retail": (1.05, 0.85, 0.95, 0.95, 1, 1, 1.05, 1, 0.95, 1, 1.35, 1.6),
    "online": (0.95, 0.85, 0.9, 0.9, 0.95, 0.95, 1.15, 0.95, 0.95, 1, 1.5, 1.4),
    "electronics": (0.9, 0.8, 0.85, 0.85, 0.85, 0.85, 1, 0.95, 0.95, 0.95, 1.8, 1.6),
    "garden": (0.6, 0.7, 1.1, 1.5, 1.5, 1.3, 1.1, 1, 0.9, 0.9, 0.8, 0.8),
    "giving": (0.7, 0.7, 0.8, 0.8, 0.8, 0.8, 0.8, 0.8, 0.8, 0.9, 1.3, 2.5),
    "fuel": (0.95, 0.95, 1, 1, 1.02, 1.05, 1.08, 1.08, 1, 1, 0.97, 0.95),
}

WEEK: Final[dict[str, tuple[float, ...]]] = {
    "flat": (1,) * 7,
    "groceries": (1, 0.9, 0.9, 1, 1.2, 1.5, 0.8),
    "weekend": (0.8, 0.8, 0.85, 0.9, 1.2, 1.6, 1.1),
    "nights_out": (0.5, 0.6, 0.8, 1.2, 1.8, 1.8, 0.6),
    "dining": (0.7, 0.7, 0.8, 0.9, 1.4, 1.6, 1.0),
    "workdays": (1.2, 1.2, 1.2, 1.2, 1.1, 0.6, 0.5),
    "office": (1.2, 1.2, 1.2, 1.2, 1.2, 0.2, 0),
    "salon": (0.3, 1.1, 1.1, 1.2, 1.3, 1.5, 0.1),
}


@dataclass(frozen=True, slots=True)
class SpendKind:
    name: str
    share: float
    ticket: float
    sigma: float
    week: str
    hours: str
    season: str
    participation: float
    daily: bool = True
    """Bought where one lives: suppressed while the customer travels."""


KINDS: Final[tuple[SpendKind, ...]] = (
    SpendKind("groceries", 0.085, 42, 0.6, "groceries", "shop", "food", 1.0),
    SpendKind("restaurant", 0.035, 45, 0.6, "dining", "meal", "going_out", 0.9),
    SpendKind("fast_food", 0.018, 13, 0.5, "weekend", "meal", "flat", 0.85),
    SpendKind("coffee", 0.008, 5.5, 0.35, "workdays", "morning", "flat", 0.6),
    SpendKind("bar", 0.010, 28, 0.6, "nights_out", "evening", "going_out", 0.45),
    SpendKind("fuel", 0.035, 52, 0.35, "flat", "day", "fuel", 0.0),
    SpendKind("transit", 0.012, 3.5, 0.4, "workdays", "commute", "flat", 0.0),
    SpendKind("rideshare", 0.008, 19, 0.5, "dining", "night", "going_out", 0.45),
    SpendKind("parking", 0.003, 7, 0.6, "workdays", "day", "flat", 0.0),
    SpendKind("clothing", 0.022, 55, 0.7, "weekend", "shop", "retail", 0.9),
    SpendKind("marketplace", 0.030, 32, 0.8, "flat", "online", "online", 0.85, False),
    SpendKind("superstore", 0.020, 55, 0.7, "weekend", "shop", "retail", 0.7),
    SpendKind("electronics", 0.008, 110, 0.9, "weekend", "shop", "electronics", 0.4, False),
    SpendKind("pharmacy", 0.008, 17, 0.6, "flat", "shop", "flat", 0.85),
    SpendKind("doctor", 0.006, 85, 0.7, "office", "office", "flat", 0.4),
    SpendKind("dentist", 0.003, 140, 0.6, "office", "office", "flat", 0.25),
    SpendKind("hair_beauty", 0.008, 42, 0.5, "salon", "shop", "flat", 0.7),
    SpendKind("entertainment", 0.010, 28, 0.6, "weekend", "evening", "going_out", 0.6),
    SpendKind("hardware", 0.010, 60, 0.9, "weekend", "shop", "garden", 0.5),
    SpendKind("furniture", 0.006, 180, 0.9, "weekend", "shop", "retail", 0.3),
    SpendKind("pets", 0.005, 35, 0.6, "weekend", "shop", "flat", 0.35),
    SpendKind("donations", 0.004, 30, 0.8, "flat", "online", "giving", 0.3, False),
    SpendKind("video_games", 0.004, 20, 0.8, "weekend", "online", "online", 0.25, False),
    SpendKind("books", 0.003, 18, 0.5, "weekend", "shop", "retail", 0.35),
    SpendKind("convenience", 0.006, 9, 0.5, "flat", "day", "flat", 0.6),
    SpendKind("baby", 0.0, 45, 0.6, "weekend", "shop", "flat", 0.0),
)
KIND_NAMES: Final = tuple(k.name for k in KINDS)


def profile_tables() -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.float64]]:
    """(kinds x 7) weekday, (kinds x 12) season, (kinds x 24) hour weights; weekday and season
    normalised to mean 1, hours to sum 1."""
    week = np.array([WEEK[k.week] for k in KINDS], dtype=np.float64)
    week = week / week.mean(axis=1, keepdims=True)
    season = np.array([SEASONS[k.season] for k in KINDS], dtype=np.float64)
    season = season / season.mean(axis=1, keepdims=True)
    hours = np.array([HOURS[k.hours] for k in KINDS], dtype=np.float64)
    hours = hours / hours.sum(axis=1, keepdims=True)
    return week, season, hours
