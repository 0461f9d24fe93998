"""SWIFT MT940 statements, including the German (DK) and Dutch ``:86:`` dialects.

The ``mt940`` package parses the tags, but it parses a whole file in one go and gives up at the
first line it cannot read. So the file is cut here into statements (at ``:20:``) and each
statement into its header and one block per ``:61:`` line (with its ``:86:``); the package
parses each piece on its own, and a broken ``:61:`` costs only its own transaction.

Banks send MT940 in cp1252 or Latin-1 as often as in UTF-8, so the bytes are decoded by the
shared rule (UTF-8, else cp1252) rather than by the package's cp852 fallback.
"""

from __future__ import annotations

import decimal
import logging
import re
from collections.abc import Iterator
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any, ClassVar

import mt940

from tactful.errors import IngestError
from tactful.ingest.mapping import Mapping
from tactful.ingest.readers._statement import (
    SWIFT_CHANNELS,
    Collected,
    Row,
    decode_file,
    join_text,
    read_bytes,
)
from tactful.ingest.readers.base import Reader, readers
from tactful.ingest.schema import LOCATION, Chunk

_OPTIONS = mt940.Options(
    applicant_iban=True,
    merge_keeps_values=True,
    reversal_sign=True,
    case_insensitive_marks=True,
    unbounded_details=True,
    non_swift_free_text=True,
    floor_limit_blank_mark=True,
    gvc_leading_text=True,
)
# The package logs every line it cannot match, with its whole pattern, at ERROR; the reader
# turns those lines into rejects, so without a handler of the application's they stay quiet.
logging.getLogger("mt940").addHandler(logging.NullHandler())
_TAG = re.compile(r"^:(\d{2}[A-Z]?|NS):")
_NO_REFERENCE = {"", "NONREF", "NOTPROVIDED"}
# German "Geschaeftsvorfallcodes" (the three digits that open a structured :86:), for banks
# whose :61: type code says no more than NMSC.
_GVC_CHANNELS = {
    "004": "direct_debit",
    "005": "direct_debit",
    "105": "direct_debit",
    "008": "standing_order",
    "117": "standing_order",
    "152": "standing_order",
    "020": "transfer",
    "051": "transfer",
    "053": "transfer",
    "116": "transfer",
    "153": "transfer",
    "166": "transfer",
    "177": "transfer",
    "083": "atm",
    "082": "cash",
    "808": "fee",
    "809": "fee",
    "814": "interest",
}
_NL_KEYS = (
    "TRTP",
    "IBAN",
    "BIC",
    "NAME",
    "REMI",
    "EREF",
    "MARF",
    "CSID",
    "ORDP",
    "BENM",
    "ADDR",
    "PURP",
    "ULTC",
    "ULTD",
    "ISDT",
    "RTRN",
    "SVCL",
    "FX",
    "ID",
)
_NL_FIELD = re.compile(r"/(" + "|".join(_NL_KEYS) + r")/")
_NL_CHANNELS = (
    ("SEPA OVERBOEKING", "transfer"),
    ("SEPA INCASSO", "direct_debit"),
    ("SEPA PERIODIEKE", "standing_order"),
    ("BEA ", "card"),
    ("GEA ", "atm"),
)


class _Statement:
    def __init__(self, number: int, line: int) -> None:
        self.number = number
        self.line = line
        self.header: list[str] = []
        self.blocks: list[tuple[int, list[str]]] = []


def _split(text: str) -> list[_Statement]:
    """Statements at ``:20:``; in each, one block per ``:61:`` running to the next other tag."""
    statements: list[_Statement] = []
    block: list[str] | None = None
    for number, line in enumerate(text.splitlines(), start=1):
        tag = _TAG.match(line)
        if tag and tag.group(1) == "20":
            statements.append(_Statement(len(statements) + 1, number))
            block = None
        if not statements:
            continue
        current = statements[-1]
        if tag and tag.group(1) == "61":
            block = [line]
            current.blocks.append((number, block))
        elif block is not None and (tag is None or tag.group(1) in ("86", "NS")):
            block.append(line)
        else:
            block = None
            current.header.append(line)
    return statements


