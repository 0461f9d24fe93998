"""One regex engine for bank rules, the one Polars runs (Rust's ``regex`` crate, linear time):
a pattern it cannot run is refused when the rule is built, a rule stored before that check is
skipped with a warning instead of stopping every enrichment, and the one-row real-time path asks
the same engine, so no pattern can make it backtrack for ever."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import polars as pl
import pytest
from sqlalchemy import insert, select, text

from tactful.batch.enrich import run_enrich
from tactful.enrich import repository as repo
from tactful.enrich.rules import Condition, Rule, RuleSet, SkippedRuleWarning, regex_error
from tactful.errors import ConfigError
from tactful.ingest.loader import Loader
from tactful.simulate import SimulationConfig, simulate
from tactful.store import schema
from tactful.store.store import Store

LOOKAHEAD: dict[str, Any] = {
    "id": "lookahead",
    "category_detailed": "RENT_AND_UTILITIES_RENT",
    "conditions": [{"field": "description", "operator": "regex", "value": "(?=X)"}],
}


@pytest.mark.parametrize(
    ("pattern", "reason"),
    [
        ("(?=X)", "look-around, including look-ahead and look-behind, is not supported"),
        ("(?<=X)Y", "look-around, including look-ahead and look-behind, is not supported"),
        (r"(A)\1", "backreferences are not supported"),
        ("(", "unclosed group"),
        ("[a-", "unclosed character class"),
        (r"\bRENT\b", None),
        ("(A+)+$", None),  # catastrophic for a backtracking engine, linear here
        (r"\p{Greek}", None),
    ],
)
def test_regex_error_is_the_engines_own_verdict(pattern: str, reason: str | None) -> None:
    assert regex_error(pattern) == reason


def test_a_store_skips_a_rule_it_cannot_run_and_keeps_the_others(store: Store) -> None:
    repo.save_rule(store, {**LOOKAHEAD, "id": "landlord", "conditions": [
        {"field": "description", "operator": "contains", "value": "MIETE"}]})
    _store_unchecked(store, LOOKAHEAD)
    with pytest.warns(SkippedRuleWarning) as caught:
        rules = repo.current_rules(store)
    assert [r.id for r in rules.rules] == ["landlord"]
    assert [str(w.message) for w in caught] == [
        "rule 'lookahead' skipped: field 'conditions[0].value': regex '(?=X)' does not "
        "compile: look-around, including look-ahead and look-behind, is not supported; the "
        "other rules apply"
    ]


def test_saving_a_rule_the_engine_cannot_run_is_refused(store: Store) -> None:
    with pytest.raises(ConfigError, match=r"^rule 'lookahead': field 'conditions\[0\]\.value': "
                                          r"regex '\(\?=X\)' does not compile"):
        repo.save_rule(store, LOOKAHEAD)
    assert store.rows(select(schema.category_rules.c.rule_id)) == []


def _store_unchecked(store: Store, definition: dict[str, Any]) -> None:
    """A rule as an older version, which checked regexes with Python's ``re``, let it in."""
    with store.transaction() as conn:
        conn.execute(insert(schema.category_rules).values(
            rule_id=definition["id"], version=1, definition=definition, deleted=False,
            created_at=datetime(2025, 1, 1, tzinfo=UTC), created_by="older-version"))


@pytest.fixture(scope="module")
def bank(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("regex-bank")
    simulate(SimulationConfig(customers=12, months=3, seed=7, start=date(2025, 1, 1)), out,
             "parquet")
    return out


def test_a_stored_rule_that_cannot_run_does_not_stop_enrichment(
    store: Store, bank: Path, tmp_path: Path
) -> None:
    Loader(store, report_dir=tmp_path / "reports").ingest(
        [p for p in sorted(bank.iterdir()) if p.is_file()])
    _store_unchecked(store, LOOKAHEAD)
    repo.save_rule(store, {"id": "every-card-payment", "category_detailed":
                           "GENERAL_MERCHANDISE_OTHER_GENERAL_MERCHANDISE", "conditions": [
                               {"field": "channel", "operator": "equals", "value": "card"}]})
    with pytest.warns(SkippedRuleWarning,
                      match="rule 'lookahead' skipped: field 'conditions.0..value': regex '"):
        report = run_enrich(store)
    assert report.customers == 12
    cards = store.rows(text(
        "select category_detailed, category_source, count(*) from transactions "
        "where channel = 'card' group by 1, 2"))
    assert [row[:2] for row in cards] == [
        ("GENERAL_MERCHANDISE_OTHER_GENERAL_MERCHANDISE", "rule")]  # the good rule applied


def test_a_rule_set_built_around_the_check_still_runs_the_other_rules() -> None:
    """Rules built directly (not from records) meet the same engine when they run."""
    good = RuleSet.from_records([{"id": "rent", "category_detailed": "RENT_AND_UTILITIES_RENT",
                                  "conditions": [{"field": "description", "operator": "contains",
                                                  "value": "MIETE"}]}])
    bad = Rule("lookahead", (Condition("description", "regex", "(?=X)"),),
               category_detailed="RENT_AND_UTILITIES_RENT")
    rules = RuleSet(version=1, rules=(bad, *good.rules))
    frame = pl.DataFrame({"description": ["MIETE MAI", "X"], "amount_minor": [-1, -2]})
    with pytest.warns(SkippedRuleWarning, match="rule 'lookahead' skipped: its regex cannot run"):
        out = rules.apply(frame)
    assert out["rule_id"].to_list() == ["rent", None]
    with pytest.warns(SkippedRuleWarning, match="rule 'lookahead' skipped: regex '"):
        assert rules.first_match_row({"description": "MIETE MAI", "amount_minor": -1}) is not None


ONE_ROW = textwrap.dedent("""
    import json, sys
    from datetime import UTC, date, datetime
    import polars as pl
    from tactful.enrich.categorize import categorize
    from tactful.enrich.frames import TRANSACTIONS
    from tactful.enrich.merchants import normalize
    from tactful.enrich.rules import RuleSet

    rules = RuleSet.from_records([{"id": "nested", "category_detailed": "RENT_AND_UTILITIES_RENT",
        "conditions": [{"field": "description", "operator": "regex", "value": "(A+)+$"}]}])
    out = []
    for description in sys.argv[1:]:
        row = {"id": "T1", "account_id": "A1", "customer_id": "C1", "account_type": "checking",
               "booked_at": datetime(2025, 5, 1, tzinfo=UTC), "booked_on": date(2025, 5, 1),
               "amount_minor": -1000, "currency": "EUR", "description": description,
               "mcc": None, "channel": "transfer", "status": "posted", "counterparty": None}
        frame = normalize(pl.DataFrame([row], schema=dict(TRANSACTIONS)))
        out.append(categorize(frame, rules=rules)["rule_id"].item())
    print(json.dumps(out))
""")


def test_a_nested_quantifier_on_the_one_row_path_answers_at_once() -> None:
    """``(A+)+$`` on ``A`` x 34 then ``!``: some 2**34 steps for a backtracking engine (the
    old one-row path took 9 s at 26 A's), linear for this one. Run in a child process so that
    a regression fails after 20 s instead of hanging the suite."""
    texts = ["A" * 34 + "!", "A" * 34, "x" + "a" * 33]  # case is ignored, as everywhere
    done = subprocess.run([sys.executable, "-c", ONE_ROW, *texts], capture_output=True,
                          text=True, timeout=20, check=True)
    assert json.loads(done.stdout) == [None, "nested", "nested"]
