"""OFX / QFX statements (OFX 1.x SGML and 2.x XML): bank and credit-card transaction lists.

ofxtools' tag-soup ``TreeBuilder`` does the SGML parsing, but neither its header parser nor its
model conversion is used: the header parser decodes a ``USASCII`` file strictly as UTF-8 and
refuses the header variants banks really send, and ``convert()`` fails the whole file on one
field that breaks the spec (a 33-character NAME). Values are read from the element tree and only
parsed as far as needed to put them in the canonical layout; the validator does the rest.

One broken transaction must not cost the others. Malformed values (a TRNAMT of ``12.3.4``, a
missing DTPOSTED) reject their own entry. A structural break (a misnested or missing end tag)
makes the whole tree unreliable, so the file is then re-read one ``<STMTTRN>`` block at a time
and only the block that does not parse is rejected. A truncated file (no ``</OFX>``) is read the
same way: every transaction closed before the cut is kept, the statement's account too (an
element the cut leaves open, such as a half LEDGERBAL, is dropped), and one reject names the
line where the file ends and the transaction it cuts, if any.

Banks' markup is taken as it comes where that moves no money: no header or an odd one, a
``CHARSET:1252`` header over a UTF-8 body (the body wins, with a note), tags in lower or mixed
case, a missing ``</BANKTRANLIST>`` (``_ofx_markup.py``), an empty CURDEF when every entry names
one currency. OFX states no opening balance, so a statement's entries are checked against its
LEDGERBAL only when an earlier statement of the same account in the file gives the balance
before them; otherwise the notes say the check cannot be made.

A statement with no ACCTID, or no currency at all, takes the one the user gives (``[constants]``
in the mapping, else ``tactful ingest --account`` / ``--currency``), with a note; without one it
is refused, saying how to give it. What the statement says wins over what the user gives, as a
bank CSV's own column does (with a note that the given value was not used): one file may hold
several accounts' statements, and one ``--account`` over all of them would merge them.

>>> from tactful.ingest.readers.ofx import ofx_datetime
>>> ofx_datetime("20231005120000[-5:EST]")
'2023-10-05T12:00:00-05:00'
"""

from __future__ import annotations

import html
import re
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, ClassVar, Literal

from tactful.errors import IngestError
from tactful.ingest.mapping import FileMapping, Mapping
from tactful.ingest.readers._statement import (
    MOVEMENT,
    Collected,
    Row,
    decimal_text,
    decode_file,
    join_text,
    read_bytes,
)
from tactful.ingest.readers.base import Reader, readers
from tactful.ingest.reconcile import Balance, Movement, Outcome, Reconciliation, reconcile, to_minor
from tactful.ingest.schema import LOCATION, Chunk
from tactful.trust.privacy import mask

if TYPE_CHECKING:
    from tactful.ingest.readers._ofx_markup import ParseError

_ACCOUNT_TYPES = {
    "CHECKING": "checking",
    "SAVINGS": "savings",
    "MONEYMRKT": "savings",
    "CD": "savings",
    "CREDITLINE": "credit_card",
}
_CHANNELS = {
    "POS": "card",
    "ATM": "atm",
    "XFER": "transfer",
    "DIRECTDEBIT": "direct_debit",
    "REPEATPMT": "standing_order",
    "CHECK": "check",
    "FEE": "fee",
    "SRVCHG": "fee",
    "INT": "interest",
    "DIV": "interest",
    "CASH": "cash",
    "DIRECTDEP": "transfer",
    "PAYMENT": "transfer",
}
_CHARSETS = {"1252": "cp1252", "ISO-8859-1": "cp1252", "8859-1": "cp1252", "UTF-8": "utf-8"}

