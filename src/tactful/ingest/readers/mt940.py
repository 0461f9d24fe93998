"""SWIFT MT940 statements as real banks write them, read leniently but exactly.

Banks bend the layout in every direction: ``:28:`` or ``:28C:`` with any statement number
(``00001/001``, ``1``, ``5/1``); SWIFT block headers (``{1:...}{4:``) and ``-}`` trailers;
``:61:`` lines with blanks for the entry date, a funds code after the mark, a two-letter
transaction type padded with a blank (old ING files: ``NOV NONREF``) or no type at all (Zenith
Bank: ``CN220000,00//19239782213``), references longer than the 16 characters allowed, and
supplementary details on the lines that follow; ``:25:`` accounts with the statement's currency
appended (``NL10BUNQ2290325473 EUR``, ``1291.99.348EUR``); several
``:86:`` tags for one transaction, or one ``:86:`` over many lines; amounts with a decimal
point instead of the comma. None of it is a reason to lose a transaction, and none of it may
change an amount: so the statement lines and balances are parsed here, to the character, and
only the German structured ``:86:`` (``?20``...) is handed to the ``mt940`` package's details
parser, which knows its sub-fields.

Every statement's :60F:/:60M: opening plus its :61: lines must give its :62F:/:62M: closing
(``reconcile.py``); a statement that does not add up loads none of its lines.

Banks send MT940 in cp1252, Latin-1 or DOS code pages as often as in UTF-8, so the bytes are
decoded by the shared rule rather than by the package.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any, ClassVar

import mt940
from mt940.processors import transaction_details_post_processor

from tactful.domain.money import known_currencies
from tactful.errors import IngestError
from tactful.ingest.mapping import Mapping
from tactful.ingest.readers._statement import (
    MOVEMENT,
    SWIFT_CHANNELS,
    Collected,
    Row,
    decode_file,
    join_text,
    read_bytes,
)
from tactful.ingest.readers.base import Reader, readers
from tactful.ingest.reconcile import Balance, Movement, reconcile, to_minor
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
_TAG = re.compile(r"^:(\d{2}[A-Z]?|NS):")
_NO_REFERENCE = {"", "NONREF", "NOTPROVIDED"}
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


_BALANCE = re.compile(r"(?P<mark>[CD])(?P<date>\d{6})(?P<currency>[A-Z]{3})(?P<amount>[\d.,]+)")
# :61: is 6!n[4!n]2a[1!a]15d1!a3!c16x[//16x]: value date, entry date (or blanks), mark (C, D,
# RC, RD), funds code, the amount (digits and one mark only), then the transaction type: N, S
# or F and three characters, which may be blanks (or cut off with the line end) as old ING
# files pad two-letter codes and Sberbank Hungary writes a bare ``S   ``; or no type at all
# where ``//`` or the line end follows the amount (Zenith Bank), the funds code then being the
# currency's third letter (``CN220000,00``).
_LINE_61 = re.compile(
    r"(?P<value>\d{6})(?P<entry>\d{4}| {4})?(?P<mark>R?[DC])(?:[A-Z](?=[\d.,]))?"
    r"(?P<amount>[\d.,]+)(?P<type>[NSF][A-Z0-9 ]{2}(?:[A-Z0-9 ]|$)|(?=//|$))(?P<rest>.*)",
    re.IGNORECASE,
)
# The same line read loosely, the amount running to the first transaction type or the line end:
# it names what stands where the amount should (``4x,83``), and it still takes blanks around an
# amount (``D 4,83 NTRF``). Only an amount of digits is ever accepted from it.
_LINE_61_LOOSE = re.compile(
    r"(?P<value>\d{6})(?P<entry>\d{4}| {4})?(?P<mark>R?[DC])(?:[A-Z](?=[\d.,]))?"
    r"(?P<amount>.*?)(?P<type>[NSF][A-Z0-9]{3}|$)(?P<rest>.*)",
    re.IGNORECASE,
)
_IBAN = re.compile(r"[A-Z]{2}\d{2}[A-Z0-9]{11,30}")
_AMOUNT = re.compile(r"\d+([.,]\d*)?")
_BALANCE_TAGS = {"60F": "opening", "60M": "opening", "62F": "closing", "62M": "closing"}


@dataclass
class _Block:
    """One :61: line with its supplementary lines and its :86: text."""

    line: int
    first: str
    supplement: list[str] = field(default_factory=list)
    details: list[str] = field(default_factory=list)
    free: list[str] = field(default_factory=list)  # :NS: lines (Austrian / Hungarian banks)


@dataclass
class _Statement:
    number: int
    line: int
    header: list[tuple[int, str, str]] = field(default_factory=list)  # (line, tag, value)
    blocks: list[_Block] = field(default_factory=list)


def _split(text: str) -> list[_Statement]:
    """Statements at ``:20:``; in each, one block per ``:61:`` running to the next other tag.

    A tag's value goes on over the lines that follow it up to the next tag, except for the
    end of a SWIFT block (``-}``, ``-``) and the next block's header (``{1:``).
    """
    statements: list[_Statement] = []
    block: _Block | None = None
    target: list[str] | None = None  # where an untagged line goes on
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.rstrip()
        tag = _TAG.match(line)
        if tag and tag.group(1) == "20":
            statements.append(_Statement(len(statements) + 1, number))
            block, target = None, None
        if not statements:
            continue
        current = statements[-1]
        if tag is None:
            if line.startswith(("-", "{")) or line.strip() == "":
                target = None if line.strip() else target
                continue
            if target is not None:
                target.append(line)
            continue
        name, value = tag.group(1), line[tag.end() :]
        if name == "61":
            block = _Block(number, value)
            current.blocks.append(block)
            target = block.supplement
        elif name in ("86", "NS") and block is not None:
            target = block.details if name == "86" else block.free
            target.append(value)
        else:
            block = None
            current.header.append((number, name, value))
            target = None
    return statements


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
        described = join_text(remittance, fields.get("TRTP"), sep=" / ")
        if not described:
            # keyed, but not the Dutch way (Komercijalna Banka: /BENM/ then the payee's name and
            # the purpose on unkeyed lines): the text itself rather than nothing
            described = " ".join(_NL_FIELD.sub(" ", flat).replace("//", " / ").split()).strip("/ ")
        return described or None, fields.get("NAME") or None
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
    ``:61:`` entry date when given (else the value date), in the year that puts it nearest the
    value date; ``RD`` (a reversed debit) is a credit and ``RC`` a debit.
    """

    name: ClassVar[str] = "mt940"

    def sniff(self, head: bytes, path: Path) -> float:
        text = head.decode("latin-1")
        tags = {m.group(1) for m in re.finditer(r"(?m)^:(\d\d[A-Z]?):", text)}
        # an MT942 interim report has no balances but its floor limit (:34F:)
        return 0.9 if {"20", "25"} <= tags and tags & {"60F", "60M", "34F"} else 0.0

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


