"""The PKDD'99 Czech bank export ("Berka"): a real relational bank dump, read as it is.

The files are linked by ids, not self-contained, so this reader reads a file's siblings where it
needs them: ``disp.asc`` says who owns an account, ``district.asc`` where a client lives. The
mapping, and why, is in ``docs/mappings/berka.md``; in short:

* ``client.asc`` -> customers ``berka-client-<id>``; gender and age band from the birth number.
* ``account.asc`` -> checking accounts ``berka-<id>``, owned by the disposition's OWNER.
* ``loan.asc`` -> loan accounts ``berka-loan-<id>``, balance minus the principal at grant date.
* ``trans.asc`` (Czech codes) or the FEUP release's ``trans_*.csv`` (English) -> transactions,
  signed by their type; the bank's ``trans_id`` keeps re-imports idempotent.
* ``order.asc`` (standing orders), ``card.asc``, ``disp.asc``, ``district.asc`` and the FEUP split
  of the loans load nothing, only a note; ``read_standing_orders`` and ``read_cards`` return the
  orders and cards for evaluation.

>>> BerkaReader().sniff(b'"client_id";"birth_number";"district_id"\\r\\n', Path("client.asc"))
0.9
>>> decode_birth_numbers(pl.Series(["706213", "450204"])).rows()
[(datetime.date(1970, 12, 13), 'F', '25-34'), (datetime.date(1945, 2, 4), 'M', '45-54')]
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import polars as pl

from tactful.errors import IngestError
from tactful.ingest.decode import decode
from tactful.ingest.mapping import Mapping
from tactful.ingest.readers.base import Reader, readers
from tactful.ingest.schema import LOCATION, Chunk, RecordKind, Reject, SourceOptions

__all__ = [
    "AS_OF",
    "BerkaReader",
    "decode_birth_numbers",
    "read_cards",
    "read_standing_orders",
]

HEADERS: dict[str, str] = {
    '"client_id";"birth_number";"district_id"': "client",
    '"account_id";"district_id";"frequency";"date"': "account",
    '"disp_id";"client_id";"account_id";"type"': "disp",
    '"loan_id";"account_id";"date";"amount";"duration";"payments";"status"': "loan",
    '"card_id";"disp_id";"type";"issued"': "card",
    '"order_id";"account_id";"bank_to";"account_to";"amount";"k_symbol"': "order",
    "A1;A2;A3;A4;A5;A6;A7;A8;A9;A10;A11;A12;A13;A14;A15;A16": "district",
    '"trans_id";"account_id";"date";"type";"operation";"amount";"balance";"k_symbol";"bank";'
    '"account"': "trans",
    "trans_id;account_id;date;type;operation;amount;balance;k_symbol;bank;account": "trans",
    "loan_id;account_id;date;amount;duration;payments;status": "feup_loan",
}
"""The exact first line of each file (the original ``.asc`` quote their headers, the FEUP
release does not) -> which file it is."""

AS_OF = date(1999, 1, 1)
"""The day ages are computed on: the export ends in December 1998."""

AGE_BANDS: tuple[tuple[int, str], ...] = (
    (18, "under 18"),
    (25, "18-24"),
    (35, "25-34"),
    (45, "35-44"),
    (55, "45-54"),
    (65, "55-64"),
    (75, "65-74"),
)
"""(age below, band); older is "75+". The simulator's bands, plus the under-18s Berka has."""

CURRENCY = "CZK"
TIMEZONE = "Europe/Prague"

TYPE_SIGN: dict[str, str] = {
    "credit": "",
    "withdrawal": "-",
    "withdrawal in cash": "-",
    "PRIJEM": "",
    "VYDAJ": "-",
    "VYBER": "-",
}
"""Transaction type -> sign of the amount (the export's amounts are unsigned)."""

OPERATIONS: dict[str, tuple[str, str]] = {
    "credit in cash": ("credit in cash", "cash"),
    "withdrawal in cash": ("withdrawal in cash", "cash"),
    "collection from another bank": ("collection from another bank", "transfer"),
    "remittance to another bank": ("remittance to another bank", "transfer"),
    "credit card withdrawal": ("credit card withdrawal", "card"),
    "VKLAD": ("credit in cash", "cash"),
    "VYBER": ("withdrawal in cash", "cash"),
    "PREVOD Z UCTU": ("collection from another bank", "transfer"),
    "PREVOD NA UCET": ("remittance to another bank", "transfer"),
    "VYBER KARTOU": ("credit card withdrawal", "card"),
}
"""Operation (Czech code or the FEUP translation) -> (English text, channel)."""

