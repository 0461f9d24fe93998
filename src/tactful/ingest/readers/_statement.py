"""What the statement readers (OFX, camt.053, MT940) share: decoding, rows, ids and chunking.

A statement file is small next to a CSV export, so each reader collects the whole file into a
``Collected`` and only then cuts chunks. That buys two things a streaming reader could not give:
the ACCOUNT chunk comes first even though a statement's closing balance sits after its entries,
and a transaction id can be checked for uniqueness within its account before it is trusted.
"""

from __future__ import annotations

import codecs
import dataclasses
import re
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

import polars as pl

from tactful.errors import IngestError
from tactful.ingest.decode import decode
from tactful.ingest.mapping import FileMapping
from tactful.ingest.reconcile import Outcome, Reconciliation
from tactful.ingest.schema import LOCATION, Chunk, RecordKind, Reject, SourceOptions, fields_of

Row = dict[str, str | None]

ACCOUNT_COLUMNS = ("account_id", "account_type", "currency", "balance", "balance_as_of")
TRANSACTION_COLUMNS = (
    "account_id",
    "transaction_id",
    "booked_at",
    "value_at",
    "amount",
    "currency",
    "description",
    "counterparty",
    "mcc",
    "channel",
    "status",
)

# SWIFT transaction type codes (MT940 :61: subfield 6, and the proprietary bank transaction
# codes many camt.053 files carry, e.g. "NDDT+105+..."). Codes not listed map to "other".
SWIFT_CHANNELS = {
    "TRF": "transfer",
    "DDT": "direct_debit",
    "STO": "standing_order",
    "CHK": "check",
    "ECK": "check",
    "TCK": "check",
    "CHG": "fee",
    "COM": "fee",
    "BRF": "fee",
    "INT": "interest",
    "DIV": "interest",
    "CMS": "transfer",
    "CMT": "transfer",
    "CMZ": "transfer",
    "CMI": "transfer",
    "CMN": "transfer",
}
MOVEMENT = "_movement"
"""Key a reader may add to a row: the location of the booked entry it belongs to (one camt
batch entry gives several rows); the balance check rejects rows by it. Never a column."""
_DECIMAL = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)")


