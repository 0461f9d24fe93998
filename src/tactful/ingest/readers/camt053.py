"""ISO 20022 camt.052, camt.053 and camt.054 bank-to-customer messages, version 001.02 on.

The three messages share their entries (``Ntry``) and differ in what wraps them: a statement
(camt.053 ``BkToCstmrStmt/Stmt``, end of day, booked), an account report (camt.052
``BkToCstmrAcctRpt/Rpt``, intraday, often with pending entries) or a debit/credit notification
(camt.054 ``BkToCstmrDbtCdtNtfctn/Ntfctn``, no balances). One reader reads them all; the message
is told by its namespace and root, never by the file name.

The file is parsed as a stream through defusedxml with DTDs forbidden: a statement never needs
one, and refusing it outright is the only safe answer to entity-expansion and external-entity
payloads. Entries are handled as their end tags arrive, so a truncated file still gives every
entry before the cut, plus one reject naming the line where the XML breaks off.

Versions differ in namespace (``...camt.053.001.02`` to ``.13``) and in a few shapes
(``<Sts>BOOK</Sts>`` became ``<Sts><Cd>BOOK</Cd></Sts>``, parties gained a ``Pty`` wrapper);
elements are matched by local name so one reader covers them all. Banks also write dates with
an offset (``<Dt>2017-04-11+02:00</Dt>``, which the XML date type allows): the date is kept.

A batch entry (one ``Ntry`` with several ``TxDtls``) becomes one row per transaction when each
carries its own amount in the account's currency (``TxDtls/Amt``, or ``AmtDtls/TxAmt/Amt`` in
001.02) and those amounts add up to the entry's, as camt defines them; otherwise it stays one row,
as the bank booked it. A reversal (``RvslInd`` true) counts as its ``CdtDbtInd`` says, which
is the reversal's own direction. An entry without a booking date (``BookgDt`` is optional in
camt.052 and camt.054) is booked on its value date, and its row's location says so.

Booked balances are checked against the booked entries of each statement (``reconcile.py``):
the opening (OPBD, else PRCD) plus every BOOK entry must give the closing (CLBD, else a single
ITBD of a report). A statement that does not add up loads none of its entries.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import DefusedXMLParser

from tactful.errors import IngestError
from tactful.ingest.mapping import Mapping
from tactful.ingest.readers import _camt_fields as _f
from tactful.ingest.readers._statement import (
    MOVEMENT,
    Collected,
    Row,
    decimal_text,
    join_text,
    negate,
)
from tactful.ingest.readers.base import Reader, readers
from tactful.ingest.reconcile import (
    Balance,
    Movement,
    Outcome,
    Reconciliation,
    reconcile,
    to_minor,
)
from tactful.ingest.schema import LOCATION, Chunk

NAMESPACE = "urn:iso:std:iso:20022:tech:xsd:camt.05"
# The element holding one account's entries, by its parent, and what to call it in messages.
_MESSAGES = {
    "BkToCstmrStmt": ("Stmt", "statement"),
    "BkToCstmrAcctRpt": ("Rpt", "report"),
    "BkToCstmrDbtCdtNtfctn": ("Ntfctn", "notification"),
}
_HOLDERS = frozenset(name for name, _ in _MESSAGES.values())
_KNOWN = re.compile(r"urn:iso:std:iso:20022:tech:xsd:camt\.05[234]\.")
_OPENING = ("OPBD", "PRCD")
_CLOSING = ("CLBD",)
_BLOCK = 1 << 16
_STATUS = {"BOOK": "posted", "PDNG": "pending", "FUTR": "pending"}


@dataclass
class _Statement:
    number: int
    line: int
    account_id: str | None = None
    currency: str | None = None
    balance: str | None = None
    balance_as_of: str | None = None
    reference: str | None = None
    finished: bool = False
    kind: str = "statement"
    balances: list[tuple[str, int | None, str]] = field(default_factory=list)
    movements: list[Movement] = field(default_factory=list)
    rows: list[Row] = field(default_factory=list)
    truncated: bool = False
    entry_currency: str | None = None  # for an Acct without Ccy (camt.052/054 often omit it)
    days: dict[str, Any] = field(default_factory=dict)
    """The dates of its opening and closing booked balances, by code."""

    def one_day(self) -> Any:
        """The day the statement covers when its opening and closing balances share it: an
        entry between them was booked that day, whatever dates it omits."""
        opening = next((self.days[c] for c in _OPENING if c in self.days), None)
        closing = next((self.days[c] for c in _CLOSING if c in self.days), None)
        return opening if opening is not None and opening == closing else None


class _Target(ET.TreeBuilder):
    """Builds elements under their local names and reports each end tag with its path."""

    def __init__(self, camt: _Camt) -> None:
        super().__init__()
        self.camt = camt
        self.expat: Any = None
        self.path: list[str] = []

    def start(self, tag: str, attrs: dict[str, str]) -> ET.Element:
        namespace, _, local = tag[1:].rpartition("}") if tag.startswith("{") else ("", "", tag)
        self.camt.started(local, namespace, self.path, self.expat.CurrentLineNumber)
        self.path.append(local)
        return super().start(local, attrs)

    def end(self, tag: str) -> ET.Element:
        local = self.path.pop()
        element = super().end(local)
        self.camt.ended(local, self.path, element)
        return element


class _Camt:
    """The reading state: the statement being read and the entries seen so far."""

    def __init__(self, out: Collected) -> None:
        self.out = out
        self.is_camt = False
        self.statements = 0
        self.entries = 0
        self.entry_line = 0
        self.in_entry = False
        self.undated = 0
        self.statement: _Statement | None = None

    def started(self, local: str, namespace: str, path: list[str], line: int) -> None:
        self.is_camt = self.is_camt or bool(_KNOWN.match(namespace))
        if path and path[-1] in _MESSAGES and local == _MESSAGES[path[-1]][0]:
            self.statements += 1
            self.statement = _Statement(self.statements, line, kind=_MESSAGES[path[-1]][1])
        elif local == "Ntry":
            self.entry_line, self.in_entry = line, True

    def ended(self, local: str, path: list[str], element: ET.Element) -> None:
        statement = self.statement
        if statement is None or not path:
            return
        if local in _HOLDERS and path[-1] in _MESSAGES:
            self.finish()
        elif path[-1] not in _HOLDERS:
            return
        elif local == "Id":
            statement.reference = _f.text(element, ".")
        elif local == "Acct":
            statement.account_id = _f.text(element, "Id/IBAN") or _f.text(element, "Id/Othr/Id")
            statement.currency = _f.text(element, "Ccy") or statement.currency
        elif local == "Bal":
            self.balance(element, statement)
        elif local == "Ntry":
            statement.entry_currency = statement.entry_currency or _f.currency(element)
            self.entries += 1
            self.in_entry = False
            self.entry(element, statement)
            element.clear()

    def balance(self, element: ET.Element, statement: _Statement) -> None:
        code = _f.text(element, "Tp/CdOrPrtry/Cd") or _f.text(element, "Tp/CdOrPrtry/Prtry") or ""
        value = decimal_text(_f.text(element, "Amt") or "") or _f.text(element, "Amt")
        if value and _f.text(element, "CdtDbtInd") == "DBIT":
            value = negate(value)
        currency = statement.currency or _f.currency(element)
        day = _f.date(element.find("Dt"))
        minor = to_minor(value, currency) if value and decimal_text(value) else None
        statement.balances.append((code, minor, f"{code} of {day}" if day else code))
        if day and code in (*_OPENING, *_CLOSING):
            statement.days.setdefault(code, day)
        closed = any(c in _CLOSING for c, _, _ in statement.balances[:-1])
        if code in _CLOSING or (code == "ITBD" and not closed):  # else the latest interim one
            statement.balance, statement.balance_as_of = value, day
            statement.currency = currency

    def reconcile(self, statement: _Statement, where: str) -> None:
        """Opening + booked entries = closing, on the statement's own booked balances."""
        if statement.kind == "notification" and not statement.balances:
            return  # camt.054 carries no balances by design: nothing to say per message
        if statement.truncated:
            self.out.check(
                where,
                Reconciliation(Outcome.UNCHECKED, "no check possible: the file ends inside it"),
                [],
            )
            return
        found = {code: (minor, label) for code, minor, label in reversed(statement.balances)}
        interim = [b for b in statement.balances if b[0] == "ITBD"]
        opening = next((found[c] for c in _OPENING if c in found), None)
        closing = next((found[c] for c in _CLOSING if c in found), None)
        if closing is None and len(interim) == 1:
            closing = interim[0][1], interim[0][2]
        currency = statement.currency or statement.entry_currency or ""
        result = reconcile(
            Balance(opening[0], opening[1]) if opening and opening[0] is not None else None,
            statement.movements,
            Balance(closing[0], closing[1]) if closing and closing[0] is not None else None,
            places=_f.places(currency),
        )
        self.out.check(where, result, statement.rows)

    def finish(self, truncated: bool = False) -> None:
        statement = self.statement
        if statement is None or statement.finished:
            return
        statement.finished = True
        statement.truncated = truncated
        where = (
            f"{statement.kind} {statement.number}"
            + (f" ({statement.reference})" if statement.reference else "")
            + f" at line {statement.line}"
        )
        if statement.account_id is None:
            self.out.reject_account(where, f"{statement.kind} names no account (Acct/Id)")
            return
        self.reconcile(statement, where.rsplit(" at line ", 1)[0])
        self.out.add_account(
            {
                "account_id": statement.account_id,
                "account_type": "checking",
                "currency": statement.currency or statement.entry_currency,
                "balance": statement.balance,
                "balance_as_of": statement.balance_as_of,
                LOCATION: where,
            }
        )

    def entry(self, ntry: ET.Element, statement: _Statement) -> None:
        ref = _f.ref(_f.text(ntry, "AcctSvcrRef")) or _f.ref(_f.text(ntry, "NtryRef"))
        kind = "AcctSvcrRef" if _f.ref(_f.text(ntry, "AcctSvcrRef")) else "NtryRef"
        label = f" ({kind} {ref})" if ref else ""
        where = f"entry {self.entries}{label} at line {self.entry_line}"
        status = _f.text(ntry, "Sts/Cd") or _f.text(ntry, "Sts") or "BOOK"
        direction = _f.text(ntry, "CdtDbtInd")
        amount_text = _f.text(ntry, "Amt")
        amount = decimal_text(amount_text or "")
        booked_at = _f.date(ntry.find("BookgDt"))
        undated = booked_at is None
        booked_at = booked_at or _f.date(ntry.find("ValDt"))
        one_day = booked_at is None and statement.one_day() is not None
        booked_at = booked_at or statement.one_day()
        problem = (
            (None, "informational entry (Sts INFO), not a booking")
            if status == "INFO"
            else (None, "its statement names no account (Acct/Id)")
            if statement.account_id is None
            else ("amount", f"CdtDbtInd {direction!r} is neither CRDT nor DBIT")
            if direction not in ("CRDT", "DBIT")
            else ("amount", "entry has no Amt")
            if amount_text is None
            else ("amount", f"Amt {amount_text!r} is not a decimal number")
            if amount is None
            else ("booked_at", "entry has neither BookgDt nor ValDt")
            if booked_at is None
            else None
        )
        if problem is not None or amount is None or direction is None:
            column, reason = problem or (None, "unreadable entry")
            raw = " ".join(t.strip() for t in ntry.itertext() if t.strip())
            self.out.reject(where, reason, column, raw)
            if status == "BOOK" and statement.account_id is not None:
                statement.movements.append(Movement(where, None))
            return
        movement = where
        if status == "BOOK":
            minor = to_minor(amount, None, _f.places(statement.currency or _f.currency(ntry) or ""))
            statement.movements.append(
                Movement(where, minor if minor is None or direction == "CRDT" else -minor)
            )
        if one_day:
            where += " (no BookgDt or ValDt: booked on the one day its statement covers)"
            self.undated += 1
        elif undated:
            where += " (no BookgDt: booked on its ValDt)"
            self.undated += 1
        base: Row = {
            "account_id": statement.account_id,
            "booked_at": booked_at,
            "value_at": _f.date(ntry.find("ValDt")),
            "currency": _f.currency(ntry) or statement.currency,
            "mcc": None,
            "status": _STATUS.get(status, status.lower()),
        }
        details = ntry.findall("NtryDtls/TxDtls")
        signed = amount if direction == "CRDT" else negate(amount)
        parts = _f.split(details, signed, base["currency"])
        if parts is None:
            own = _f.detail_ref(details[0]) if len(details) == 1 else None
            self.add(
                statement,
                {
                    **base,
                    "transaction_id": ref or own,
                    "amount": signed,
                    "description": join_text(
                        "; ".join(filter(None, map(_f.remittance, details))) or None,
                        _f.text(ntry, "AddtlNtryInf"),
                        sep=" / ",
                    ),
                    "counterparty": join_text(*(_f.party(d, direction) for d in details), sep="; "),
                    "channel": _f.channel(*details, ntry),
                    LOCATION: where,
                    MOVEMENT: movement,
                },
            )
            return
        for k, (detail, part) in enumerate(parts, start=1):
            own = _f.detail_ref(detail)
            self.add(
                statement,
                {
                    **base,
                    "transaction_id": own or (f"{ref}/{k}" if ref else None),
                    "amount": part,
                    "description": _f.remittance(detail) or _f.text(ntry, "AddtlNtryInf"),
                    "counterparty": _f.party(detail, "DBIT" if part.startswith("-") else "CRDT"),
                    "channel": _f.channel(detail, ntry),
                    LOCATION: f"entry {self.entries}, transaction {k}"
                    + (f" ({own})" if own else label)
                    + f" at line {self.entry_line}",
                    MOVEMENT: movement,
                },
            )

    def add(self, statement: _Statement, row: Row) -> None:
        self.out.items.append(row)
        statement.rows.append(row)