@dataclass
class _Header:
    account_id: str = ""
    currency: str | None = None
    opening: tuple[int | None, str] | None = None
    closing: tuple[str, date, int | None, str] | None = None  # amount text, date, minor, label
    problem: str | None = None


def _is_iban(text: str) -> bool:
    """Whether ``text`` is an IBAN whose check digits hold (ISO 13616, mod 97)."""
    if not _IBAN.fullmatch(text):
        return False
    return int("".join(str(int(c, 36)) for c in text[4:] + text[:4])) % 97 == 1


def _account_currency(account: str, currency: str | None) -> tuple[str, str | None]:
    """``:25:`` without the ISO currency banks append to it (``NL10BUNQ2290325473 EUR``,
    ``1291.99.348EUR``), and that currency; else the account as written and None.

    The three letters go only when they are the statement's own currency (or, for a statement
    without balances, a known ISO 4217 code) and follow a blank or a digit; and not when the
    whole is an IBAN and the rest is not, since Mauritian and Seychellois IBANs end in their
    currency (``MU17BOMM0101101030300200000MUR``). ``BANK/ACCOUNT/HUF`` stays as written.
    """
    head, code = account[:-3], account[-3:]
    separated = head.endswith(" ") and head.strip() != ""
    if not (separated or head[-1:].isdigit()):
        return account, None
    if _is_iban(account) and not _is_iban(head.rstrip()):
        return account, None
    if code == currency or (currency is None and code in known_currencies()):
        return head.rstrip(), code
    return account, None