K_SYMBOLS: dict[str, tuple[str, str | None]] = {
    "household": ("household payment", None),
    "SIPO": ("household payment", None),
    "pension": ("pension", None),
    "old-age pension": ("pension", None),
    "DUCHOD": ("pension", None),
    "insurrance payment": ("insurance payment", None),
    "POJISTNE": ("insurance payment", None),
    "loan payment": ("loan payment", None),
    "UVER": ("loan payment", None),
    "LEASING": ("leasing", None),
    "interest credited": ("interest credited", "interest"),
    "UROK": ("interest credited", "interest"),
    "sanction interest if negative balance": ("sanction interest on negative balance", "fee"),
    "SANKC. UROK": ("sanction interest on negative balance", "fee"),
    "payment for statement": ("statement fee", "fee"),
    "SLUZBY": ("statement fee", "fee"),
}
"""k_symbol (Czech code or the FEUP translation, typos included) -> (purpose, channel override)."""

FREQUENCIES: dict[str, str] = {
    "POPLATEK MESICNE": "monthly statements",
    "POPLATEK TYDNE": "weekly statements",
    "POPLATEK PO OBRATU": "a statement after each transaction",
    "monthly issuance": "monthly statements",
    "weekly issuance": "weekly statements",
    "issuance after transaction": "a statement after each transaction",
}

_NOTES: dict[str, str] = {
    "disp": "dispositions link clients to accounts: read with account.asc and loan.asc "
    "for the owner; nothing loaded from this file",
    "district": "districts are read with client.asc for the customer's region; "
    "nothing loaded from this file",
    "card": "cards are products held through a disposition, which Tactful has no record for: "
    "not loaded (see read_cards)",
    "order": "standing orders are payment instructions, not bookings: not loaded "
    "(see read_standing_orders)",
    "feup_loan": "the FEUP release's split of loan.asc (the same loans): loan.asc is loaded",
}
_KINDS: dict[str, RecordKind] = {
    "client": RecordKind.CUSTOMER,
    "account": RecordKind.ACCOUNT,
    "loan": RecordKind.ACCOUNT,
    "trans": RecordKind.TRANSACTION,
}
_WITHOUT = {
    "disp": "accounts loaded without their owner",
    "district": "customers loaded without a segment",
}
_FIELD, _REASON = "_field", "_reason"


def _which(head: bytes) -> str | None:
    first = head.removeprefix(b"\xef\xbb\xbf").split(b"\n", 1)[0].strip()
    return HEADERS.get(first.decode("latin-1"))


def _options() -> SourceOptions:
    return SourceOptions(decimal=".", timezone=TIMEZONE, currency=CURRENCY, settled=True)


# -- reading a file -------------------------------------------------------------------------


@dataclass(slots=True)
class _Table:
    """A file's rows as stripped text columns (empty -> null) named by its header, plus where
    each row came from; rows that are not one record of the header's width are rejects."""

    frame: pl.DataFrame
    rejects: list[Reject] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def _read_table(path: Path) -> _Table:
    source = str(path)
    try:
        decoded = decode(path.read_bytes())
    except (OSError, UnicodeError) as exc:
        raise IngestError(f"{path}: {exc}") from exc
    reader = csv.reader(io.StringIO(decoded.text, newline=""), delimiter=";")
    try:
        header = [h.strip() for h in next(reader)]
    except StopIteration:
        raise IngestError(f"{path}: the file is empty") from None
    except csv.Error as exc:
        raise IngestError(f"{path}: unreadable header: {exc}") from exc
    columns: list[list[str]] = [[] for _ in header]
    locations: list[str] = []
    rejects: list[Reject] = []
    line = reader.line_num + 1
    while True:
        try:
            row = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            rejects.append(Reject(source, f"line {line}", f"malformed line: {exc}"))
            line = reader.line_num + 1
            continue
        here, line = line, reader.line_num + 1
        if not any(cell.strip() for cell in row):
            continue
        if len(row) != len(header):
            rejects.append(
                Reject(
                    source,
                    f"line {here}",
                    f"expected {len(header)} fields (as in the header), found {len(row)}",
                    None,
                    ";".join(row)[:500],
                )
            )
            continue
        for column, cell in zip(columns, row, strict=True):
            column.append(cell)
        locations.append(f"line {here}")
    frame = pl.DataFrame(
        {
            name: pl.Series(name, values, dtype=pl.Utf8)
            for name, values in zip(header, columns, strict=True)
        }
        | {LOCATION: pl.Series(LOCATION, locations, dtype=pl.Utf8)}
    ).with_columns(pl.col(header).str.strip_chars().replace("", None))
    return _Table(frame, rejects, [decoded.note] if decoded.note else [])