_DATETIME = re.compile(
    r"""(?P<y>\d{4})(?P<m>\d{2})(?P<d>\d{2})
        (?:(?P<H>\d{2})(?P<M>\d{2})(?:(?P<S>\d{2})(?:\.(?P<f>\d{1,6}))?)?)?
        \s*(?:\[\s*(?P<sign>[+-]?)(?P<oh>\d{1,2})?(?:[.:](?P<om>\d{2}))?(?::?(?P<tz>[A-Za-z]+))?\s*\])?
    """,
    re.VERBOSE,
)
_STATEMENT = re.compile(r"<(STMTRS|CCSTMTRS)>")
_TAG_NAME = re.compile(r"<(/?)([A-Za-z][A-Za-z0-9.]*)")
_TRANSACTION = re.compile(r"<STMTTRN>")
_FITID = re.compile(r"<FITID>\s*([^<\s]+)")
_NO_ACCOUNT = (
    "statement has no ACCTID; its {lost} transactions were not read; give the account with "
    '--account, or as account_id = "..." under [constants] in the mapping'
)
_NO_CURRENCY = (
    "the statement does not say its currency (no CURDEF, and its entries name no single one); "
    'give it with --currency, or as currency = "..." under [constants] in the mapping'
)


def ofx_datetime(value: str) -> str | None:
    """An OFX date-time as ISO 8601 text, keeping its own UTC offset; None if it is not one.

    A bare date stays a date, so the validator can apply the source's time zone to it.
    """
    # ofxtools costs a fifth of a second to import: paid when an OFX file is read, not at start
    from ofxtools.utils import TZS

    match = _DATETIME.fullmatch(value.strip())
    if match is None:
        return None
    g = match.groupdict()
    try:
        when = datetime(
            int(g["y"]),
            int(g["m"]),
            int(g["d"]),
            int(g["H"] or 0),
            int(g["M"] or 0),
            int(g["S"] or 0),
        )
    except ValueError:
        return None
    if g["H"] is None:
        return when.date().isoformat()
    text = when.isoformat() + (f".{g['f']}" if g["f"] else "")
    if g["oh"] is not None:
        hours, minutes = int(g["oh"]), int(g["om"] or 0)
    elif g["tz"] in TZS:
        hours, minutes = abs(TZS[g["tz"]]), 0
        g["sign"] = "-" if TZS[g["tz"]] < 0 else "+"
    else:
        return text
    if hours > 14 or minutes > 59:
        return None
    return f"{text}{'-' if g['sign'] == '-' else '+'}{hours:02d}:{minutes:02d}"


@dataclass(frozen=True)
class _Given:
    """An account or currency the user gives for statements that do not say theirs, and where
    it came from: the mapping's ``[constants]`` first, then ``tactful ingest --account`` /
    ``--currency``, the order a bank CSV takes them in (``csv_statement.py``)."""

    what: Literal["account", "currency"]
    tag: str  # the OFX element that would say it
    value: str | None
    source: str

    @classmethod
    def of(cls, mapping: FileMapping, what: Literal["account", "currency"]) -> _Given:
        field, tag, option = {
            "account": ("account_id", "ACCTID", mapping.account),
            "currency": ("currency", "CURDEF", mapping.currency),
        }[what]
        if constant := mapping.constants.get(field):
            return cls(what, tag, constant, "the mapping's [constants]")
        return cls(what, tag, option, f"the --{what} option")

    def choose(self, said: str | None, statement: str, notes: list[str]) -> str | None:
        """What the statement ``said``, else the given value; a note whenever the given
        value is used, or set aside for a different one the statement says."""
        shown = mask if self.what == "account" else str
        if said is None and self.value is not None:
            notes.append(
                f"{statement} has no {self.tag}: {self.what} {shown(self.value)} from {self.source}"
            )
        elif said is not None and self.value not in (None, said):
            notes.append(
                f"{statement} says {self.what} {shown(said)}: kept, and {shown(self.value)} "
                f"from {self.source} not used (it is for statements that say none)"
            )
        return said or self.value


