"""A bank adds a detector from its own package, through the ``tactful.detectors`` entry point,
without touching Tactful; the catalog runs it under the same rules as the shipped ones."""

from __future__ import annotations

import importlib
import sys
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from tactful.insights.catalog import Catalog, with_ids
from tactful.insights.inputs import InsightInputs
from tactful.insights.spec import detectors

MODULE = '''
import polars as pl
from tactful.domain.actions import ActionFamily
from tactful.insights.spec import DetectorSpec, FactKind, Urgency, findings_frame

class ManyCardPayments:
    spec = DetectorSpec(
        id="bank_many_card_payments", family=ActionFamily.PERIODIC_SUMMARY,
        facts={"count": FactKind.COUNT}, needs=frozenset({"transactions"}),
        description="more than 5 card payments in a week", action="open_spending")

    def detect(self, data):
        week = data.posted.filter((pl.col("channel") == "card")
                                  & (pl.col("booked_on") > data.day(-7)))
        hits = week.group_by("customer_id").agg(pl.len().alias("count")).filter(
            pl.col("count") > 5).with_columns(
            pl.lit("cards").alias("subject"), pl.lit("week").alias("period"),
            pl.lit(0.4).alias("relevance"), pl.lit(Urgency.LOW.value).alias("urgency"))
        return findings_frame(hits, self.spec, {"count": pl.col("count")})

DETECTOR = ManyCardPayments()
'''


@pytest.fixture
def bank_package(tmp_path: Path) -> Iterator[Path]:
    (tmp_path / "acme_bank_detectors.py").write_text(MODULE)
    info = tmp_path / "acme_bank_detectors-1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: acme-bank-detectors\n"
                                   "Version: 1.0\n")
    (info / "entry_points.txt").write_text(
        "[tactful.detectors]\nbank_many_card_payments = acme_bank_detectors:DETECTOR\n")
    sys.path.insert(0, str(tmp_path))
    importlib.invalidate_caches()
    detectors._loaded_entry_points = False
    try:
        yield tmp_path
    finally:
        sys.path.remove(str(tmp_path))
        detectors._items.pop("bank_many_card_payments", None)
        detectors._loaded_entry_points = False
        sys.modules.pop("acme_bank_detectors", None)


def test_an_installed_detector_joins_the_catalog(bank_package: Path,
                                                 inputs: InsightInputs) -> None:
    catalog = Catalog.default()
    assert "bank_many_card_payments" in catalog.specs
    catalog.renderer.add("bank_many_card_payments", "en", {
        "title": "A busy week", "message": "{{ count }} card payments this week.",
        "call_to_action": "See spending",
        "explanation": "Because you paid by card {{ count }} times in seven days."})
    found = catalog.findings(inputs)
    mine = found.filter(found["detector"] == "bank_many_card_payments")
    assert mine.height > 0
    [insight, *_] = catalog.render(with_ids(mine), inputs, datetime.now(UTC))
    assert insight.explanation.startswith("Because you paid by card")
