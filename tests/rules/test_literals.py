"""``rules.literals``: the texts a regex cannot match without are a necessary condition, never
a guess -- wherever the shortcut answers no, the regex engine answers no too, on every regex of
the default rules over a simulated bank's and the real fixtures' texts; and syntax Python's
parser reads otherwise than Rust's engine gets no shortcut."""

from __future__ import annotations

import doctest
from datetime import date
from pathlib import Path

import polars as pl
import pytest

from tactful.enrich.pipeline import EnrichContext, categorized
from tactful.enrich.rules import RuleSet
from tactful.evaluation.exports import transactions_frame
from tactful.rules import conditions
from tactful.rules import literals as literals_module
from tactful.rules.conditions import pattern
from tactful.rules.literals import required_literals
from tactful.simulate import SimulationConfig, simulate

DATA = Path(__file__).parents[1] / "data"


def test_the_examples_run() -> None:
    result = doctest.testmod(literals_module)
    assert result.attempted > 0 and result.failed == 0


@pytest.mark.parametrize(("regex", "expected"), [
    (r"\bRENT\b", {"RENT"}),
    (r"GAS|WATER", {"GAS", "WATER"}),
    (r"(?:AB)+C", {"AB"}),  # each node's set will do: the longer is kept
    (r"X(?:AB)*", {"X"}),  # a repeat that may not occur promises nothing
    (r"PAY(?:MENTS?)? FROM", {" FROM"}),  # the longer of two required runs
    (r"CAFFÈ", {"CAFF"}),  # the ASCII piece of a literal with a letter ASCII text cannot hold
    (r"(?:ZELLE|[A-Z]+) TO", {" TO"}),
    (r"(?:ZELLE|[A-Z]+)", None),  # a branch without a literal: the alternation has none
    (r"^\d+$", None),
    (r"[[:upper:]]+X", None),  # POSIX classes: Python's parser would read a literal "]"
    (r"\bA\b{end}", None),  # Rust's word-end assertion: Python would read "{END}"
    (r"\<RENT", None),  # Rust's word-start assertion: Python would read a literal "<"
    (r"\p{Lu}RENT", None),  # a Unicode class Python does not know
    (r"(?<name>RENT)", None),  # Rust's named group, refused by Python 3.11's parser
])
def test_what_a_pattern_promises(regex: str, expected: set[str] | None) -> None:
    got = required_literals(regex)
    assert (None if got is None else set(got)) == expected


@pytest.fixture(scope="module")
def texts(tmp_path_factory: pytest.TempPathFactory) -> list[str]:
    """Upper-cased texts the rules read: a simulated bank's descriptions, counterparties and
    merchant keys, and the real statement fixtures' descriptions."""
    out = tmp_path_factory.mktemp("literals-bank")
    simulate(SimulationConfig(customers=40, months=2, seed=5, start=date(2025, 1, 1)), out,
             "parquet")
    frame = categorized(transactions_frame(out), EnrichContext())
    found: set[str] = set()
    for column in ("description", "counterparty", "merchant_key"):
        found |= {v.upper() for v in frame.get_column(column).drop_nulls().to_list()}
    for path in DATA.glob("transactions_*.csv"):
        table = pl.read_csv(path, infer_schema=False, truncate_ragged_lines=True,
                            encoding="utf8-lossy", separator=";" if "sparkasse" in path.name
                            else ",")
        for column in table.columns:
            if "desc" in column.lower() or "payee" in column.lower() or "name" in column.lower():
                found |= {v.upper() for v in table.get_column(column).drop_nulls().to_list()}
    return sorted(t for t in found if t.isascii())


def test_no_regex_of_the_default_rules_is_skipped_where_it_matches(texts: list[str]) -> None:
    regexes = {str(c.value) for rule in RuleSet.default().rules for c in rule.conditions
               if c.operator == "regex"}
    assert len(regexes) >= 8
    shortcut = matched = checked = 0
    for regex in sorted(regexes):
        needed = required_literals(regex)
        if needed is None:
            continue
        checked += 1
        column = pl.Series(texts, dtype=pl.String)
        engine = column.str.contains(pattern(regex)).to_list()
        for text, hit in zip(texts, engine, strict=True):
            skipped = not any(word in text for word in needed)
            assert not (skipped and hit), (regex, text, sorted(needed))
            shortcut += skipped
            matched += hit
    assert checked >= 8  # the word lists all have literals
    assert matched > 20  # the texts exercise matches, not only misses
    assert shortcut > 0.8 * checked * len(texts)  # and the shortcut answers most of them


def test_the_one_row_path_asks_the_engine_only_where_a_literal_occurs(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A rent payment's description holds "RENT": the engine decides it; a coffee's holds none
    of the utility rules' words: no engine call for those."""
    calls: list[str] = []
    real = pl.DataFrame.select

    def counting(self: pl.DataFrame, *args: object, **kwargs: object) -> pl.DataFrame:
        if any(c.startswith("__U_") for c in self.columns):
            calls.append(",".join(self.columns))
        return real(self, *args, **kwargs)

    monkeypatch.setattr(pl.DataFrame, "select", counting)
    rules = RuleSet.default()
    row = {"description": "FLAT WHITE LONDON", "counterparty": None, "merchant_key": None,
           "amount_minor": -350, "channel": "transfer", "mcc": None, "currency": "GBP"}
    rules.first_match_row(row)
    quiet = len(calls)
    rules.first_match_row({**row, "description": "STANDING ORDER RENT MAY 2025",
                           "amount_minor": -95_000})
    assert quiet == 0 and len(calls) >= 1
    assert conditions.regex_error(pattern(r"\bRENT\b")) is None