@dataclass
class _Entry:
    number: int
    line: int
    element: ET.Element | None
    error: str | None
    raw: str

    def location(self) -> str:
        fitid = _leaf(self.element, "FITID") if self.element is not None else None
        if fitid is None and (found := _FITID.search(self.raw)):
            fitid = found.group(1)
        return (
            f"entry {self.number}"
            + (f" (FITID {fitid})" if fitid else "")
            + f" at line {self.line}"
        )


@dataclass
class _Statement:
    number: int
    line: int
    element: ET.Element | None
    error: str | None
    entries: list[_Entry]
    cut: bool = False  # the file ends inside this statement


@dataclass
class _Cut:
    """Where a truncated file (no ``</OFX>``) ends: the line, and the entry it cuts, if any."""

    line: int
    entry: _Entry | None = None
    complete: int = 0

    def reject(self) -> tuple[str, str]:
        ends = f"the file is truncated: it ends at line {self.line} without </OFX>"
        if self.entry is None:
            return f"line {self.line}", f"{ends}; every complete transaction before was read"
        return (
            self.entry.location(),
            f"{ends}, inside this transaction, which was not read; the {self.complete} "
            "complete transaction(s) before it were",
        )


def _leaf(element: ET.Element | None, path: str) -> str | None:
    found = element.find(path) if element is not None else None
    if found is None or not found.text:
        return None
    return html.unescape(found.text).replace("\xa0", " ").strip() or None


@readers.register("ofx")
class OfxReader(Reader):
    """Reads OFX 1.x (SGML) and 2.x (XML) bank and credit-card statements, ``.ofx`` or ``.qfx``.

    Transaction ids are FITIDs; ``DTPOSTED`` keeps its own UTC offset; the statement's
    LEDGERBAL is the account balance. NAME and MEMO make one descriptor, since banks cut NAME
    at 32 characters and go on in MEMO. An ACCTTYPE other than CHECKING, SAVINGS, MONEYMRKT,
    CD or CREDITLINE is passed on as it is, for the validator to reject. Investment
    statements are not read.
    """

    name: ClassVar[str] = "ofx"

    def sniff(self, head: bytes, path: Path) -> float:
        text = head[:4096].decode("latin-1").lstrip("\ufeff\xef\xbb\xbf \t\r\n")
        if re.match(r"OFXHEADER\s*:\s*1\d\d", text, re.IGNORECASE):
            return 0.95
        if re.search(r"<\?OFX\s+OFXHEADER=|<OFX>", text, re.IGNORECASE):
            return 0.9
        return 0.0

    def read(self, path: Path, mapping: Mapping, batch_size: int) -> Iterator[Chunk]:
        file_mapping = mapping.for_file(path)
        data = read_bytes(path)
        text, notes = decode_file(path, data, file_mapping.encoding, _declared_encoding(data))
        if re.search(r"<[a-z]", text):  # tags in lower or mixed case: OFX names are upper case
            text = _TAG_NAME.sub(lambda m: f"<{m[1]}{m[2].upper()}", text)
        start = text.find("<OFX>")
        if start < 0:
            raise IngestError(f"{path}: not an OFX file (no <OFX> element)")
        statements, cut = _statements(text, start)
        if not statements:
            truncated = f" before the file ends at line {cut.line} (truncated)" if cut else ""
            raise IngestError(
                f"{path}: no bank or credit-card statement (STMTRS, CCSTMTRS){truncated}"
            )
        collected = Collected(str(path), notes=notes)
        previous: dict[str, tuple[str, Balance]] = {}
        given = (_Given.of(file_mapping, "account"), _Given.of(file_mapping, "currency"))
        for statement in statements:
            _collect(statement, collected, previous, given)
        if cut is not None:
            collected.reject(*cut.reject(), raw=cut.entry.raw if cut.entry else "")
        yield from collected.chunks(file_mapping, batch_size)


