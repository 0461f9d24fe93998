"""``make eval``'s unseen-merchants bank read from its descriptions alone: the same
``words_alone`` path as the ordinary bank's section, on the rows the store holds."""

from __future__ import annotations

from pathlib import Path

import pytest

from tactful.evaluation.bank import build_bank
from tactful.evaluation.unseen import unseen_words_alone


def test_the_unseen_bank_is_scored_from_its_descriptions_alone(tmp_path: Path) -> None:
    bank = build_bank(tmp_path, customers=25, months=2, unseen_merchants=True)
    try:
        section = unseen_words_alone(bank)
    finally:
        bank.store.close()
    assert section.title == (
        "Categories on unseen merchants from descriptions alone (simulated bank)"
    )
    assert "unseen merchants (25 customers x 2 months" in section.data
    figures = {m.name: m.value for m in section.metrics}
    assert figures["abstention (uncategorized)"] == pytest.approx(
        1 - figures["coverage (categorized)"]
    )
    assert 0.0 < figures["category accuracy, primary (all rows)"] <= (
        figures["coverage (categorized)"]
    )
    assert figures["category accuracy, primary (categorized rows)"] >= 0.8, figures
    sources = section.tables[0][1]
    assert "| uncategorized |" in sources and "| rule |" in sources
