"""What enrichment could not categorize, grouped by cause, with the line that would fix it."""

from __future__ import annotations

import random
from datetime import UTC, date, datetime
from pathlib import Path

import polars as pl
import pytest
from typer.testing import CliRunner

from tactful.cli import understand
from tactful.cli.app import app
from tactful.enrich.classifier import TextCategorizer
from tactful.enrich.frames import TRANSACTIONS
from tactful.enrich.gaps import explain_gaps
from tactful.enrich.pipeline import EnrichContext, categorized


def _bank(rows: list[tuple[str | None, int]]) -> pl.DataFrame:
    n = len(rows)
    return pl.DataFrame(
        {
            "id": [f"T{i}" for i in range(n)],
            "account_id": ["A1"] * n,
            "customer_id": ["C1"] * n,
            "account_type": ["checking"] * n,
            "booked_at": [datetime(2025, 3, 1, 12, tzinfo=UTC)] * n,
            "booked_on": [date(2025, 3, 1)] * n,
            "amount_minor": [a for _, a in rows],
            "currency": ["EUR"] * n,
            "description": [d for d, _ in rows],
            "counterparty": [None] * n,
            "mcc": [None] * n,
            "channel": ["other"] * n,
            "status": ["posted"] * n,
        },
        schema=dict(TRANSACTIONS),
    )


ROWS: list[tuple[str | None, int]] = [
    ("KARTENZAHLUNG QWXOR 4711 BERLIN 12.03.2025 DE89370400440532013000", -1500),
    ("KARTENZAHLUNG QWXOR 4712 BERLIN 13.03.2025", -900),
    ("ПОКУПКА МАГАЗИН", -2000),
    ("", -100),
    ("KARTENZAHLUNG STADTAPOTHEKE", -1200),
]


def test_uncategorized_rows_by_cause_with_a_masked_example_and_a_fix() -> None:
    out = categorized(_bank(ROWS), EnrichContext())
    report = explain_gaps(out)
    assert report.transactions == 5 and report.uncategorized == 4
    assert report.coverage == 0.2
    assert report.by_cause == {"no text model": 2, "unknown language": 1, "no description": 1}
    first = report.gaps[0]
    assert (first.cause, first.key, first.rows) == ("no text model", "QWXOR", 2)
    assert "DE89370400440532013000" not in first.example and "…3000" in first.example
    assert first.fix == (
        'tactful rules add --id qwxor --when "merchant_key equals QWXOR" --category CATEGORY'
    )
    causes = [g.cause for g in report.gaps]
    assert causes == ["no text model", "unknown language", "no description"]


def test_with_a_model_the_cause_is_its_abstention_and_the_fix_carries_its_guess() -> None:
    rng = random.Random(4)
    texts = [f"QW{rng.randrange(10**6)} card out" for _ in range(300)]
    labels = ["FOOD_AND_DRINK_COFFEE", "TRANSPORTATION_GAS"] * 150
    model = TextCategorizer(seed=2).fit(texts, labels)
    model.abstain_below_ = 1.01  # it never speaks
    out = categorized(_bank(ROWS[:2]), EnrichContext(classifier=model))
    report = explain_gaps(out, classifier=model)
    assert report.by_cause == {"model abstained": 2}
    gap = report.gaps[0]
    assert gap.guess in {"FOOD_AND_DRINK_COFFEE", "TRANSPORTATION_GAS"}
    assert gap.fix.endswith(f"--category {gap.guess}")


def test_nothing_uncategorized_is_an_empty_report() -> None:
    out = categorized(_bank([("KARTENZAHLUNG STADTAPOTHEKE", -1200)]), EnrichContext())
    report = explain_gaps(out)
    assert (report.uncategorized, report.gaps, report.coverage) == (0, (), 1.0)


DATA = Path(__file__).parents[1] / "data"


def test_tactful_enrich_ends_with_what_it_could_not_categorize(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A German export without a channel column: the importer writes ``other``; the run's
    last lines name the rows it left and the rule that would take them."""
    monkeypatch.setattr(understand.console, "width", 300)
    db = f"sqlite:///{tmp_path / 'gaps.db'}"
    names = ("customers.csv", "accounts.csv", "transactions_sparkasse_de.csv")
    files = [str(DATA / n) for n in names]
    result = CliRunner().invoke(
        app, ["ingest", *files, "--enrich", "--db", db, "--report-dir", str(tmp_path / "r")],
        catch_exceptions=False,
    )
    out = result.output
    assert "categorized 80.0% of 10 transactions; 2 uncategorized: no text model 2" in out, out
    assert "BACKWERK: 2 row(s), no text model; e.g. 'KARTENZAHLUNG BACKWERK" in out, out
    assert 'tactful rules add --id backwerk --when "merchant_key equals BACKWERK"' in out, out


def test_the_stores_report_reads_only_the_uncategorized_rows_and_says_what_whole_histories_say(
    tmp_path: Path,
) -> None:
    """``gap_report`` re-categorizes only the rows the run left uncategorized, not the
    sampled customers' histories: the same causes, counts and examples as reading them whole,
    on a bank whose merchants the directory has never seen."""
    from tactful.enrich import repository as repo
    from tactful.enrich.gaps import gap_report
    from tactful.evaluation.bank import build_bank

    store = build_bank(tmp_path / "bank", customers=40, months=2, seed=11,
                       unseen_merchants=True).store
    customers = repo.customers_to_enrich(store, full=True)
    whole = explain_gaps(categorized(repo.load_shard(store, customers),
                                     repo.latest_context(store)),
                         classifier=repo.latest_context(store).classifier)
    report = gap_report(store, customers=len(customers))
    assert whole.uncategorized > 50 and not report.sampled
    assert report.uncategorized == whole.uncategorized
    assert report.by_cause == whole.by_cause
    assert report.gaps == whole.gaps