def _declared_encoding(data: bytes) -> str | None:
    head = data[:4096].decode("latin-1")
    if xml := re.search(r"<\?xml[^>]*encoding=[\"']([\w.-]+)", head):
        return xml.group(1)
    if re.search(r"<\?OFX", head):
        return "utf-8"
    fields = dict(re.findall(r"([A-Z]+)\s*:\s*([\w.-]*)", head.split("<", 1)[0].upper()))
    if fields.get("ENCODING") in ("UTF-8", "UNICODE"):
        return "utf-8"
    return _CHARSETS.get(fields.get("CHARSET", ""))


def _lines_at(text: str, offsets: list[int]) -> list[int]:
    """The line number of each of the ascending ``offsets``, in one pass over ``text``."""
    lines, line, last = [], 1, 0
    for offset in offsets:
        line += text.count("\n", last, offset)
        lines.append(line)
        last = offset
    return lines


def _statements(text: str, start: int) -> tuple[list[_Statement], _Cut | None]:
    """The statements of the document, from the whole tree or, if that breaks, block by block;
    and where the file is cut if it is truncated."""
    from tactful.ingest.readers._ofx_markup import ParseError, parse  # ofxtools: on first use

    body = text[start:]
    if "</OFX>" not in body:
        return _statements_by_block(text, start, _Cut(text.rstrip().count("\n") + 1))
    try:
        root = parse(body)
    except ParseError:
        return _statements_by_block(text, start, None)
    entry_lines = _lines_at(text, [start + m.start() for m in _TRANSACTION.finditer(body)])
    statement_lines = _lines_at(text, [start + m.start() for m in _STATEMENT.finditer(body)])
    numbers = {id(e): n for n, e in enumerate(root.iter("STMTTRN"))}
    statements = []
    for n, element in enumerate(e for e in root.iter() if e.tag in ("STMTRS", "CCSTMTRS")):
        entries = []
        for trn in element.findall("BANKTRANLIST/STMTTRN"):
            number = numbers[id(trn)]
            entries.append(_Entry(number + 1, _at(entry_lines, number), trn, None, _flatten(trn)))
        statements.append(_Statement(n + 1, _at(statement_lines, n), element, None, entries))
    return statements, None


def _at(lines: list[int], index: int) -> int:
    return lines[index] if index < len(lines) else 0


def _flatten(element: ET.Element) -> str:
    return "".join(f"<{e.tag}>{(e.text or '').strip()}" for e in element.iter())


def _statements_by_block(
    text: str, start: int, cut: _Cut | None
) -> tuple[list[_Statement], _Cut | None]:
    from tactful.ingest.readers._ofx_markup import ParseError, parse  # ofxtools: on first use

    body = text[start:]
    found = list(_STATEMENT.finditer(body))
    entry_starts = [m.start() for m in _TRANSACTION.finditer(body)]
    entry_lines = dict(
        zip(entry_starts, _lines_at(text, [start + s for s in entry_starts]), strict=True)
    )
    entry_numbers = {s: n for n, s in enumerate(entry_starts, start=1)}
    statement_lines = _lines_at(text, [start + m.start() for m in found])
    statements: list[_Statement] = []
    for n, match in enumerate(found):
        limit = found[n + 1].start() if n + 1 < len(found) else len(body)
        close = body.find(f"</{match.group(1)}>", match.start(), limit)
        end = close + len(match.group(1)) + 3 if close >= 0 else limit
        mine = [s for s in entry_starts if match.start() <= s < end]
        head: list[str] = []
        entries: list[_Entry] = []
        cursor = match.start()
        last = cut is not None and n + 1 == len(found)
        for i, s in enumerate(mine):
            head.append(body[cursor:s])
            stop = mine[i + 1] if i + 1 < len(mine) else end
            closing = body.find("</STMTTRN>", s, stop)
            list_end = body.find("</BANKTRANLIST>", s, stop)
            if closing >= 0:
                stop = closing + len("</STMTTRN>")
            elif list_end >= 0:
                stop = list_end
            raw = body[s:stop]
            number, line = entry_numbers[s], entry_lines[s]
            if cut is not None and last and closing < 0 and stop == len(body):
                cut.entry = _Entry(number, line, None, None, raw)
                cut.complete = sum(1 for st in statements for e in st.entries if e.element)
                cut.complete += sum(1 for e in entries if e.element is not None)
                cursor = stop
                break
            try:
                entries.append(_Entry(number, line, parse(raw), None, raw))
            except ParseError as exc:
                entries.append(_Entry(number, line, None, _reason(exc, closing < 0), raw))
            cursor = stop
        head.append(body[cursor:end])
        line = statement_lines[n]
        cut_here = last and close < 0
        try:
            element = parse("".join(head), truncated=cut_here)
            statements.append(_Statement(n + 1, line, element, None, entries, cut_here))
        except ParseError as exc:
            statements.append(_Statement(n + 1, line, None, _reason(exc, False), entries, cut_here))
    return statements, cut


