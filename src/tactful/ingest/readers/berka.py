"""The PKDD'99 Czech bank export ("Berka"): a real relational bank dump, read as it is.

The files are linked by ids rather than self-contained, so this reader reads a file's siblings
when it needs them: ``disp.asc`` says who owns an account, ``district.asc`` where a client lives.
Mapping (see ``docs/mappings/berka.md``):

* ``client.asc`` -> customers ``berka-client-<id>``, EU / cs_CZ / Europe/Prague; gender and age
  band (on 1999-01-01, the end of the data) decoded from the birth number (month + 50 = woman);
  segment = the district's region.
* ``account.asc`` -> checking accounts ``berka-<id>`` in CZK, owned by the disposition's OWNER.
* ``loan.asc`` -> loan accounts ``berka-loan-<id>``, balance = minus the principal at grant date.
* ``trans_test.csv`` (the FEUP release of the transactions, already translated to English) ->
  transactions with the bank's own ``trans_id``; withdrawals are negative.
* ``order.asc`` (standing orders) are instructions, not bookings: not loaded; see
  ``read_standing_orders`` for the evaluation of recurring-series detection.
* ``disp.asc``, ``district.asc`` and ``card.asc`` are lookups or product facts, not records of
  their own: they are read where needed and otherwise noted.
"""

from __future__ import annotations

import csv
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import polars as pl

from tactful.errors import IngestError
from tactful.ingest.mapping import Mapping
from tactful.ingest.readers.base import Reader, readers
from tactful.ingest.schema import LOCATION, Chunk, RecordKind, Reject, SourceOptions

HEADERS: dict[str, str] = {
    '"client_id";"birth_number";"district_id"': "client",
    '"account_id";"district_id";"frequency";"date"': "account",
    '"disp_id";"client_id";"account_id";"type"': "disp",
    '"loan_id";"account_id";"date";"amount";"duration";"payments";"status"': "loan",
    '"card_id";"disp_id";"type";"issued"': "card",
    '"order_id";"account_id";"bank_to";"account_to";"amount";"k_symbol"': "order",
    "A1;A2;A3;A4;A5;A6;A7;A8;A9;A10;A11;A12;A13;A14;A15;A16": "district",
    "trans_id;account_id;date;type;operation;amount;balance;k_symbol;bank;account": "trans",
    "loan_id;account_id;date;amount;duration;payments;status": "feup_loan",
}
OPTIONS = SourceOptions(decimal=".", timezone="Europe/Prague", currency="CZK")
AS_OF = date(1999, 1, 1)
K_SYMBOLS = {
    "SIPO": "household",
    "UVER": "loan payment",
    "POJISTNE": "insurance payment",
    "LEASING": "leasing",
    "": "",
}
_CHANNEL = {
    "withdrawal in cash": "cash",
    "credit in cash": "cash",
    "remittance to another bank": "transfer",
    "collection from another bank": "transfer",
    "credit card withdrawal": "card",
}


def _which(head: bytes) -> str | None:
    first = head.lstrip(b"\xef\xbb\xbf").split(b"\n", 1)[0].strip().decode("latin-1")
    return HEADERS.get(first)


def _read(path: Path) -> list[dict[str, str]]:
    try:
        with path.open(encoding="utf-8", newline="") as fh:
            return list(csv.DictReader(fh, delimiter=";"))
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise IngestError(f"{path}: {exc}") from exc


def _yymmdd(text: str) -> str:
    """``'930705'`` or ``'931107 00:00:00'`` -> ``'19930705'``; the data spans 1993-1998."""
    digits = text.strip().split(" ")[0]
    return f"19{digits}" if len(digits) == 6 and digits.isdigit() else text


def birth(birth_number: str) -> tuple[date, str]:
    """(birth date, 'F' or 'M') from a Czech birth number: women's months are + 50."""
    yy, mm, dd = int(birth_number[:2]), int(birth_number[2:4]), int(birth_number[4:6])
    gender = "F" if mm > 50 else "M"
    return date(1900 + yy, mm - 50 if mm > 50 else mm, dd), gender


def age_band(born: date, on: date = AS_OF) -> str:
    age = on.year - born.year - ((on.month, on.day) < (born.month, born.day))
    for low, high in ((0, 17), (18, 24), (25, 34), (35, 44), (45, 54), (55, 64)):
        if low <= age <= high:
            return f"{low}-{high}" if low else "under 18"
    return "65+"


def _owners(folder: Path) -> dict[str, str]:
    disp = folder / "disp.asc"
    if not disp.exists():
        return {}
    return {r["account_id"]: r["client_id"] for r in _read(disp) if r["type"] == "OWNER"}


def _regions(folder: Path) -> dict[str, str]:
    district = folder / "district.asc"
    if not district.exists():
        return {}
    return {r["A1"]: r["A3"] for r in _read(district)}


def _frame(
    kind: RecordKind,
    rows: list[dict[str, str | None]],
    locations: list[str],
    path: Path,
    rejects: list[Reject],
    notes: list[str] | None = None,
) -> Chunk:
    names = sorted({k for r in rows for k in r})
    data = {n: pl.Series(n, [r.get(n) for r in rows], dtype=pl.Utf8) for n in names}
    data[LOCATION] = pl.Series(LOCATION, locations, dtype=pl.Utf8)
    return Chunk(kind, pl.DataFrame(data), str(path), OPTIONS, rejects, notes or [])