def _sibling(path: Path, which: str, notes: list[str]) -> pl.DataFrame | None:
    """The lookup file ``<which>.asc`` beside ``path``, or None with a note saying why not. Its
    own bad lines are reported when it is read itself."""
    other = path.parent / f"{which}.asc"
    try:
        with other.open("rb") as fh:
            found = _which(fh.read(4096))
    except OSError:
        found = None
    if found != which:
        what = "is not the export's" if other.is_file() else "no"
        notes.append(f"{what} {other.name} beside {path.name}: {_WITHOUT[which]}")
        return None
    return _read_table(other).frame


def _owners(path: Path, notes: list[str]) -> dict[str, str]:
    """account_id -> the owner's customer id, from disp.asc beside ``path``."""
    disp = _sibling(path, "disp", notes)
    if disp is None:
        return {}
    owners = disp.filter(pl.col("type") == "OWNER")
    return dict(
        zip(
            owners["account_id"].to_list(),
            [f"berka-client-{c}" for c in owners["client_id"].to_list()],
            strict=True,
        )
    )


def _regions(path: Path, notes: list[str]) -> dict[str, str]:
    """district_id -> its region (district.asc's A3), from district.asc beside ``path``."""
    district = _sibling(path, "district", notes)
    if district is None:
        return {}
    return dict(zip(district["A1"].to_list(), district["A3"].to_list(), strict=True))


# -- values ---------------------------------------------------------------------------------


def _iso_date(column: str) -> pl.Expr:
    """``'930705'`` or ``'931107 00:00:00'`` -> ``'1993-07-05'`` (the data spans 1993-1998);
    null for anything else, which ``_bad_date`` reports."""
    parts = pl.col(column).str.extract_groups(r"^(\d\d)(\d\d)(\d\d)(?: 00:00:00)?$")
    iso = pl.format("19{}-{}-{}", *(parts.struct.field(g) for g in "123"))
    return pl.when(iso.str.to_date("%Y-%m-%d", strict=False).is_not_null()).then(iso)


def _bad_date(column: str) -> tuple[pl.Expr, str, pl.Expr]:
    return (
        pl.col(column).is_not_null() & _iso_date(column).is_null(),
        column,
        _quoted(column) + pl.lit(" is not a date (YYMMDD)"),
    )


def _lookup(column: str, table: dict[str, str]) -> pl.Expr:
    return pl.col(column).replace_strict(table, default=None, return_dtype=pl.Utf8)


def _error(*checks: tuple[pl.Expr, str, pl.Expr]) -> list[pl.Expr]:
    """The first failing (condition, source column, reason) as the ``_field``/``_reason`` pair."""
    fld: pl.Expr = pl.lit(None, pl.Utf8)
    reason: pl.Expr = pl.lit(None, pl.Utf8)
    for cond, column, why in reversed(checks):
        fld = pl.when(cond).then(pl.lit(column)).otherwise(fld)
        reason = pl.when(cond).then(why).otherwise(reason)
    return [fld.alias(_FIELD), reason.alias(_REASON)]


def _quoted(column: str) -> pl.Expr:
    return pl.lit("'") + pl.col(column).fill_null("") + pl.lit("'")