def _reason(exc: ParseError, unclosed: bool) -> str:
    if unclosed:
        return "transaction has no </STMTTRN> end tag"
    message = str(exc.args[0]) if exc.args else str(exc)
    return "malformed OFX markup: " + re.sub(r" - position=\[\d+:\d+\]$", "", message)


def _collect(
    statement: _Statement,
    collected: Collected,
    previous: dict[str, tuple[str, Balance]],
    given: tuple[_Given, _Given],
) -> None:
    element = statement.element
    said = _leaf(element, "BANKACCTFROM/ACCTID") or _leaf(element, "CCACCTFROM/ACCTID")
    name = f"statement {statement.number} at line {statement.line}"
    where = (
        f"statement {statement.number}"
        + (f" (ACCTID {said})" if said else "")
        + f" at line {statement.line}"
    )
    account_id = None if element is None else given[0].choose(said, name, collected.notes)
    if element is None or account_id is None:
        if statement.cut and not statement.entries:
            return  # cut before its first transaction: the truncation reject says it all
        lost = len(statement.entries)
        reason = (
            f"{statement.error}; its {lost} transactions were not read"
            if statement.error
            else _NO_ACCOUNT.format(lost=lost)
        )
        collected.reject_account(where, reason)
        return
    credit_card = element.tag == "CCSTMTRS" or element.find("CCACCTFROM") is not None
    raw_type = _leaf(element, "BANKACCTFROM/ACCTTYPE") or ""
    account_type = "credit_card" if credit_card else _ACCOUNT_TYPES.get(raw_type, raw_type.lower())
    said_currency = _leaf(element, "CURDEF") or _only_currency(element)
    currency = given[1].choose(said_currency, name, collected.notes)
    balance = _leaf(element, "LEDGERBAL/BALAMT")
    as_of = _leaf(element, "LEDGERBAL/DTASOF")
    if currency is None:
        collected.reject_account(where, _NO_CURRENCY)
    else:
        collected.add_account(
            {
                "account_id": account_id,
                "account_type": account_type or None,
                "currency": currency,
                "balance": (decimal_text(balance) or balance) if balance else None,
                "balance_as_of": (ofx_datetime(as_of) or as_of) if as_of else None,
                LOCATION: where,
            }
        )
    movements: list[Movement] = []
    rows: list[Row] = []
    for entry in statement.entries:
        if entry.element is None:
            reason = entry.error or "malformed transaction"
            collected.reject(entry.location(), reason, raw=entry.raw)
            movements.append(Movement(entry.location(), None))
            continue
        row = _transaction(entry, account_id, currency, credit_card, collected)
        if row is None:
            movements.append(Movement(entry.location(), None))
            continue
        row[MOVEMENT] = row[LOCATION]
        collected.items.append(row)
        rows.append(row)
        same = row["currency"] == currency and currency is not None
        minor = to_minor(row["amount"] or "", currency) if same else None
        movements.append(Movement(entry.location(), minor))
    _check(statement, where, account_id, currency, movements, rows, collected, previous)