def _header(statement: _Statement) -> _Header:
    out = _Header()
    floor_currency: str | None = None
    for _, name, value in statement.header:
        if name == "25":
            out.account_id = value.strip()
        elif name == "34F" and value[:3] in known_currencies():
            floor_currency = value[:3]  # MT942's floor limit: the report's currency
        elif name in _BALANCE_TAGS:
            found = _BALANCE.fullmatch(value.strip())
            amount = _amount(found["amount"]) if found else None
            day = _yymmdd(found["date"]) if found else None
            if found is None or amount is None or day is None:
                shown = value if len(value) <= 40 else value[:39] + "…"
                out.problem = out.problem or f":{name}: {shown!r} does not follow the MT940 layout"
                continue
            signed = amount if found["mark"] == "C" else -amount
            out.currency = out.currency or found["currency"]
            minor = to_minor(signed, found["currency"])
            label = f":{name}: of {day.isoformat()}"
            if _BALANCE_TAGS[name] == "opening" and out.opening is None:
                out.opening = (minor, label)
            elif _BALANCE_TAGS[name] == "closing":
                out.closing = (format(signed, "f"), day, minor, label)
    out.currency = out.currency or floor_currency
    out.account_id, code = _account_currency(out.account_id, out.currency)
    out.currency = out.currency or code
    return out


def _collect(statement: _Statement, out: Collected) -> None:
    where = f"statement {statement.number} at line {statement.line}"
    lost = f"its {len(statement.blocks)} transactions were not read"
    header = _header(statement)
    if header.problem:
        raw = "\n".join(f":{name}:{value}" for _, name, value in statement.header)
        out.reject_account(where, f"statement header cannot be read: {header.problem}; {lost}", raw)
        return
    if not header.account_id:
        out.reject_account(where, f"statement has no account (:25:); {lost}")
        return
    if header.currency is None:
        out.reject_account(
            where,
            f"statement has no balance (:60F:, :62F:) nor floor limit (:34F:) to give its "
            f"currency; {lost}",
        )
        return
    closing = header.closing
    out.add_account(
        {
            "account_id": header.account_id,
            "account_type": "checking",
            "currency": header.currency,
            "balance": closing[0] if closing else None,
            "balance_as_of": closing[1].isoformat() if closing else None,
            LOCATION: where,
        }
    )
    movements: list[Movement] = []
    rows: list[Row] = []
    for block in statement.blocks:
        row, minor = _transaction(block, header.account_id, header.currency, out)
        movements.append(Movement(f"line {block.line}", minor))
        if row is not None:
            out.items.append(row)
            rows.append(row)
    opening = header.opening
    result = reconcile(
        Balance(opening[0], opening[1]) if opening and opening[0] is not None else None,
        movements,
        Balance(closing[2], closing[3]) if closing and closing[2] is not None else None,
    )
    out.check(where.rsplit(" at line ", 1)[0] + f" ({header.account_id})", result, rows)


def _yymmdd(text: str) -> date | None:
    try:
        year = int(text[:2])
        return date(year + (2000 if year < 80 else 1900), int(text[2:4]), int(text[4:6]))
    except ValueError:
        return None


def _entry_date(mmdd: str, value: date) -> date | None:
    """The entry date (no year of its own) in the year that puts it nearest the value date: a
    December booking of a January value date is in the year before."""
    best: date | None = None
    for year in (value.year - 1, value.year, value.year + 1):
        try:
            day = date(year, int(mmdd[:2]), int(mmdd[2:]))
        except ValueError:
            continue
        if best is None or abs((day - value).days) < abs((best - value).days):
            best = day
    return best