def decode_birth_numbers(values: pl.Series, on: date = AS_OF) -> pl.DataFrame:
    """(born, gender F/M, age band on ``on``) from Berka birth numbers: ``YYMMDD`` for men,
    ``YYMM+50DD`` for women, all born in the 1900s. A value that is no date gives nulls.

    >>> decode_birth_numbers(pl.Series(["806101", "801301", None])).rows()
    [(datetime.date(1980, 11, 1), 'F', '18-24'), (None, None, None), (None, None, None)]
    """
    text = pl.col("b").str.strip_chars()
    parts = text.str.extract_groups(r"^(\d\d)(\d\d)(\d\d)$")
    month = parts.struct.field("2").cast(pl.Int32)
    woman = month > 50
    real_month = pl.when(woman).then(month - 50).otherwise(month)
    born = pl.format(
        "19{}-{}-{}",
        parts.struct.field("1"),
        real_month.cast(pl.Utf8).str.zfill(2),
        parts.struct.field("3"),
    ).str.to_date("%Y-%m-%d", strict=False)
    later_in_year = (born.dt.month() > on.month) | (
        (born.dt.month() == on.month) & (born.dt.day() > on.day)
    )
    age = pl.lit(on.year) - born.dt.year().cast(pl.Int32) - later_in_year.cast(pl.Int32)
    band: pl.Expr = pl.lit("75+")
    for below, label in reversed(AGE_BANDS):
        band = pl.when(age < below).then(pl.lit(label)).otherwise(band)
    return pl.DataFrame({"b": values.cast(pl.Utf8)}).select(
        born=born,
        gender=pl.when(born.is_null())
        .then(None)
        .when(woman)
        .then(pl.lit("F"))
        .otherwise(pl.lit("M")),
        age_band=pl.when(born.is_not_null()).then(band),
    )


# -- one file to canonical rows -------------------------------------------------------------


def _customers(rows: pl.DataFrame, path: Path, notes: list[str]) -> pl.DataFrame:
    regions = _regions(path, notes)
    births = decode_birth_numbers(rows["birth_number"])
    return rows.hstack(births).select(
        (pl.lit("berka-client-") + pl.col("client_id")).alias("customer_id"),
        pl.lit("EU").alias("region"),
        pl.lit("cs_CZ").alias("locale"),
        pl.lit(TIMEZONE).alias("timezone"),
        pl.lit("basic").alias("personalization_level"),
        _lookup("district_id", regions).alias("segment"),
        "age_band",
        "gender",
        LOCATION,
        *_error(
            (
                pl.col("born").is_null(),
                "birth_number",
                _quoted("birth_number")
                + pl.lit(" is not a birth number (YYMMDD, women YYMM+50DD)"),
            )
        ),
    )


def _accounts(rows: pl.DataFrame, path: Path, notes: list[str]) -> pl.DataFrame:
    owners = _owners(path, notes)
    frequency = _lookup("frequency", FREQUENCIES)
    return rows.select(
        (pl.lit("berka-") + pl.col("account_id")).alias("account_id"),
        _lookup("account_id", owners).alias("customer_id"),
        pl.lit("checking").alias("account_type"),
        pl.lit(CURRENCY).alias("currency"),
        _iso_date("date").alias("opened_on"),
        (pl.lit("Current account, ") + frequency.fill_null(pl.col("frequency"))).alias("name"),
        LOCATION,
        *_error(_bad_date("date")),
    )


def _loans(rows: pl.DataFrame, path: Path, notes: list[str]) -> pl.DataFrame:
    owners = _owners(path, notes)
    return rows.select(
        (pl.lit("berka-loan-") + pl.col("loan_id")).alias("account_id"),
        _lookup("account_id", owners).alias("customer_id"),
        pl.lit("loan").alias("account_type"),
        pl.lit(CURRENCY).alias("currency"),
        (pl.lit("-") + pl.col("amount")).alias("balance"),
        _iso_date("date").alias("balance_as_of"),
        _iso_date("date").alias("opened_on"),
        pl.format(
            "Loan on berka-{}: {} months at {} CZK a month",
            "account_id",
            "duration",
            "payments",
        ).alias("name"),
        LOCATION,
        *_error(
            _bad_date("date"),
            (
                pl.col("amount").str.starts_with("-"),
                "amount",
                _quoted("amount") + pl.lit(" is signed; loan amounts are principals"),
            ),
        ),
    )