# The package's one default pre-processor moves 30 February to the 28th (or 29th); an
# impossible date is a reject here, never another day.
_PROCESSORS: dict[str, list[Any]] = {"pre_statement": []}
# :61: up to its amount: value date, entry date, debit/credit mark, funds code; then the amount
# runs to the transaction type (1!a3!c, N/S/F and three characters) or the end of the line.
_LINE_61 = re.compile(
    r"^:61:(?P<value>\d{6})(?P<entry>\d{4})?(?:R?[DC])(?:[A-Z](?=\d))?"
    r"(?P<amount>.*?)(?:[NSF][A-Z0-9]{3}|$)",
    re.IGNORECASE,
)
_AMOUNT = re.compile(r"\d+(,\d*)?")


def _parse(lines: list[str], data: dict[str, Any] | None = None) -> mt940.models.Transactions:
    transactions = mt940.models.Transactions(processors=_PROCESSORS, options=_OPTIONS)
    transactions.data.update(data or {})
    transactions.parse("\n".join(lines))
    return transactions


def _problem(exc: Exception) -> str:
    """What went wrong, in words a bank's operator can act on.

    The package raises ``RuntimeError(message, tag, value)`` for a field that does not match
    its layout, and lets ``decimal`` and ``datetime`` errors through for bad amounts and dates.
    """
    if isinstance(exc, RuntimeError) and len(exc.args) == 3:
        tag, value = getattr(exc.args[1], "id", "?"), str(exc.args[2])
        shown = value if len(value) <= 40 else value[:39] + "…"
        return f":{tag}: {shown!r} does not follow the MT940 layout"
    if isinstance(exc, decimal.InvalidOperation):
        return "an amount is not a number"
    return str(exc) or type(exc).__name__


def _unwrap(text: str) -> str:
    """``:86:`` lines as one text: a full 65-character line was cut mid-word, others were not."""
    out, previous = "", 0
    for line in text.splitlines():
        out += line if previous >= 65 or not out else " " + line
        previous = len(line)
    return " ".join(out.split())


def _details(data: dict[str, Any]) -> tuple[str | None, str | None]:
    """(description, counterparty) from a ``:86:``, structured (German ``?20``, Dutch ``/NAME/``)
    or free text."""
    if "posting_text" in data or "purpose" in data:
        purpose = join_text(data.get("purpose"), data.get("additional_purpose"))
        return join_text(purpose, data.get("posting_text"), sep=" / "), data.get("applicant_name")
    flat = _unwrap(str(data.get("transaction_details") or ""))
    if _NL_FIELD.search(flat):
        parts = _NL_FIELD.split(flat)
        fields = {k: v.strip("/ ") for k, v in zip(parts[1::2], parts[2::2], strict=False)}
        remittance = re.sub(r"^(USTD|STRD)/+", "", fields.get("REMI", "")) or None
        return join_text(remittance, fields.get("TRTP"), sep=" / "), fields.get("NAME") or None
    return flat or None, None


def _channel(data: dict[str, Any]) -> str:
    """From the SWIFT type code, else the German GVC, else the Dutch transaction type."""
    code = str(data.get("id") or "").upper()[1:4]
    if code in SWIFT_CHANNELS:
        return SWIFT_CHANNELS[code]
    if found := _GVC_CHANNELS.get(str(data.get("transaction_code") or "")[:3]):
        return found
    details = _unwrap(str(data.get("transaction_details") or "")).upper()
    trtp = re.search(r"/TRTP/([^/]*)", details)
    kind = trtp.group(1) if trtp else details
    return next((channel for prefix, channel in _NL_CHANNELS if kind.startswith(prefix)), "other")


@readers.register("mt940")
class Mt940Reader(Reader):
    """Reads MT940 files: one or many statements, each for one account (``:25:``).

    Transaction ids are the bank reference after ``//`` in ``:61:``; ``NONREF`` or an id that
    repeats within the account is dropped so the loader derives one. The booking date is the
    ``:61:`` entry date when given (else the value date); ``RC`` (a reversed credit) is a debit.
    """

    name: ClassVar[str] = "mt940"

    def sniff(self, head: bytes, path: Path) -> float:
        text = head.decode("latin-1")
        tags = {m.group(1) for m in re.finditer(r"(?m)^:(\d\d[A-Z]?):", text)}
        return 0.9 if {"20", "25"} <= tags and tags & {"60F", "60M"} else 0.0

    def read(self, path: Path, mapping: Mapping, batch_size: int) -> Iterator[Chunk]:
        file_mapping = mapping.for_file(path)
        text, notes = decode_file(path, read_bytes(path), file_mapping.encoding)
        statements = _split(text)
        if not statements:
            raise IngestError(f"{path}: no MT940 statement (no line starts with :20:)")
        collected = Collected(str(path), notes=notes)
        for statement in statements:
            _collect(statement, collected)
        yield from collected.chunks(file_mapping, batch_size)


