"""The shared validator: table-driven, with the exact messages a user sees."""

from __future__ import annotations

import polars as pl
import pytest

from tactful.errors import IngestError
from tactful.ingest.schema import Chunk, RecordKind, SourceOptions
from tactful.ingest.validate import _iso_fast_path, _parse_text, _parse_timestamp, validate_chunk


def _one(
    amount: str | None = "-1.00",
    currency: str | None = "EUR",
    booked: str = "2024-01-05",
    decimal: str | None = None,
    tz: str = "UTC",
    **extra: str,
) -> tuple[dict, str | None]:
    frame = pl.DataFrame(
        {
            "account_id": ["A1"],
            "booked_at": [booked],
            "amount": [amount],
            "currency": [currency],
            **{k: [v] for k, v in extra.items()},
        },
        schema_overrides={"amount": pl.Utf8, "currency": pl.Utf8},
    )
    good, rejects = validate_chunk(
        Chunk(RecordKind.TRANSACTION, frame, "f.csv", SourceOptions(decimal=decimal, timezone=tz))
    )
    if rejects:
        return {}, f"{rejects[0].field}: {rejects[0].reason}"
    return good.row(0, named=True), None


@pytest.mark.parametrize(
    ("text", "currency", "minor"),
    [
        ("-12.50", "EUR", -1250),
        ("12,50", "EUR", 1250),
        ("1.234,56", "EUR", 123456),
        ("1,234.56", "USD", 123456),
        ("(42.17)", "USD", -4217),
        ("$1,000,000.00", "USD", 100_000_000),
        ("-£7.45", "GBP", -745),
        ("12.50-", "EUR", -1250),
        ("12.50 DR", "GBP", -1250),
        ("12.50 CR", "GBP", 1250),
        ("EUR 3", "EUR", 300),
        ("1 234,50", "EUR", 123450),
        ("1'234.50", "CHF", 123450),
        ("\u221212.00", "EUR", -1200),
        ("1500", "JPY", 1500),
        ("0.125", "KWD", 125),
        ("7.00", "EUR", 700),
    ],
)
def test_amounts_in_bank_spellings(text: str, currency: str, minor: int) -> None:
    row, error = _one(amount=text, currency=currency)
    assert error is None
    assert row["amount_minor"] == minor


@pytest.mark.parametrize(
    ("amount", "currency", "booked", "expected"),
    [
        ("abc", "EUR", "2024-01-05", "amount: 'abc' is not an amount"),
        ("1.2.3", "EUR", "2024-01-05", "amount: '1.2.3' is not an amount"),
        ("0.005", "EUR", "2024-01-05", "amount: '0.005' has more decimal places than EUR allows"),
        ("1.5", "JPY", "2024-01-05", "amount: '1.5' has more decimal places than JPY allows"),
        (None, "EUR", "2024-01-05", "amount: missing value"),
        ("1.00", "XYZ", "2024-01-05", "currency: unknown ISO 4217 currency code 'XYZ'"),
        (
            "1.00",
            "EUR",
            "31.02.2024",
            "booked_at: '31.02.2024' is not a date or time this reader "
            "understands (set date_format in the mapping)",
        ),
        (
            "1.00",
            "EUR",
            "2024-03-31 02:30",
            "booked_at: '2024-03-31 02:30' does not exist in Europe/Berlin (clocks changed)",
        ),
        (
            "1.00",
            "EUR",
            "soon",
            "booked_at: 'soon' is not a date or time this reader understands "
            "(set date_format in the mapping)",
        ),
        (
            "99999999999999999999",
            "EUR",
            "2024-01-05",
            "amount: '99999999999999999999' is too large for 64-bit minor units",
        ),
    ],
)
def test_bad_values_are_rejected_with_reason(
    amount: str | None, currency: str, booked: str, expected: str
) -> None:
    _, error = _one(amount=amount, currency=currency, booked=booked, tz="Europe/Berlin")
    assert error == expected