def _transactions(rows: pl.DataFrame, path: Path, notes: list[str]) -> pl.DataFrame:
    del path, notes
    sign = _lookup("type", TYPE_SIGN)
    operation = pl.col("operation").replace_strict(
        {k: v[0] for k, v in OPERATIONS.items()}, default=pl.col("operation")
    )
    purpose = pl.col("k_symbol").replace_strict(
        {k: v[0] for k, v in K_SYMBOLS.items()}, default=pl.col("k_symbol")
    )
    channel = pl.coalesce(
        pl.col("k_symbol").replace_strict(
            {k: v[1] for k, v in K_SYMBOLS.items() if v[1]}, default=None, return_dtype=pl.Utf8
        ),
        pl.col("operation").replace_strict(
            {k: v[1] for k, v in OPERATIONS.items()}, default=None, return_dtype=pl.Utf8
        ),
        pl.lit("other"),
    )
    description = (
        pl.when(purpose.is_not_null() & operation.is_not_null())
        .then(pl.format("{} ({})", purpose, operation))
        .otherwise(pl.coalesce(purpose, operation, pl.col("type")))
    )
    # "0" with no bank is the export's placeholder for "no partner" (cash, card).
    partner = pl.when(pl.col("account") != "0").then(pl.col("account"))
    counterparty = (
        pl.when(pl.col("bank").is_not_null())
        .then(pl.format("{}/{}", pl.col("account").fill_null("?"), pl.col("bank")))
        .otherwise(partner)
    )
    return rows.select(
        (pl.lit("berka-") + pl.col("account_id")).alias("account_id"),
        pl.col("trans_id").alias("transaction_id"),
        _iso_date("date").alias("booked_at"),
        (sign + pl.col("amount")).alias("amount"),
        pl.lit(CURRENCY).alias("currency"),
        description.alias("description"),
        counterparty.alias("counterparty"),
        channel.alias("channel"),
        pl.col("balance").alias("balance_after"),
        LOCATION,
        *_error(
            _bad_date("date"),
            (
                sign.is_null(),
                "type",
                _quoted("type") + pl.lit(f" is not a transaction type ({', '.join(TYPE_SIGN)})"),
            ),
            (
                pl.col("amount").str.contains(r"^[+-]"),
                "amount",
                _quoted("amount") + pl.lit(" is signed; the type gives the sign"),
            ),
        ),
    )


_MAPPERS = {"client": _customers, "account": _accounts, "loan": _loans, "trans": _transactions}


@readers.register("berka")
class BerkaReader(Reader):
    """The PKDD'99 Czech bank files, recognised by their exact header lines.

    The reader ignores the column mapping: the export's layout is fixed and mapped here.
    """

    name = "berka"

    def sniff(self, head: bytes, path: Path) -> float:
        return 0.9 if _which(head) else 0.0

    def read(self, path: Path, mapping: Mapping, batch_size: int) -> Iterator[Chunk]:
        try:
            with path.open("rb") as fh:
                which = _which(fh.read(4096))
        except OSError as exc:
            raise IngestError(f"{path}: {exc}") from exc
        if which is None:
            raise IngestError(f"{path}: not a file of the PKDD'99 Czech bank export")
        table = _read_table(path)
        source = str(path)
        if which not in _MAPPERS:
            empty = pl.DataFrame({LOCATION: pl.Series([], dtype=pl.Utf8)})
            notes = [*table.notes, _NOTES[which]]
            yield Chunk(RecordKind.ACCOUNT, empty, source, _options(), table.rejects, notes)
            return
        mapped = _MAPPERS[which](table.frame, path, table.notes)
        bad = mapped.filter(pl.col(_REASON).is_not_null()).select(LOCATION, _FIELD, _REASON)
        raw = table.frame.join(bad, on=LOCATION, how="semi").select(
            LOCATION,
            pl.concat_str(pl.exclude(LOCATION).fill_null(""), separator=";").alias("raw"),
        )
        rejects = table.rejects + [
            Reject(source, loc, reason, fld, line[:500])
            for loc, fld, reason, line in bad.join(raw, on=LOCATION).iter_rows()
        ]
        rejects.sort(key=lambda r: int(r.location.removeprefix("line ")))
        good = mapped.filter(pl.col(_REASON).is_null()).drop(_FIELD, _REASON)
        kind = _KINDS[which]
        for offset in range(0, max(good.height, 1), batch_size):
            first = offset == 0
            yield Chunk(
                kind,
                good.slice(offset, batch_size),
                source,
                _options(),
                rejects if first else [],
                table.notes if first else [],
            )