def _collect(statement: _Statement, out: Collected) -> None:
    where = f"statement {statement.number} at line {statement.line}"
    lost = f"its {len(statement.blocks)} transactions were not read"
    try:
        parsed = _parse(statement.header)
    except Exception as exc:  # the package raises anything from RuntimeError to KeyError
        out.reject_account(
            where,
            f"statement header cannot be read: {_problem(exc)}; {lost}",
            "\n".join(statement.header),
        )
        return
    header = parsed.data
    account_id = str(header.get("account_identification") or "").strip()
    if not account_id:
        out.reject_account(where, f"statement has no account (:25:); {lost}")
        return
    closing = (
        header.get("final_closing_balance")
        or header.get("closing_balance")
        or header.get("intermediate_closing_balance")
    )
    amount = getattr(closing, "amount", None)
    as_of = getattr(closing, "date", None)
    out.add_account(
        {
            "account_id": account_id,
            "account_type": "checking",
            "currency": parsed.currency,
            "balance": format(amount.amount, "f")
            if isinstance(amount, mt940.models.Amount)
            else None,
            "balance_as_of": as_of.isoformat() if as_of else None,
            LOCATION: where,
        }
    )
    for line, block in statement.blocks:
        row = _transaction(line, block, header, account_id, out)
        if row is not None:
            out.items.append(row)


def _bad_date(first: str) -> str | None:
    """Why the value or entry date of a ``:61:`` line is no calendar date, if it is not."""
    found = _LINE_61.match(first)
    if found is None:
        return None
    value, entry = found["value"], found["entry"]
    try:
        date(2000 + int(value[:2]), int(value[2:4]), int(value[4:]))
    except ValueError:
        return f"value date {value!r} is not a calendar date"
    try:
        if entry:
            date(2000, int(entry[:2]), int(entry[2:]))  # a leap year: 29 February may exist
    except ValueError:
        return f"entry date {entry!r} is not a calendar date"
    return None


def _bad_amount(first: str, parsed: Decimal) -> str | None:
    """Why the amount of a ``:61:`` line is not what the package read, if it is not.

    The package takes the longest run of digits and commas, so ``D4x,83`` came back as 4.00:
    the amount must run, whole, from the mark to the transaction type.
    """
    found = _LINE_61.match(first)
    text = found["amount"].strip() if found else ""
    shown = text if len(text) <= 20 else text[:19] + "…"
    if not _AMOUNT.fullmatch(text) or len(text) > 15:
        return f":61: amount {shown!r} is not an MT940 amount (digits and a decimal comma)"
    if Decimal(text.replace(",", ".")) != abs(parsed):
        return f":61: amount {shown!r} was read as {abs(parsed)}"
    return None


def _transaction(
    line: int, block: list[str], header: dict[str, Any], account_id: str, out: Collected
) -> Row | None:
    where = f"line {line}"
    if problem := _bad_date(block[0]):
        out.reject(where, f"malformed statement line: {problem}", None, block[0])
        return None
    try:
        parsed = _parse(block, header).transactions
    except Exception as exc:  # see _collect
        out.reject(where, f"malformed statement line: {_problem(exc)}", None, block[0])
        return None
    if not parsed or "amount" not in parsed[0].data:
        out.reject(where, "malformed statement line: no amount", None, block[0])
        return None
    data = parsed[0].data
    if problem := _bad_amount(block[0], data["amount"].amount):
        out.reject(where, f"malformed statement line: {problem}", None, block[0])
        return None
    booked = data.get("entry_date") or data.get("date")
    reference = str(data.get("bank_reference") or "").strip()
    description, counterparty = _details(data)
    return {
        "account_id": account_id,
        "transaction_id": None if reference.upper() in _NO_REFERENCE else reference,
        "booked_at": booked.isoformat() if booked else None,
        "value_at": data["date"].isoformat() if data.get("date") else None,
        "amount": format(data["amount"].amount, "f"),
        "currency": data["amount"].currency,
        "description": description,
        "counterparty": counterparty,
        "mcc": None,
        "channel": _channel(data),
        "status": "posted",
        LOCATION: where,
    }
