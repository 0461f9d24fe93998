"""``rules.one_text``: RE2 decides a rule regex on one text only where it reads the pattern as
the batch's engine (Rust's, through Polars) does -- held to that engine on every regex of the
default rules over a simulated bank's and the real fixtures' texts -- and hands back what it
could read otherwise."""

from __future__ import annotations

import doctest
from datetime import date
from pathlib import Path

import polars as pl
import pytest

from tactful.enrich.pipeline import EnrichContext, categorized
from tactful.enrich.rules import RuleSet
from tactful.evaluation.exports import transactions_frame
from tactful.rules import one_text
from tactful.rules.conditions import pattern
from tactful.simulate import SimulationConfig, simulate

DATA = Path(__file__).parents[1] / "data"


def test_the_examples_run() -> None:
    result = doctest.testmod(one_text)
    assert result.attempted > 0 and result.failed == 0


@pytest.mark.parametrize("regex", [
    r"[[:upper:]]+X",  # nested class syntax: the batch's engine decides
    r"[A-Z&&[^AEIOU]]",  # Rust's class intersection; RE2 would read '&' literally
    r"\bA\b{end}",  # Rust's word-end assertion; RE2 would read "{end}" literally
    r"(?x) R E N T",  # verbose mode
    r"A{,3}B",  # an at-most repetition, which RE2 reads as literal text
    r"(?=RENT)",  # refused by RE2 (and by the rule loader)
])
def test_syntax_read_otherwise_is_left_to_the_batch_engine(regex: str) -> None:
    assert one_text.search(pattern(regex), "RENT X") is None


@pytest.fixture(scope="module")
def texts(tmp_path_factory: pytest.TempPathFactory) -> list[str]:
    """Upper-cased ASCII texts the rules read: a simulated bank's descriptions, counterparties
    and merchant keys, and the real CSV fixtures' descriptions and payees."""
    out = tmp_path_factory.mktemp("one-text-bank")
    simulate(SimulationConfig(customers=40, months=2, seed=5, start=date(2025, 1, 1)), out,
             "parquet")
    frame = categorized(transactions_frame(out), EnrichContext())
    found: set[str] = set()
    for column in ("description", "counterparty", "merchant_key"):
        found |= {v.upper() for v in frame.get_column(column).drop_nulls().to_list()}
    for path in DATA.glob("transactions_*.csv"):
        table = pl.read_csv(path, infer_schema=False, truncate_ragged_lines=True,
                            encoding="utf8-lossy",
                            separator=";" if "sparkasse" in path.name else ",")
        for column in table.columns:
            if any(w in column.lower() for w in ("desc", "payee", "name", "text")):
                found |= {v.upper() for v in table.get_column(column).drop_nulls().to_list()}
    return sorted(t for t in found if t.isascii())


def test_re2_agrees_with_the_batch_engine_on_every_default_rule(texts: list[str]) -> None:
    regexes = sorted({str(c.value) for rule in RuleSet.default().rules
                      for c in rule.conditions if c.operator == "regex"})
    assert len(regexes) >= 8 and len(texts) > 500
    matched = 0
    column = pl.Series(texts, dtype=pl.String)
    for regex in regexes:
        engine = column.str.contains(pattern(regex)).to_list()
        for text, hit in zip(texts, engine, strict=True):
            got = one_text.search(pattern(regex), text)
            assert got is not None, (regex, text)  # the default rules all go to RE2
            assert got == hit, (regex, text, hit)
            matched += hit
    assert matched > 20  # matches and misses both compared
