"""ISO 20022 camt.053 bank-to-customer statements, version 001.02 and later.

The file is parsed as a stream through defusedxml with DTDs forbidden: a statement never needs
one, and refusing it outright is the only safe answer to entity-expansion and external-entity
payloads. Entries are handled as their end tags arrive, so a truncated file still gives every
entry before the cut, plus one reject naming the line where the XML breaks off.

Versions differ in namespace (``...camt.053.001.02`` to ``.13``) and in a few shapes
(``<Sts>BOOK</Sts>`` became ``<Sts><Cd>BOOK</Cd></Sts>``, parties gained a ``Pty`` wrapper);
elements are matched by local name so one reader covers them all.

A batch entry (one ``Ntry`` with several ``TxDtls``) becomes one row per transaction when each
carries its own amount and those amounts add up to the entry's; otherwise it stays one row, as
the bank booked it.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any, ClassVar

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import DefusedXMLParser

from tactful.errors import IngestError
from tactful.ingest.mapping import Mapping
from tactful.ingest.readers._statement import (
    SWIFT_CHANNELS,
    Collected,
    Row,
    decimal_text,
    join_text,
    negate,
)
from tactful.ingest.readers.base import Reader, readers
from tactful.ingest.schema import LOCATION, Chunk

NAMESPACE = "urn:iso:std:iso:20022:tech:xsd:camt.053."
_BLOCK = 1 << 16
_STATUS = {"BOOK": "posted", "PDNG": "pending", "FUTR": "pending"}
_BY_SUBFAMILY = {
    "STDO": "standing_order",
    "CWDL": "atm",
    "CDPT": "cash",
    "CHRG": "fee",
    "FEES": "fee",
    "COMM": "fee",
    "INTR": "interest",
    "POSD": "card",
    "POSC": "card",
}
_BY_FAMILY = {
    "RCDT": "transfer",
    "ICDT": "transfer",
    "RRCT": "transfer",
    "IRCT": "transfer",
    "RDDT": "direct_debit",
    "IDDT": "direct_debit",
    "CCRD": "card",
    "MCRD": "card",
    "ICHQ": "check",
    "RCHQ": "check",
    "CNTR": "cash",
}
_BY_DOMAIN = {"CAMT": "transfer"}  # cash *management*: sweeps and pooling between accounts


def _text(element: ET.Element | None, path: str) -> str | None:
    found = element.find(path) if element is not None else None
    text = found.text.strip() if found is not None and found.text else ""
    return text or None


def _date(element: ET.Element | None) -> str | None:
    return _text(element, "Dt") or _text(element, "DtTm")


def _party(element: ET.Element, direction: str) -> str | None:
    """The other side's name: who paid for a credit, who was paid for a debit."""
    side = "Dbtr" if direction == "CRDT" else "Cdtr"
    for path in (
        f"RltdPties/{side}/Nm",
        f"RltdPties/{side}/Pty/Nm",
        f"RltdPties/Ultmt{side}/Nm",
        f"RltdPties/Ultmt{side}/Pty/Nm",
    ):
        if name := _text(element, path):
            return name
    return None


def _remittance(element: ET.Element) -> str | None:
    lines = [e.text.strip() for e in element.iterfind("RmtInf/Ustrd") if e.text]
    refs = [e.text.strip() for e in element.iterfind("RmtInf/Strd/CdtrRefInf/Ref") if e.text]
    return join_text(" ".join(lines) or " ".join(refs), _text(element, "AddtlTxInf"), sep=" / ")


def _channel(*elements: ET.Element) -> str:
    for element in elements:
        code = element.find("BkTxCd")
        if code is None:
            continue
        family = _text(code, "Domn/Fmly/Cd") or ""
        sub = _text(code, "Domn/Fmly/SubFmlyCd") or ""
        found = (
            ("cash" if family == "CNTR" else None)
            or _BY_SUBFAMILY.get(sub)
            or _BY_FAMILY.get(family)
            or _BY_DOMAIN.get(_text(code, "Domn/Cd") or "")
        )
        swift = re.match(r"[NSF]([A-Z]{3})", _text(code, "Prtry/Cd") or "")
        found = found or (SWIFT_CHANNELS.get(swift.group(1)) if swift else None)
        if found:
            return found
    return "other"


