"""What one camt element says, read the same way in camt.052, .053 and .054 entries.

Dates (with or without an offset), the other party, the remittance text, the channel from the
bank transaction code, references that are placeholders for none, and the split of a batch entry
into its transactions; ``camt053.py`` holds the reading state around them.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from decimal import Decimal

from tactful.domain.money import minor_units
from tactful.errors import ValidationError
from tactful.ingest.readers._statement import SWIFT_CHANNELS, decimal_text, join_text, negate

_DATE_WITH_OFFSET = re.compile(r"(\d{4}-\d{2}-\d{2})(?:Z|[+-]\d{2}:\d{2})")
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


def text(element: ET.Element | None, path: str) -> str | None:
    found = element.find(path) if element is not None else None
    value = found.text.strip() if found is not None and found.text else ""
    return value or None


def date(element: ET.Element | None) -> str | None:
    """A ``Dt`` or ``DtTm`` as ISO text; a date with an offset is still that calendar date."""
    day = text(element, "Dt")
    if day is not None:
        found = _DATE_WITH_OFFSET.fullmatch(day)
        return found.group(1) if found else day
    return text(element, "DtTm")


def party(element: ET.Element, direction: str) -> str | None:
    """The other side's name: who paid for a credit, who was paid for a debit."""
    side = "Dbtr" if direction == "CRDT" else "Cdtr"
    for path in (
        f"RltdPties/{side}/Nm",
        f"RltdPties/{side}/Pty/Nm",
        f"RltdPties/Ultmt{side}/Nm",
        f"RltdPties/Ultmt{side}/Pty/Nm",
    ):
        if name := text(element, path):
            return name
    return None


def remittance(element: ET.Element) -> str | None:
    lines = [e.text.strip() for e in element.iterfind("RmtInf/Ustrd") if e.text]
    refs = [e.text.strip() for e in element.iterfind("RmtInf/Strd/CdtrRefInf/Ref") if e.text]
    return join_text(" ".join(lines) or " ".join(refs), text(element, "AddtlTxInf"), sep=" / ")


def channel(*elements: ET.Element) -> str:
    for element in elements:
        code = element.find("BkTxCd")
        if code is None:
            continue
        family = text(code, "Domn/Fmly/Cd") or ""
        sub = text(code, "Domn/Fmly/SubFmlyCd") or ""
        found = (
            ("cash" if family == "CNTR" else None)
            or _BY_SUBFAMILY.get(sub)
            or _BY_FAMILY.get(family)
            or _BY_DOMAIN.get(text(code, "Domn/Cd") or "")
        )
        swift = re.match(r"[NSF]([A-Z]{3})", text(code, "Prtry/Cd") or "")
        found = found or (SWIFT_CHANNELS.get(swift.group(1)) if swift else None)
        if found:
            return found
    return "other"


def ref(value: str | None) -> str | None:
    """A bank reference, unless it is a placeholder for none."""
    return None if value is None or value.upper() in ("NOTPROVIDED", "NONREF") else value


def currency(element: ET.Element) -> str | None:
    amount = element.find("Amt")
    return amount.get("Ccy") if amount is not None else None


def places(currency: str) -> int:
    try:
        return minor_units(currency)
    except ValidationError:
        return 2


def detail_ref(detail: ET.Element) -> str | None:
    return (
        ref(text(detail, "Refs/AcctSvcrRef"))
        or ref(text(detail, "Refs/EndToEndId"))
        or ref(text(detail, "Refs/TxId"))
    )


def split(
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
        sign = text(detail, "CdtDbtInd") or direction
        parts.append((detail, value if sign == "CRDT" else negate(value)))
    return parts if sum(Decimal(v) for _, v in parts) == Decimal(signed) else None