@readers.register("berka")
class BerkaReader(Reader):
    """The PKDD'99 Czech bank files, recognised by their exact header lines."""

    name = "berka"

    def sniff(self, head: bytes, path: Path) -> float:
        return 0.9 if _which(head) else 0.0

    def read(self, path: Path, mapping: Mapping, batch_size: int) -> Iterator[Chunk]:
        with path.open("rb") as fh:
            which = _which(fh.read(4096))
        if which is None:
            raise IngestError(f"{path}: not a file of the PKDD'99 Czech bank export")
        rows = _read(path)
        if which in ("disp", "district", "card", "order", "feup_loan"):
            note = {
                "disp": "dispositions link clients to accounts: read by client.asc/account.asc",
                "district": "districts are read by client.asc for the customer's region",
                "card": "cards are products on an account, not accounts: not loaded",
                "order": "standing orders are instructions, not bookings: not loaded "
                "(see read_standing_orders)",
                "feup_loan": "the FEUP split of loan.asc (same loans): loan.asc is loaded",
            }[which]
            yield _frame(RecordKind.ACCOUNT, [], [], path, [], [note])
            return
        records: list[dict[str, str | None]] = []
        locations: list[str] = []
        rejects: list[Reject] = []
        kind = {
            "client": RecordKind.CUSTOMER,
            "account": RecordKind.ACCOUNT,
            "loan": RecordKind.ACCOUNT,
            "trans": RecordKind.TRANSACTION,
        }[which]
        owners = _owners(path.parent) if which in ("account", "loan") else {}
        regions = _regions(path.parent) if which == "client" else {}
        for line, row in enumerate(rows, start=2):
            try:
                records.append(self._record(which, row, owners, regions))
            except (KeyError, ValueError, TypeError, IndexError) as exc:
                rejects.append(
                    Reject(
                        str(path),
                        f"line {line}",
                        f"unreadable record: {exc}",
                        None,
                        ";".join(str(v) for v in row.values())[:500],
                    )
                )
                continue
            locations.append(f"line {line}")
            if len(records) >= batch_size:
                yield _frame(kind, records, locations, path, rejects)
                records, locations, rejects = [], [], []
        if records or rejects:
            yield _frame(kind, records, locations, path, rejects)

    @staticmethod
    def _record(
        which: str, row: dict[str, str], owners: dict[str, str], regions: dict[str, str]
    ) -> dict[str, str | None]:
        if which == "client":
            born, gender = birth(row["birth_number"])
            return {
                "customer_id": f"berka-client-{row['client_id']}",
                "region": "EU",
                "locale": "cs_CZ",
                "timezone": "Europe/Prague",
                "personalization_level": "basic",
                "segment": regions.get(row["district_id"]),
                "age_band": age_band(born),
                "gender": gender,
            }
        if which == "account":
            owner = owners.get(row["account_id"])
            return {
                "account_id": f"berka-{row['account_id']}",
                "account_type": "checking",
                "currency": "CZK",
                "opened_on": _yymmdd(row["date"]),
                "customer_id": f"berka-client-{owner}" if owner else None,
                "name": f"Current account ({row['frequency'].lower()})",
            }
        if which == "loan":
            owner = owners.get(row["account_id"])
            return {
                "account_id": f"berka-loan-{row['loan_id']}",
                "account_type": "loan",
                "currency": "CZK",
                "balance": f"-{row['amount']}",
                "balance_as_of": _yymmdd(row["date"]),
                "opened_on": _yymmdd(row["date"]),
                "customer_id": f"berka-client-{owner}" if owner else None,
                "name": f"Loan, {row['duration']} months at {row['payments']} CZK",
            }
        kind_of = row["type"].strip()
        operation = row["operation"].strip()
        k_symbol = row["k_symbol"].strip()
        if kind_of not in ("credit", "withdrawal", "withdrawal in cash"):
            raise ValueError(f"unknown transaction type {kind_of!r}")
        sign = "" if kind_of == "credit" else "-"
        channel = _CHANNEL.get(operation, "other")
        if k_symbol == "interest credited":
            channel = "interest"
        elif k_symbol in ("sanction interest if negative balance", "payment for statement"):
            channel = "fee"
        description = " / ".join(p for p in (operation, k_symbol) if p) or kind_of
        counterparty = f"{row['bank']} {row['account']}".strip() or None
        return {
            "account_id": f"berka-{row['account_id']}",
            "transaction_id": row["trans_id"],
            "booked_at": _yymmdd(row["date"]),
            "amount": sign + row["amount"].strip(),
            "currency": "CZK",
            "description": description,
            "counterparty": counterparty,
            "channel": channel,
            "balance_after": row["balance"].strip() or None,
        }


def read_standing_orders(path: Path) -> pl.DataFrame:
    """The standing orders of ``order.asc``: the recurring payments the bank itself knows of,
    the ground truth for judging recurring-series detection on real data."""
    rows = _read(path)
    return pl.DataFrame(
        {
            "order_id": [r["order_id"] for r in rows],
            "account_id": [f"berka-{r['account_id']}" for r in rows],
            "bank_to": [r["bank_to"] for r in rows],
            "account_to": [r["account_to"] for r in rows],
            "amount_minor": [round(float(r["amount"]) * 100) for r in rows],
            "currency": ["CZK"] * len(rows),
            "kind": [K_SYMBOLS.get(r["k_symbol"].strip(), r["k_symbol"].strip()) for r in rows],
        }
    )