def _ref(value: str | None) -> str | None:
    """A bank reference, unless it is a placeholder for none."""
    return None if value is None or value.upper() in ("NOTPROVIDED", "NONREF") else value


def _currency(element: ET.Element) -> str | None:
    amount = element.find("Amt")
    return amount.get("Ccy") if amount is not None else None


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
        self.statement: _Statement | None = None

    def started(self, local: str, namespace: str, path: list[str], line: int) -> None:
        self.is_camt = self.is_camt or namespace.startswith(NAMESPACE)
        if local == "Stmt" and path and path[-1] == "BkToCstmrStmt":
            self.statements += 1
            self.statement = _Statement(self.statements, line)
        elif local == "Ntry":
            self.entry_line, self.in_entry = line, True

    def ended(self, local: str, path: list[str], element: ET.Element) -> None:
        statement = self.statement
        if statement is None or not path:
            return
        if local == "Stmt":
            self.finish()
        elif path[-1] != "Stmt":
            return
        elif local == "Id":
            statement.reference = _text(element, ".")
        elif local == "Acct":
            statement.account_id = _text(element, "Id/IBAN") or _text(element, "Id/Othr/Id")
            statement.currency = _text(element, "Ccy") or statement.currency
        elif local == "Bal" and _text(element, "Tp/CdOrPrtry/Cd") == "CLBD":
            value = decimal_text(_text(element, "Amt") or "") or _text(element, "Amt")
            if value and _text(element, "CdtDbtInd") == "DBIT":
                value = negate(value)
            statement.balance, statement.balance_as_of = value, _date(element.find("Dt"))
            statement.currency = statement.currency or _currency(element)
        elif local == "Ntry":
            self.entries += 1
            self.in_entry = False
            self.entry(element, statement)
            element.clear()

    def finish(self) -> None:
        statement = self.statement
        if statement is None or statement.finished:
            return
        statement.finished = True
        where = (
            f"statement {statement.number}"
            + (f" ({statement.reference})" if statement.reference else "")
            + f" at line {statement.line}"
        )
        if statement.account_id is None:
            self.out.reject_account(where, "statement names no account (Acct/Id)")
            return
        self.out.add_account(
            {
                "account_id": statement.account_id,
                "account_type": "checking",
                "currency": statement.currency,
                "balance": statement.balance,
                "balance_as_of": statement.balance_as_of,
                LOCATION: where,
            }
        )

    def entry(self, ntry: ET.Element, statement: _Statement) -> None:
        ref = _ref(_text(ntry, "AcctSvcrRef")) or _ref(_text(ntry, "NtryRef"))
        kind = "AcctSvcrRef" if _ref(_text(ntry, "AcctSvcrRef")) else "NtryRef"
        label = f" ({kind} {ref})" if ref else ""
        where = f"entry {self.entries}{label} at line {self.entry_line}"
        status = _text(ntry, "Sts/Cd") or _text(ntry, "Sts") or "BOOK"
        direction = _text(ntry, "CdtDbtInd")
        amount_text = _text(ntry, "Amt")
        amount = decimal_text(amount_text or "")
        booked_at = _date(ntry.find("BookgDt")) or _date(ntry.find("ValDt"))
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
            return
        base: Row = {
            "account_id": statement.account_id,
            "booked_at": booked_at,
            "value_at": _date(ntry.find("ValDt")),
            "currency": _currency(ntry) or statement.currency,
            "mcc": None,
            "status": _STATUS.get(status, status.lower()),
        }
        details = ntry.findall("NtryDtls/TxDtls")
        signed = amount if direction == "CRDT" else negate(amount)
        parts = _split(details, signed, base["currency"])
        if parts is None:
            own = _detail_ref(details[0]) if len(details) == 1 else None
            self.out.items.append(
                {
                    **base,
                    "transaction_id": ref or own,
                    "amount": signed,
                    "description": join_text(
                        "; ".join(filter(None, map(_remittance, details))) or None,
                        _text(ntry, "AddtlNtryInf"),
                        sep=" / ",
                    ),
                    "counterparty": join_text(*(_party(d, direction) for d in details), sep="; "),
                    "channel": _channel(*details, ntry),
                    LOCATION: where,
                }
            )
            return
        for k, (detail, part) in enumerate(parts, start=1):
            own = _detail_ref(detail)
            self.out.items.append(
                {
                    **base,
                    "transaction_id": own or (f"{ref}/{k}" if ref else None),
                    "amount": part,
                    "description": _remittance(detail) or _text(ntry, "AddtlNtryInf"),
                    "counterparty": _party(detail, "DBIT" if part.startswith("-") else "CRDT"),
                    "channel": _channel(detail, ntry),
                    LOCATION: f"entry {self.entries}, transaction {k}"
                    + (f" ({own})" if own else label)
                    + f" at line {self.entry_line}",
                }
            )