class CamtReader(Reader):
    """Reads camt.052 reports, camt.053 statements and camt.054 notifications (any version
    from 001.02), one account row per statement, report or notification.

    Entry ids are the bank's AcctSvcrRef, else NtryRef, else the transaction's EndToEndId; an id
    that repeats within the account is dropped so the loader derives one. ``Sts`` INFO entries
    are rejected (they are not bookings); PDNG entries load as pending. Whichever of the three
    names was chosen, the file's own namespace decides how it is read.
    """

    name: ClassVar[str] = "camt"
    message: ClassVar[str] = ""

    def sniff(self, head: bytes, path: Path) -> float:
        if head.startswith((b"\xff\xfe", b"\xfe\xff")):
            head = head.decode("utf-16", errors="ignore").encode()
        return 0.95 if f"{NAMESPACE}{self.message}.".encode() in head else 0.0

    def read(self, path: Path, mapping: Mapping, batch_size: int) -> Iterator[Chunk]:
        file_mapping = mapping.for_file(path)
        collected = Collected(str(path))
        camt = _Camt(collected)
        target = _Target(camt)
        try:
            parser = DefusedXMLParser(
                target=target, encoding=file_mapping.encoding, forbid_dtd=True
            )
            target.expat = parser.parser
            with path.open("rb") as fh:
                while block := fh.read(_BLOCK):
                    parser.feed(block)
                parser.close()
        except OSError as exc:
            raise IngestError(f"{path}: cannot read file: {exc.strerror or exc}") from exc
        except DefusedXmlException as exc:
            raise IngestError(
                f"{path}: refused: the XML declares a DTD or entities ({exc}); camt never "
                "needs one, and expanding it could exhaust memory (entity-expansion attack)"
            ) from exc
        except (ET.ParseError, LookupError, ValueError) as exc:
            if not camt.is_camt:
                raise IngestError(
                    f"{path}: not a readable camt.053 file (nor camt.052 or camt.054): {exc}"
                ) from exc
            line, column = getattr(exc, "position", None) or (0, 0)
            camt.finish(truncated=True)
            cut = (
                f"entry {camt.entries + 1} (from line {camt.entry_line}) and anything after it"
                if camt.in_entry
                else "anything after it"
            )
            collected.reject(
                f"line {line}, column {column}",
                f"XML is truncated or malformed at line {line}: {exc}; {cut} could not be read",
            )
        if not camt.is_camt:
            raise IngestError(
                f"{path}: not a camt.053 file, nor camt.052 or camt.054 (no {NAMESPACE}2, 3 "
                "or 4 namespace)"
            )
        if camt.statements == 0:
            problem = f": {collected.items[0]}" if collected.items else ""
            raise IngestError(
                f"{path}: no statement (BkToCstmrStmt/Stmt), report (BkToCstmrAcctRpt/Rpt) or "
                f"notification (BkToCstmrDbtCdtNtfctn/Ntfctn) in the file{problem}"
            )
        camt.finish()
        if camt.undated:
            collected.notes.append(
                f"{camt.undated} entr{'y has' if camt.undated == 1 else 'ies have'} no booking "
                "date (BookgDt): booked on the value date (ValDt), or without one on the day "
                "its statement covers, as each one's location says"
            )
        yield from collected.chunks(file_mapping, batch_size)


@readers.register("camt053")
class Camt053Reader(CamtReader):
    """camt.053 end-of-day statements (the reader of the whole camt family)."""

    name: ClassVar[str] = "camt053"
    message: ClassVar[str] = "3"


@readers.register("camt052")
class Camt052Reader(CamtReader):
    """camt.052 intraday account reports (the reader of the whole camt family)."""

    name: ClassVar[str] = "camt052"
    message: ClassVar[str] = "2"


@readers.register("camt054")
class Camt054Reader(CamtReader):
    """camt.054 debit/credit notifications (the reader of the whole camt family)."""

    name: ClassVar[str] = "camt054"
    message: ClassVar[str] = "4"