# -- for evaluation -------------------------------------------------------------------------


def _strict_table(path: Path, which: str) -> pl.DataFrame:
    try:
        with path.open("rb") as fh:
            found = _which(fh.read(4096))
    except OSError as exc:
        raise IngestError(f"{path}: {exc}") from exc
    if found != which:
        raise IngestError(f"{path}: not the {which}.asc file of the PKDD'99 Czech bank export")
    table = _read_table(path)
    if table.rejects:
        raise IngestError(f"{path}: {table.rejects[0].location}: {table.rejects[0].reason}")
    return table.frame


def read_standing_orders(path: Path) -> pl.DataFrame:
    """The standing orders of ``order.asc``: the recurring payments the bank itself knew of, the
    real-data yardstick for recurring-series detection.

    Columns: ``order_id``, ``account_id`` (``berka-<id>``, as loaded), ``counterparty``
    (``account/bank`` as in the transactions), ``amount_minor`` (the debit, positive),
    ``currency``, ``k_symbol`` (as in the file) and ``purpose`` (household payment, loan payment,
    insurance payment, leasing, or null when the bank left it blank). A row that does not read
    raises ``IngestError``: a yardstick with holes would mislead.
    """
    rows = _strict_table(path, "order")
    cents = rows["amount"].str.extract_groups(r"^(\d+)(?:\.(\d{1,2}))?$")
    frame = rows.with_columns(
        whole=cents.struct.field("1").cast(pl.Int64),
        frac=cents.struct.field("2").fill_null("0").str.pad_end(2, "0").cast(pl.Int64),
    )
    broken = frame.filter(pl.col("whole").is_null())
    if broken.height:
        where, amount = broken.row(0, named=True)[LOCATION], broken["amount"][0]
        raise IngestError(f"{path}: {where}: amount {amount!r} is not an amount")
    return frame.select(
        pl.col("order_id"),
        (pl.lit("berka-") + pl.col("account_id")).alias("account_id"),
        pl.format("{}/{}", "account_to", "bank_to").alias("counterparty"),
        (pl.col("whole") * 100 + pl.col("frac")).alias("amount_minor"),
        pl.lit(CURRENCY).alias("currency"),
        pl.col("k_symbol"),
        pl.col("k_symbol")
        .replace_strict({k: v[0] for k, v in K_SYMBOLS.items()}, default=pl.col("k_symbol"))
        .alias("purpose"),
    )


def read_cards(path: Path) -> pl.DataFrame:
    """The cards of ``card.asc`` with the account and the customer holding each (through
    ``disp.asc`` beside it): real product holdings, e.g. for judging product propensity.

    Columns: ``card_id``, ``account_id`` (``berka-<id>``), ``customer_id``
    (``berka-client-<id>``), ``type`` (junior, classic, gold) and ``issued`` (a date).
    """
    cards = _strict_table(path, "card")
    disp_path = path.parent / "disp.asc"
    if not disp_path.is_file():
        raise IngestError(f"{path}: cards name their holder through disp.asc, not found beside")
    disp = _strict_table(disp_path, "disp").select("disp_id", "client_id", "account_id")
    joined = cards.join(disp, on="disp_id", how="left")
    orphans = joined.filter(pl.col("account_id").is_null())
    if orphans.height:
        raise IngestError(
            f"{path}: {orphans[LOCATION][0]}: disposition {orphans['disp_id'][0]} not in disp.asc"
        )
    return joined.select(
        pl.col("card_id"),
        (pl.lit("berka-") + pl.col("account_id")).alias("account_id"),
        (pl.lit("berka-client-") + pl.col("client_id")).alias("customer_id"),
        pl.col("type"),
        _iso_date("issued").str.to_date("%Y-%m-%d", strict=False).alias("issued"),
    )
