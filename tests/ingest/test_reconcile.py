"""Balance reconciliation over integer minor units (ingest/reconcile.py), and the OFX case where
an opening balance can be derived from an earlier statement of the same account."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tactful.ingest.mapping import Mapping
from tactful.ingest.readers.ofx import OfxReader
from tactful.ingest.reconcile import Balance, Movement, Outcome, reconcile, to_minor

OPEN = Balance(10_000, "OPBD of 2024-01-01")
CLOSE = "CLBD of 2024-01-31"


@pytest.mark.parametrize(("opening", "moves", "closing", "checkpoints", "outcome", "reason"), [
    (OPEN, [-250, 1_999], 11_749, [], Outcome.AGREES,
     "balances agree (opening + entries = closing)"),
    (OPEN, [], 10_000, [], Outcome.AGREES, "balances agree (opening + entries = closing)"),
    (None, [-250], 9_750, [], Outcome.UNCHECKED,
     "no check possible: the file states no opening balance"),
    (OPEN, [-250], None, [], Outcome.UNCHECKED,
     "no check possible: the file states no closing balance"),
    (OPEN, [-250, None, 5], 9_755, [], Outcome.UNCHECKED,
     "no check possible: e2 could not be read, so the balances after it cannot be compared"),
    (OPEN, [-250, 1_999], 11_700, [], Outcome.DIVERGES,
     "100.00 (OPBD of 2024-01-01) + 2 entries (17.49) = 117.49, but CLBD of 2024-01-31 is "
     "117.00 (a difference of -0.49); the running total diverges between e1 and e2"),
    (OPEN, [], 9_999, [], Outcome.DIVERGES,
     "100.00 (OPBD of 2024-01-01) + 0 entries (0.00) = 100.00, but CLBD of 2024-01-31 is 99.99 "
     "(a difference of -0.01); no entry lies between them"),
    # An intermediate balance narrows the span to the entries after the last one met.
    (OPEN, [-250, 1_999, -5, 7], 11_749, [(2, Balance(11_749, ":62M: of 2024-01-15"))],
     Outcome.DIVERGES,
     "117.49 (:62M: of 2024-01-15) + 2 entries (0.02) = 117.51, but CLBD of 2024-01-31 is "
     "117.49 (a difference of -0.02); the running total diverges between e3 and e4"),
])
def test_reconcile_table(
    opening: Balance | None, moves: list[int | None], closing: int | None,
    checkpoints: list[tuple[int, Balance]], outcome: Outcome, reason: str,
) -> None:
    movements = [Movement(f"e{n}", m) for n, m in enumerate(moves, start=1)]
    got = reconcile(opening, movements, None if closing is None else Balance(closing, CLOSE),
                    checkpoints=checkpoints)
    assert (got.outcome, got.reason) == (outcome, reason)


def test_a_running_balance_per_row_names_the_exact_row() -> None:
    movements = [Movement("line 2", -500, 9_500), Movement("line 3", -120, 9_300),
                 Movement("line 4", 50, 9_350)]
    got = reconcile(OPEN, movements, None)
    assert (got.outcome, got.first, got.span) == (Outcome.DIVERGES, "line 3", ("line 3",))


@given(st.lists(st.integers(-10**12, 10**12), min_size=1, max_size=30), st.data())
def test_any_one_changed_amount_is_caught_and_placed(moves: list[int], data: st.DataObject) -> None:
    movements = [Movement(f"e{n}", m) for n, m in enumerate(moves)]
    closing = Balance(OPEN.minor + sum(moves), CLOSE)
    assert reconcile(OPEN, movements, closing).outcome is Outcome.AGREES
    at = data.draw(st.integers(0, len(moves) - 1))
    delta = data.draw(st.integers(-10**6, 10**6).filter(bool))
    movements[at] = Movement(f"e{at}", moves[at] + delta)
    got = reconcile(OPEN, movements, closing)
    assert got.outcome is Outcome.DIVERGES
    assert f"e{at}" in got.span


@pytest.mark.parametrize(("text", "currency", "minor"), [
    ("772.55", "EUR", 77_255), ("138619.", "EUR", 13_861_900), ("-0.01", "EUR", -1),
    ("1234", "JPY", 1_234), ("1.234", "BHD", 1_234), ("12.5", "XYZ", 1_250),
    ("1.005", "EUR", None), ("12.3", "JPY", None), ("abc", "EUR", None), ("NaN", "EUR", None),
])
def test_to_minor_is_exact_or_nothing(text: str, currency: str, minor: int | None) -> None:
    assert to_minor(text, currency) == minor


def _two_statements(amount: str) -> str:
    def statement(start: str, end: str, trn: str, balance: str) -> str:
        return (
            "<STMTTRNRS><TRNUID>1<STMTRS><CURDEF>USD<BANKACCTFROM><BANKID>1<ACCTID>42"
            f"<ACCTTYPE>CHECKING</BANKACCTFROM><BANKTRANLIST><DTSTART>{start}<DTEND>{end}"
            f"{trn}</BANKTRANLIST><LEDGERBAL><BALAMT>{balance}<DTASOF>{end}</LEDGERBAL>"
            "</STMTRS></STMTTRNRS>\n"
        )

    def trn(day: str, value: str, fitid: str) -> str:
        return (f"<STMTTRN><TRNTYPE>DEBIT<DTPOSTED>{day}<TRNAMT>{value}<FITID>{fitid}"
                "<NAME>x</STMTTRN>")

    return (
        "OFXHEADER:100\nDATA:OFXSGML\nVERSION:102\n\n<OFX><BANKMSGSRSV1>\n"
        + statement("20240101", "20240131", trn("20240110", "-10.00", "A"), "90.00")
        + statement("20240201", "20240229", trn("20240210", amount, "B"), "80.00")
        + "</BANKMSGSRSV1></OFX>\n"
    )


def test_ofx_second_statement_is_checked_against_the_first(tmp_path: Path) -> None:
    path = tmp_path / "two.ofx"
    path.write_text(_two_statements("-10.00"))
    accounts, transactions = OfxReader().read(path, Mapping(), 100)
    assert transactions.rejects == [] and transactions.frame.height == 2
    assert accounts.notes[0] == "balance check: 1 of 2 statement(s) reconcile, 1 cannot be checked"
    path.write_text(_two_statements("-1.00"))  # one amount corrupted
    accounts, transactions = OfxReader().read(path, Mapping(), 100)
    assert transactions.frame["transaction_id"].to_list() == ["A"]
    (reject,) = transactions.rejects
    assert reject.reason == (
        "statement 2 (ACCTID 42) does not reconcile: 90.00 (LEDGERBAL of 20240131) + 1 entry "
        "(-1.00) = 89.00, but LEDGERBAL of 20240229 is 80.00 (a difference of -9.00); the "
        "running total diverges at entry 2 (FITID B) at line 7"
    )
