"""The engine's taxonomy: Plaid-style codes, sensitivity flags, and agreement with the simulator."""

from __future__ import annotations

import pytest

from tactful.enrich import taxonomy
from tactful.enrich.taxonomy import DETAILED, UNCATEGORIZED, is_sensitive, primary_of
from tactful.errors import ValidationError
from tactful.simulate.base import taxonomy as simulated


def test_every_simulator_code_is_in_the_engine_taxonomy() -> None:
    assert set(simulated.DETAILED) <= DETAILED
    assert set(simulated.TAXONOMY) == taxonomy.PRIMARY


def test_every_detailed_code_starts_with_its_primary() -> None:
    for detailed in DETAILED:
        assert detailed.startswith(primary_of(detailed) + "_")


@pytest.mark.parametrize(
    ("detailed", "sensitive"),
    [
        ("MEDICAL_DENTAL_CARE", True),
        ("MEDICAL_PHARMACIES_AND_SUPPLEMENTS", True),
        ("ENTERTAINMENT_CASINOS_AND_GAMBLING", True),
        ("GOVERNMENT_AND_NON_PROFIT_DONATIONS", True),
        ("FOOD_AND_DRINK_COFFEE", False),
        (UNCATEGORIZED, False),
    ],
)
def test_sensitive_flags(detailed: str, sensitive: bool) -> None:
    assert is_sensitive(detailed) is sensitive
    assert (taxonomy.sensitive_reason(detailed) is not None) is sensitive


def test_uncategorized_is_its_own_primary() -> None:
    assert primary_of(UNCATEGORIZED) == UNCATEGORIZED
    assert UNCATEGORIZED not in DETAILED


def test_unknown_code_is_refused_by_name() -> None:
    with pytest.raises(ValidationError, match="unknown detailed category 'FOOD_AND_DRINK_PIZZA'"):
        primary_of("FOOD_AND_DRINK_PIZZA")