def _amount(text: str) -> Decimal | None:
    """An MT940 amount read exactly: one decimal mark, comma by the standard or a point as
    some banks write it (``772.55``, ``138619.``); no thousands marks exist in MT940."""
    return Decimal(text.replace(",", ".")) if _AMOUNT.fullmatch(text) else None


def _transaction(
    block: _Block, account_id: str, currency: str, out: Collected
) -> tuple[Row | None, int | None]:
    """The row of one :61: block and its signed amount in minor units; or a reject and None,
    which leaves the statement's balances uncheckable (its good lines still load)."""
    where = f"line {block.line}"
    first = block.first.strip()
    found = _LINE_61.fullmatch(first) or _LINE_61_LOOSE.fullmatch(first)
    raw = ":61:" + block.first
    if found is None:
        shown = first if len(first) <= 40 else first[:39] + "…"
        out.reject(
            where,
            f"malformed statement line: :61: {shown!r} does not follow the MT940 layout",
            None,
            raw,
        )
        return None, None
    value = _yymmdd(found["value"])
    entry = found["entry"] if found["entry"] and found["entry"].strip() else None
    booked = _entry_date(entry, value) if entry and value else value
    text = found["amount"].strip()
    amount = _amount(text) if len(text) <= 15 else None
    mark = found["mark"].upper()
    signed = None if amount is None else amount if mark in ("C", "RD") else -amount
    minor = to_minor(signed, currency) if signed is not None else None
    problem = (
        f"value date {found['value']!r} is not a calendar date"
        if value is None
        else f"entry date {entry!r} is not a calendar date"
        if booked is None
        else "an amount is not a number"
        if amount is None and re.fullmatch(r"[\d.,]+", text) and len(text) <= 15
        else f":61: amount {text[:19] + '…' if len(text) > 20 else text!r} is not an MT940 "
        "amount (digits and a decimal comma or point)"
        if signed is None
        else None
    )
    if problem is not None or signed is None or booked is None:
        out.reject(where, f"malformed statement line: {problem}", None, raw)
        return None, None
    reference = next(iter(found["rest"].partition("//")[2].split()), "")
    data = _detail_data(block)
    data["id"] = (found["type"] or "").strip()
    description, counterparty = _details(data)
    supplement = " ".join(" ".join(block.supplement).split()) or None
    return {
        "account_id": account_id,
        "transaction_id": None if reference.upper() in _NO_REFERENCE else reference,
        "booked_at": booked.isoformat(),
        "value_at": value.isoformat() if value else None,
        "amount": format(signed, "f"),
        "currency": currency,
        "description": join_text(description, supplement, sep=" / ") if description else supplement,
        "counterparty": counterparty,
        "mcc": None,
        "channel": _channel(data),
        "status": "posted",
        LOCATION: where,
        MOVEMENT: where,
    }, minor


def _free_text(lines: list[str]) -> str:
    """The words of ``:NS:`` lines: each begins with a two-digit code; the lines that hold words
    (a purpose, the payee's name) are kept, codes, dates and references are not."""
    kept = [line[2:].strip() for line in lines if len(re.findall(r"[^\W\d_]", line[2:])) >= 3]
    return " ".join(kept)


def _detail_data(block: _Block) -> dict[str, Any]:
    """The :86: text, split into the German structured sub-fields when it has them; without a
    :86:, the words of the bank's :NS: lines."""
    text = "\n".join(block.details) or _free_text(block.free)
    data: dict[str, Any] = {"transaction_details": text}
    if not text:
        return data
    transactions = mt940.models.Transactions(options=_OPTIONS)
    try:
        return dict(
            transaction_details_post_processor(
                transactions, mt940.tags.TransactionDetails(), dict(data), dict(data)
            )
        )
    except Exception:  # the package's sub-field parser on odd text: keep the text as it is
        return data