def _check(
    statement: _Statement,
    where: str,
    account_id: str,
    currency: str | None,
    movements: list[Movement],
    rows: list[Row],
    collected: Collected,
    previous: dict[str, tuple[str, Balance]],
) -> None:
    """Check a statement against the one before it in the file for the same account.

    OFX states only the balance at the end (LEDGERBAL), so a statement can be checked only
    when an earlier one of the same account ends no later than this one starts: its
    LEDGERBAL is then this one's opening balance. Otherwise the check says it cannot be done.
    """
    element = statement.element
    name = where.rsplit(" at line ", 1)[0]
    amount, as_of = _leaf(element, "LEDGERBAL/BALAMT"), _leaf(element, "LEDGERBAL/DTASOF")
    text = decimal_text(amount) if amount else None
    minor = to_minor(text, currency) if text and currency else None
    closing = Balance(minor, f"LEDGERBAL of {(as_of or '')[:8]}") if minor is not None else None
    start = (_leaf(element, "BANKTRANLIST/DTSTART") or "")[:8]
    before = previous.get(account_id)
    if statement.cut:
        result = Reconciliation(Outcome.UNCHECKED, "no check possible: the file ends inside it")
    elif before is not None and closing is not None and start and before[0] <= start:
        result = reconcile(before[1], movements, closing)
    else:
        result = Reconciliation(
            Outcome.UNCHECKED,
            "no check possible: OFX states no opening balance (LEDGERBAL is the closing one) "
            "and no earlier statement of the account in the file gives one",
        )
    collected.check(name, result, rows)
    if closing is not None and not statement.cut:
        previous[account_id] = ((as_of or "")[:8], closing)


def _only_currency(statement: ET.Element) -> str | None:
    """The statement's currency when CURDEF is empty: the one currency its entries name."""
    found = {
        _leaf(trn, "CURRENCY/CURSYM") or _leaf(trn, "ORIGCURRENCY/CURSYM")
        for trn in statement.iterfind("BANKTRANLIST/STMTTRN")
    }
    return found.pop() if len(found) == 1 else None


def _transaction(
    entry: _Entry, account_id: str, currency: str | None, credit_card: bool, out: Collected
) -> Row | None:
    trn = entry.element
    posted, amount = _leaf(trn, "DTPOSTED"), _leaf(trn, "TRNAMT")
    booked_at = ofx_datetime(posted) if posted else None
    signed = decimal_text(amount) if amount else None
    problem = (
        ("booked_at", "DTPOSTED is missing")
        if posted is None
        else ("booked_at", f"DTPOSTED {posted!r} is not an OFX date-time")
        if booked_at is None
        else ("amount", "TRNAMT is missing")
        if amount is None
        else ("amount", f"TRNAMT {amount!r} is not a decimal number")
        if signed is None
        else None
    )
    if problem is not None or booked_at is None or signed is None:
        field, reason = problem or ("", "")
        out.reject(entry.location(), reason, field, entry.raw)
        return None
    currency = _leaf(trn, "CURRENCY/CURSYM") or currency
    if currency is None:
        out.reject(entry.location(), _NO_CURRENCY, "currency", entry.raw)
        return None
    name = _leaf(trn, "EXTDNAME") or _leaf(trn, "NAME") or _leaf(trn, "PAYEE/NAME")
    value_at = _leaf(trn, "DTAVAIL") or _leaf(trn, "DTUSER")
    trntype = (_leaf(trn, "TRNTYPE") or "").upper()
    channel = "card" if credit_card and trntype == "DEBIT" else _CHANNELS.get(trntype, "other")
    return {
        "account_id": account_id,
        "transaction_id": _leaf(trn, "FITID"),
        "booked_at": booked_at,
        "value_at": ofx_datetime(value_at) if value_at else None,
        "amount": signed,
        "currency": currency,
        "description": join_text(name, _leaf(trn, "MEMO")),
        "counterparty": _leaf(trn, "PAYEE/NAME") or _leaf(trn, "NAME"),
        "mcc": _leaf(trn, "SIC"),
        "channel": channel,
        "status": "posted",
        LOCATION: entry.location(),
    }