@pytest.mark.parametrize(
    ("text", "tz", "iso"),
    [
        ("2024-01-05", "Europe/Berlin", "2024-01-04T23:00:00+00:00"),
        ("2024-07-05T10:00:00+02:00", "UTC", "2024-07-05T08:00:00+00:00"),
        ("2024-01-05T10:00:00Z", "America/New_York", "2024-01-05T10:00:00+00:00"),
        ("2024-01-05 10:00", "America/New_York", "2024-01-05T15:00:00+00:00"),
        ("20240105", "UTC", "2024-01-05T00:00:00+00:00"),
        ("05.01.2024", "UTC", "2024-01-05T00:00:00+00:00"),
        ("2024-10-27 02:30", "Europe/Berlin", "2024-10-27T00:30:00+00:00"),
    ],
)
def test_timestamps_become_aware_utc(text: str, tz: str, iso: str) -> None:
    row, error = _one(booked=text, tz=tz)
    assert error is None
    assert row["booked_at"].isoformat() == iso


ISO_SPELLINGS = [
    "2024-01-05T10:00:00Z",
    "2024-01-05T10:00:00.5Z",
    "2024-01-05T10:00:00.1234567Z",
    "2024-07-05T10:00:00+02:00",
    "2024-07-05T10:00:00.250-05:00",
    "2024-07-05T10:00:00+0200",
    "2024-07-05 10:00:00+02:00",
    "2024-07-05 10:00:00 +02:00",
    "2024-01-05T10:00:00",
    "2024-01-05 10:00:00.000001",
    "2024-03-31 02:30:00",  # skipped by the clocks in Berlin
    "2024-10-27 02:30:00",  # repeated in Berlin
    "2024-01-05T10:00",
    "2024-01-05T10:00:00-05",
    "2024-01-05T24:00:00Z",
    "0024-01-05T10:00:00Z",
    "2024-02-30T10:00:00Z",
    "2024-01-05T10:00:00z",
    "2024-01-05T10:00:00 Z",
]


@pytest.mark.parametrize("tz", ["UTC", "Europe/Berlin", "America/New_York"])
@pytest.mark.parametrize("text", ISO_SPELLINGS)
def test_iso_fast_path_reads_what_the_careful_path_reads(text: str, tz: str) -> None:
    """A column the one-format fast path reads gets exactly the careful path's instants."""
    opts = SourceOptions(timezone=tz)
    for column in (
        pl.Series("v", [text, None, text]),
        pl.Series("v", [text, "2024-01-06T00:00:00Z"]),  # two spellings: careful path
    ):
        careful = _parse_text(column, opts)
        fast = _iso_fast_path(column, text, opts)
        if fast is not None:
            assert fast.to_list() == careful.to_list()
        assert _parse_timestamp(column, opts, as_date=False).to_list() == careful.to_list()


def test_ambiguous_day_month_is_decided_by_the_column() -> None:
    frame = pl.DataFrame(
        {
            "account_id": ["A"] * 2,
            "booked_at": ["01/02/2024", "01/31/2024"],
            "amount": ["1", "2"],
            "currency": ["USD"] * 2,
        }
    )
    good, rejects = validate_chunk(Chunk(RecordKind.TRANSACTION, frame, "f.csv"))
    assert not rejects
    assert [d.day for d in good["booked_at"].to_list()] == [2, 31]


@pytest.mark.parametrize(
    ("field", "value", "expected"),
    [
        ("mcc", "742", ("mcc", "0742")),
        ("mcc", "54x1", "mcc: '54x1' is not a 4-digit MCC"),
        ("status", "SHIPPED", "status: 'SHIPPED' is not one of posted, pending, declined"),
        ("status", "Pending", ("status", "pending")),
        # banks' own words for the three states (Revolut: COMPLETED, PENDING, REVERTED)
        ("status", "BOOKED", ("status", "posted")),
        ("status", "COMPLETED", ("status", "posted")),
        ("status", "Authorised", ("status", "pending")),
        ("status", "REVERTED", ("status", "declined")),
        ("status", "Processed", ("status", "posted")),
        ("channel", "direct debit", ("channel", "direct_debit")),
    ],
)
def test_codes_and_enums(field: str, value: str, expected: object) -> None:
    row, error = _one(**{field: value})
    if isinstance(expected, str):
        assert error == expected
    else:
        assert row[expected[0]] == expected[1]  # type: ignore[index]


def test_missing_required_column_is_a_file_error() -> None:
    frame = pl.DataFrame({"account_id": ["A"], "amount": ["1"], "currency": ["EUR"]})
    with pytest.raises(IngestError, match="no column for required field"):
        validate_chunk(Chunk(RecordKind.TRANSACTION, frame, "f.csv"))