def read_bytes(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError as exc:
        raise IngestError(f"{path}: cannot read file: {exc.strerror or exc}") from exc


def decode_file(
    path: Path, data: bytes, encoding: str | None, declared: str | None = None
) -> tuple[str, list[str]]:
    """The text of a statement file and any note on how it was decoded.

    ``encoding`` comes from the mapping and must fit; ``declared`` comes from the file's own
    header and is only believed if it fits, since banks get it wrong (``USASCII`` with
    accented names). A code page always "fits" (cp1252 decodes almost any bytes), so a file
    that is UTF-8 beyond ASCII is read as UTF-8 whatever code page it declares, with a note
    (see ``_utf8_beyond_ascii``). Otherwise the shared rule applies: UTF-8, then cp1252 line
    by line.
    """
    data = data.removeprefix(codecs.BOM_UTF8)
    if encoding:
        try:
            return decode(data, encoding).text, []
        except UnicodeError as exc:
            raise IngestError(f"{path}: {exc}") from exc
    notes: list[str] = []
    if declared and not _is_unicode(declared) and _utf8_beyond_ascii(data):
        note = f"the file says it is {declared} but its bytes are UTF-8; read as UTF-8"
        return data.decode("utf-8"), [note]
    if declared:
        try:
            return decode(data, declared).text, []
        except UnicodeError:
            notes.append(f"the file says it is {declared} but is not; decoded by inspection")
    decoded = decode(data)
    return decoded.text, notes + ([decoded.note] if decoded.note else [])


def _is_unicode(encoding: str) -> bool:
    try:
        return codecs.lookup(encoding).name.startswith("utf")
    except LookupError:
        return False


def _utf8_beyond_ascii(data: bytes) -> bool:
    """Whether ``data`` is valid UTF-8 holding at least one multi-byte sequence.

    Such bytes are UTF-8 even when the header declares a code page. The other reading is
    vanishingly rare in real text: for cp1252 or latin-1 text to be valid UTF-8, each of its
    accented letters (the lead bytes 0xC2-0xF4 are ``Â``-``ô``) must be followed at once by
    one to three of the symbols those code pages put at 0x80-0xBF (``€ ‚ „ ’ “ ” • – ™ ¦ © °
    ±`` and the like), and no such symbol may stand anywhere else: pairs like ``Ã©``, the
    very mark of mis-decoded UTF-8 and never bank text. An accented letter followed by a
    letter, a digit or a space (``CRÉDITO`` in cp1252) is already invalid UTF-8. Pure ASCII
    reads the same either way, so it proves nothing.

    >>> _utf8_beyond_ascii("CRÉDITO".encode()), _utf8_beyond_ascii("CRÉDITO".encode("cp1252"))
    (True, False)
    """
    if data.isascii():
        return False
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def decimal_text(value: str) -> str | None:
    """``value`` as plain decimal text with '.' (``"+12,50"`` -> ``"12.50"``), or None."""
    text = value.strip()
    if "," in text and "." not in text:
        text = text.replace(",", ".")
    if not _DECIMAL.fullmatch(text):
        return None
    return format(Decimal(text), "f")


def negate(amount: str) -> str:
    return amount[1:] if amount.startswith("-") else "-" + amount


def snippet(text: str, limit: int = 200) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


def join_text(*parts: str | None, sep: str = " ") -> str | None:
    """Non-empty ``parts`` joined, dropping a part another part already contains."""
    kept: list[str] = []
    for part in parts:
        text = " ".join((part or "").split())
        if not text or any(text in other for other in kept):
            continue
        kept = [other for other in kept if other not in text]
        kept.append(text)
    return sep.join(kept) or None


@dataclass
class Collected:
    """Everything read from one statement file, in file order, before it is cut into chunks.

    ``items`` interleaves transaction rows and rejects so each reject travels in the chunk of
    the rows around it. Accounts are keyed by id: a file with two daily statements of one
    account gives one account row with the later closing balance, since the loader upserts
    accounts and two rows for one key in a batch would make that upsert ambiguous.
    """

    source: str
    accounts: dict[str, Row] = field(default_factory=dict)
    account_rejects: list[Reject] = field(default_factory=list)
    items: list[Row | Reject] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    checks: list[tuple[str, Reconciliation]] = field(default_factory=list)

    def add_account(self, row: Row) -> None:
        key = row["account_id"] or ""
        old = self.accounts.get(key)
        if old is None or (row["balance_as_of"] or "") >= (old["balance_as_of"] or ""):
            self.accounts[key] = row

    def reject(self, location: str, reason: str, column: str | None = None, raw: str = "") -> None:
        self.items.append(Reject(self.source, location, reason, column, snippet(raw)))

    def reject_account(self, location: str, reason: str, raw: str = "") -> None:
        self.account_rejects.append(Reject(self.source, location, reason, None, snippet(raw)))

    def check(self, statement: str, result: Reconciliation, rows: list[Row]) -> None:
        """Record the balance check of ``statement``; if it diverges, its suspect ``rows``
        (those whose ``MOVEMENT`` is in the diverging span) become rejects in their place.

        A statement whose entries do not add up to its own balances holds at least one wrong
        amount, and nothing says which: loading the span would store money that is known to
        be wrong somewhere, so none of it loads, and the first reject says why.
        """
        self.checks.append((statement, result))
        if result.outcome is not Outcome.DIVERGES:
            return
        suspect = set(result.span)
        doomed = {id(row) for row in rows if row.get(MOVEMENT) in suspect}
        first = True
        for k, item in enumerate(self.items):
            if isinstance(item, Reject) or id(item) not in doomed:
                continue
            reason = (
                f"{statement} does not reconcile: {result.reason}"
                if first
                else f"{statement} does not reconcile (see {result.first}); not loaded"
            )
            first = False
            raw = " ".join(f"{c}={item[c]}" for c in ("booked_at", "amount") if item.get(c))
            self.items[k] = Reject(self.source, str(item[LOCATION]), reason, "amount", raw)

    def check_notes(self) -> list[str]:
        """One line on the balance checks of the file, then one per statement that does not
        reconcile and one per reason a check could not be made (naming up to three)."""
        if not self.checks:
            return []
        by = {o: [(n, r) for n, r in self.checks if r.outcome is o] for o in Outcome}
        agree = len(by[Outcome.AGREES])
        head = f"balance check: {agree} of {len(self.checks)} statement(s) reconcile"
        if bad := len(by[Outcome.DIVERGES]):
            head += f", {bad} do{'es' if bad == 1 else ''} not"
        if unchecked := len(by[Outcome.UNCHECKED]):
            head += f", {unchecked} cannot be checked"
        lines = [head]
        lines += [
            f"balance check: {name} does not reconcile; its {len(r.span)} suspect "
            "entries were rejected"
            for name, r in by[Outcome.DIVERGES]
        ]
        reasons: dict[str, list[str]] = {}
        for name, r in by[Outcome.UNCHECKED]:
            reasons.setdefault(r.reason.removeprefix("no check possible: "), []).append(name)
        for reason, names in reasons.items():
            shown = ", ".join(names[:3]) + (f" and {len(names) - 3} more" if len(names) > 3 else "")
            lines.append(f"balance check: not possible for {shown}: {reason}")
        return lines

    def chunks(self, mapping: FileMapping, batch_size: int) -> Iterator[Chunk]:
        """The ACCOUNT chunk, then TRANSACTION chunks of at most ``batch_size`` rows."""
        if batch_size < 1:
            raise ValueError(f"batch_size must be at least 1, got {batch_size}")
        # Amounts are plain decimal text with a point, dates ISO: nothing left to decide.
        options = dataclasses.replace(
            mapping.options, decimal=".", date_format=None, day_first=None, settled=True
        )
        accounts = self._chunk(
            RecordKind.ACCOUNT,
            list(self.accounts.values()),
            ACCOUNT_COLUMNS,
            self.account_rejects,
            mapping,
            options,
        )
        accounts.notes = list(self.notes) + self.check_notes()
        yield accounts
        _null_repeated_ids(self.items)
        rows: list[Row] = []
        rejects: list[Reject] = []
        sent = False
        for item in self.items:
            if isinstance(item, Reject):
                rejects.append(item)
                continue
            rows.append(item)
            if len(rows) == batch_size:
                yield self._chunk(
                    RecordKind.TRANSACTION, rows, TRANSACTION_COLUMNS, rejects, mapping, options
                )
                rows, rejects, sent = [], [], True
        if rows or rejects or not sent:
            yield self._chunk(
                RecordKind.TRANSACTION, rows, TRANSACTION_COLUMNS, rejects, mapping, options
            )

    def _chunk(
        self,
        kind: RecordKind,
        rows: list[Row],
        columns: tuple[str, ...],
        rejects: list[Reject],
        mapping: FileMapping,
        options: SourceOptions,
    ) -> Chunk:
        names = {spec.name for spec in fields_of(kind)}
        extra = tuple(k for k in mapping.constants if k in names and k not in columns)
        all_columns = (*columns, *extra, LOCATION)
        frame = pl.DataFrame(
            {c: [row.get(c) for row in rows] for c in all_columns},
            schema={c: pl.Utf8 for c in all_columns},
        )
        fills = [pl.col(k).fill_null(pl.lit(v)) for k, v in mapping.constants.items() if k in names]
        maps = [pl.col(k).replace(v) for k, v in mapping.values.items() if k in all_columns]
        if fills or maps:
            frame = frame.with_columns(fills).with_columns(maps)
        return Chunk(kind, frame, self.source, dataclasses.replace(options), list(rejects))


def _null_repeated_ids(items: list[Row | Reject]) -> None:
    """Drop transaction ids that repeat within an account; the loader then derives a key.

    Banks reuse references ("NONREF", one batch reference for every entry of a batch, a FITID
    per day): trusting such an id would merge distinct transactions into one.
    """
    rows = [item for item in items if not isinstance(item, Reject)]
    counts: Counter[tuple[str | None, str | None]] = Counter(
        (r["account_id"], r["transaction_id"]) for r in rows if r["transaction_id"]
    )
    for row in rows:
        if counts[(row["account_id"], row["transaction_id"])] > 1:
            row["transaction_id"] = None
