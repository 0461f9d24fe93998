"""The configuration refuses bad input loudly; the public surface is exactly ``__all__``."""

from __future__ import annotations

import types
from datetime import date
from typing import Any

import pytest

import tactful.simulate as sim
from tactful.errors import ValidationError
from tactful.simulate import SimulationConfig


def test_public_surface_is_all() -> None:
    """Every public name of ``tactful.simulate`` is in ``__all__``; its subpackages and modules
    (``base``, ``people``, ``money``, ``truth``, ``world`` ...) are reached by their own paths."""
    public = {
        n
        for n in dir(sim)
        if not n.startswith("_") and not isinstance(getattr(sim, n), types.ModuleType)
    }
    assert public == set(sim.__all__)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"customers": 0}, "customers must be at least 1, got 0"),
        ({"customers": 1.5}, "customers must be an integer, got 1.5"),
        ({"months": 0}, "months must be between 1 and 120, got 0"),
        ({"months": 121}, "months must be between 1 and 120, got 121"),
        ({"seed": -1}, "seed must be >= 0, got -1"),
        ({"seed": True}, "seed must be an integer, got True"),
        ({"chunk_size": 0}, "chunk_size must be at least 1, got 0"),
        (
            {"start": date(2024, 1, 15)},
            "start must be the first day of a month, got datetime.date(2024, 1, 15)",
        ),
        ({"region_weights": (1.0, 1.0)}, "region_weights must have 3 entries, got 2"),
        (
            {"region_weights": (0.0, 0.0, 0.0)},
            "region_weights must be non-negative and not all zero",
        ),
        ({"persona_weights": (1.0,)}, "persona_weights must have 7 entries, got 1"),
    ],
)
def test_invalid_config(kwargs: dict[str, Any], message: str) -> None:
    with pytest.raises(ValidationError) as err:
        SimulationConfig(**kwargs)
    assert str(err.value).startswith(message)


def test_window() -> None:
    c = SimulationConfig(customers=1, months=14, start=date(2023, 11, 1))
    assert c.end == date(2025, 1, 1)
    assert c.n_days == 427


def test_unknown_format(tmp_path: Any) -> None:
    with pytest.raises(
        ValidationError, match="format must be one of parquet, csv, ofx, camt053; got 'xlsx'"
    ):
        sim.simulate(SimulationConfig(customers=1, months=1), tmp_path, "xlsx")