def _detail_ref(detail: ET.Element) -> str | None:
    return (
        _ref(_text(detail, "Refs/AcctSvcrRef"))
        or _ref(_text(detail, "Refs/EndToEndId"))
        or _ref(_text(detail, "Refs/TxId"))
    )


def _split(
    details: list[ET.Element], signed: str, currency: str | None
) -> list[tuple[ET.Element, str]] | None:
    """Each transaction of a batch with its signed amount, if together they make the entry."""
    if len(details) < 2:
        return None
    direction = "DBIT" if signed.startswith("-") else "CRDT"
    parts: list[tuple[ET.Element, str]] = []
    for detail in details:
        amt = detail.find("Amt")
        if amt is None:
            amt = detail.find("AmtDtls/TxAmt/Amt")
        value = decimal_text(amt.text or "") if amt is not None else None
        if amt is None or value is None or (amt.get("Ccy") or currency) != currency:
            return None
        sign = _text(detail, "CdtDbtInd") or direction
        parts.append((detail, value if sign == "CRDT" else negate(value)))
    return parts if sum(Decimal(v) for _, v in parts) == Decimal(signed) else None


@readers.register("camt053")
class Camt053Reader(Reader):
    """Reads camt.053 statements (any version from 001.02), one account row per statement.

    Entry ids are the bank's AcctSvcrRef, else NtryRef, else the transaction's EndToEndId; an id
    that repeats within the account is dropped so the loader derives one. ``Sts`` INFO entries
    are rejected (they are not bookings); PDNG entries load as pending.
    """

    name: ClassVar[str] = "camt053"

    def sniff(self, head: bytes, path: Path) -> float:
        if head.startswith((b"\xff\xfe", b"\xfe\xff")):
            head = head.decode("utf-16", errors="ignore").encode()
        return 0.95 if NAMESPACE.encode()[:-1] in head else 0.0

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
                f"{path}: refused: the XML declares a DTD or entities ({exc}); camt.053 never "
                "needs one, and expanding it could exhaust memory (entity-expansion attack)"
            ) from exc
        except (ET.ParseError, LookupError, ValueError) as exc:
            if not camt.is_camt:
                raise IngestError(f"{path}: not a readable camt.053 file: {exc}") from exc
            line, column = getattr(exc, "position", None) or (0, 0)
            camt.finish()
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
            raise IngestError(f"{path}: not a camt.053 file (no {NAMESPACE}* namespace)")
        if camt.statements == 0:
            problem = f": {collected.items[0]}" if collected.items else ""
            raise IngestError(f"{path}: no statement (BkToCstmrStmt/Stmt) in the file{problem}")
        camt.finish()
        yield from collected.chunks(file_mapping, batch_size)