def test_customer_values_are_checked() -> None:
    frame = pl.DataFrame(
        {
            "customer_id": ["C1", "C2", "C3", "C4"],
            "region": ["EU", "eu", "EU", "EU"],
            "locale": ["de_DE", "en-GB", "xx_YY_ZZ", "fr_FR"],
            "timezone": ["Europe/Berlin", "Europe/London", "UTC", "Mars/Olympus"],
            "channel_preferences": ["push|in_app", "EMAIL; sms", "", "pigeon"],
            "quiet_hours_start": ["22:00", "7:30", None, "25:00"],
        }
    )
    good, rejects = validate_chunk(Chunk(RecordKind.CUSTOMER, frame, "c.csv"))
    assert good["customer_id"].to_list() == ["C1", "C2"]
    assert good["channel_preferences"].to_list() == ["push|in_app", "email|sms"]
    assert good["quiet_hours_start"].to_list() == ["22:00", "07:30"]
    assert good["region"].to_list() == ["EU", "EU"]
    assert [(r.location, r.field) for r in rejects] == [
        ("record 3", "locale"),
        ("record 4", "timezone"),
    ]


def test_the_vulnerable_flag_reads_as_banks_write_it_and_nothing_else() -> None:
    values = ["Yes", "n", "TRUE", "0", None, "maybe"]
    frame = pl.DataFrame({
        "customer_id": [f"C{i}" for i in range(len(values))],
        "region": ["EU"] * len(values), "locale": ["de_DE"] * len(values),
        "timezone": ["Europe/Berlin"] * len(values), "vulnerable": values,
    })
    good, rejects = validate_chunk(Chunk(RecordKind.CUSTOMER, frame, "c.csv"))
    assert good["vulnerable"].to_list() == [True, False, True, False, False]
    assert [(r.location, r.field, r.reason) for r in rejects] == [
        ("record 6", "vulnerable", "'maybe' is not a flag (true/false, yes/no, 1/0)")]


def test_dates_with_the_months_english_name_need_no_date_format() -> None:
    """As John Lewis ("28-Mar-2020") and DBS ("06 May 2020") export them."""
    frame = pl.DataFrame({
        "account_id": ["A"] * 5,
        "booked_at": ["28-Mar-2020", "06 May 2020", "Mar 28, 2020", "28-MAR-20",
                      "6 September 2020"],
        "amount": ["1"] * 5,
        "currency": ["GBP"] * 5,
    })  # fmt: skip
    good, rejects = validate_chunk(Chunk(RecordKind.TRANSACTION, frame, "f.csv"))
    assert not rejects
    assert [d.date().isoformat() for d in good["booked_at"].to_list()] == [
        "2020-03-28", "2020-05-06", "2020-03-28", "2020-03-28", "2020-09-06"]


def test_year_first_dates_with_dots_or_slashes_are_year_month_day() -> None:
    """Hungary writes "2019.04.19.", Japan and China "2019/04/19"."""
    frame = pl.DataFrame({"account_id": ["A"] * 3, "booked_at": ["2019.04.19.", "2019/04/02",
                          "2019.04.02 13:45"], "amount": ["1"] * 3, "currency": ["HUF"] * 3})
    good, rejects = validate_chunk(Chunk(RecordKind.TRANSACTION, frame, "f.csv"))
    assert not rejects
    assert [str(d) for d in good["booked_at"].to_list()] == [
        "2019-04-19 00:00:00+00:00", "2019-04-02 00:00:00+00:00", "2019-04-02 13:45:00+00:00"]


def test_an_id_with_a_stray_quote_is_a_broken_line_not_a_new_account() -> None:
    """Rabobank's export with a line that lost its opening quote: the account column reads
    NL77RABO0311467415" and would have made an account of its own."""
    frame = pl.DataFrame(
        {
            "account_id": ["NL77RABO0311467415", 'NL77RABO0311467415"'],
            "booked_at": ["2018-03-01", "2018-03-14"],
            "amount": ["-337,49", "+50,00"],
            "currency": ["EUR", "EUR"],
        }
    )
    good, rejects = validate_chunk(
        Chunk(RecordKind.TRANSACTION, frame, "f.csv", SourceOptions(decimal=","))
    )
    assert good["account_id"].to_list() == ["NL77RABO0311467415"]
    assert [(r.field, "stray quote" in r.reason) for r in rejects] == [("account_id", True)]
