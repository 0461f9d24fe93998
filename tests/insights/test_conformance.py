"""One suite over every registered detector -- the shipped catalog and any a bank installs
through the ``tactful.detectors`` entry point: each declares itself fully, returns findings of
the declared shape, and renders in every language it ships without a blank or a leftover."""

from __future__ import annotations

import json
import re
from dataclasses import replace
from datetime import date, timedelta

import polars as pl
import pytest

import tactful.insights.detectors  # noqa: F401  (registers the shipped catalog)
from tactful.insights.catalog import Catalog
from tactful.insights.inputs import InsightInputs, as_of_day
from tactful.insights.render import Renderer
from tactful.insights.spec import FINDINGS, Detector, FactKind, detectors

ALL = [d for _, d in detectors]
SHIPPED = {d.spec.id for d in ALL if type(d).__module__.startswith("tactful.insights.detectors")}
COMPLETE_LANGUAGES = ("en", "de")
RENDERER = Renderer.default()


def test_the_catalog_covers_the_issue() -> None:
    assert len(SHIPPED) >= 19
    assert {"shortfall", "duplicate_charge", "price_increase", "upcoming_bill",
            "fees_paid"} <= {d.spec.id for d in ALL if d.spec.money_critical}


@pytest.fixture(scope="module")
def found(inputs: InsightInputs) -> dict[str, pl.DataFrame]:
    """Each detector over the last four months, every ten days: rare events (a late salary, a
    new subscription) need more than one day of a small bank to show up."""
    days = [inputs.as_of - timedelta(days=10 * k) for k in range(12)]
    out: dict[str, list[pl.DataFrame]] = {d.spec.id: [] for d in ALL}
    for day in days:
        accounts, transactions = as_of_day(inputs.accounts, inputs.transactions, day)
        data = replace(inputs, as_of=day, accounts=accounts, transactions=transactions)
        for d in ALL:
            out[d.spec.id].append(d.detect(data).with_columns(pl.lit(str(day)).alias("_day")))
    return {k: pl.concat(v).unique(subset=["customer_id", "subject", "period"], keep="first")
            .drop("_day") for k, v in out.items()}


@pytest.mark.parametrize("detector", ALL, ids=lambda d: d.spec.id)
def test_detector_declares_itself(detector: Detector) -> None:
    spec = detector.spec
    assert isinstance(detector, Detector)
    assert spec.description and spec.action
    assert spec.needs <= {f for f in InsightInputs.__dataclass_fields__}
    for language in COMPLETE_LANGUAGES if spec.id in SHIPPED else ("en",):
        assert RENDERER.has(spec.id, language), f"{spec.id} has no {language} messages"


@pytest.mark.parametrize("detector", ALL, ids=lambda d: d.spec.id)
def test_findings_have_the_declared_shape(
    detector: Detector, found: dict[str, pl.DataFrame], inputs: InsightInputs
) -> None:
    frame = found[detector.spec.id]
    assert dict(frame.schema) == dict(FINDINGS)
    if detector.spec.id in SHIPPED:
        assert frame.height > 0, f"{detector.spec.id} found nothing on the test bank"
    assert frame.get_column("detector").unique().to_list() in ([], [detector.spec.id])
    assert frame.get_column("relevance").is_between(0, 1).all()
    assert set(frame.get_column("urgency")) <= {"low", "normal", "high"}
    assert frame.select("customer_id", "subject", "period").is_duplicated().sum() == 0
    known = set(inputs.customers.get_column("customer_id"))
    assert set(frame.get_column("customer_id")) <= known
    for facts in map(json.loads, frame.get_column("facts")):
        assert set(facts) == set(detector.spec.facts)
        for name, kind in detector.spec.facts.items():
            value = facts[name]
            if value is None:
                assert name in detector.spec.optional_facts, f"{name} is null"
            elif kind is FactKind.MONEY:
                assert isinstance(value, int), f"{name}={value!r}: money is integer minor units"
            elif kind is FactKind.DATE:
                date.fromisoformat(value)
            elif kind in (FactKind.COUNT, FactKind.DAYS):
                assert isinstance(value, int)
            elif kind is FactKind.PERCENT:
                assert isinstance(value, float | int)


@pytest.mark.parametrize("detector", ALL, ids=lambda d: d.spec.id)
@pytest.mark.parametrize("locale", ["en_GB", "en_US", "de_DE", "es_ES"])
def test_every_finding_renders(
    detector: Detector, locale: str, found: dict[str, pl.DataFrame]
) -> None:
    for facts in found[detector.spec.id].get_column("facts").head(25):
        text = RENDERER.render(detector.spec.id, facts, locale)
        for part in (text.title, text.message, text.call_to_action, text.explanation):
            assert part and "{" not in part and "None" not in part, part
        because = {"en": "Because ", "de": "Weil "}[text.language]
        assert text.explanation.startswith(because) and text.explanation.endswith(".")
        if text.language == "en":  # one sentence: no full stop followed by a new sentence
            assert not re.search(r"\.\s+[A-Z]", text.explanation), text.explanation
        assert text.language == ("de" if locale.startswith("de") else "en")


def test_findings_are_deterministic(inputs: InsightInputs) -> None:
    catalog = Catalog.default()
    a, b = catalog.findings(inputs), catalog.findings(inputs)
    assert a.sort(a.columns).equals(b.sort(b.columns))
