"""Erasure: remove a customer's personal data from every table and report, and say what was kept.

Tactful is not the bank's system of record: the core banking system keeps the ledger that
anti-money-laundering and bookkeeping law make the bank retain (typically five to ten years).
What Tactful holds is a copy for personalization, which no law asks it to keep once the customer
asks for it to go. So an erasure removes every row keyed by the customer or by one of their
accounts -- the tables are found in the live database, as ``export.py`` finds them, so a table a
later version adds is not forgotten -- and masks their identifiers wherever else they appear
(another customer's transfer to their IBAN, an import's file path, a rule, a model card).
Rejects and conflicts files, which quote the bank's rows, lose every line that names the customer
or one of their accounts (a transaction id carries its account); ``summary.json`` files have the
identifiers masked. The folders scanned are the ones named, plus the folder of every import's
recorded rejects file (its other reports lie beside it).

What is kept, and why (``ErasureReport.kept`` says it to the operator):

* a tombstone (table ``erasures``): the customer's and accounts' keyed pseudonyms, the date, who
  asked, and how many rows of each table went. The bank's nightly export still carries a
  customer who erased their personalization data but remains a customer; the pseudonym lets the
  engine recognise them (``erased_on``) without naming them to anyone who lacks the key
  (``TACTFUL_SECRET_KEY``, never stored in the database). It is also the evidence that the
  request was carried out (GDPR Art. 5(2) accountability, Art. 17 and 19). Without a key no
  pseudonym is kept, and a re-import cannot be recognised: the report says so.
* run records (``imports``, ``enrich_runs``, ``insight_runs``) and the protected-access log:
  counts without identifiers; rewriting them would falsify the history of past runs.
* learned models: fitted on many customers, they hold no row of this one; the customer's
  influence goes at the next retraining.

>>> # erase_customer(store, "C-1001", erased_by="dpo@bank", key=b"...")  # doctest: +SKIP
"""

from __future__ import annotations

import csv
import json
import os
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import polars as pl
from sqlalchemy import JSON, Connection, String, Table, Text, cast, delete, insert, or_, select
from sqlalchemy import update as sql_update

from tactful.errors import NotFoundError, ValidationError
from tactful.store import schema
from tactful.store.store import Store
from tactful.trust.export import BY_ACCOUNT, BY_CUSTOMER, HeldTable, Key, account_ids, held_tables
from tactful.trust.privacy import mask, private_open, pseudonym

SECRET_KEY_ENV = "TACTFUL_SECRET_KEY"  # noqa: S105 -- the variable's name, not a key
TOMBSTONES = "erasures"
REPORT_PATTERNS = ("*.rejects.csv", "*.conflicts.csv", "summary.json")
_LINE_FILES = (".rejects.csv", ".conflicts.csv")
"""Report files of one line per bank row: the lines that name the customer go."""

# Deleted children first: the accounts, then the customer, go last, so a crash in between (the
# whole erasure is one transaction, so only a server crash) never leaves rows without an owner.
_ORDER = {Key.ACCOUNT_ID: 0, Key.CUSTOMER_ID: 1, Key.ACCOUNT_OWNER: 2, Key.CUSTOMER: 3}


@dataclass(frozen=True, slots=True)
class Kept:
    """Something of the customer's left in place, and the reason."""

    what: str
    why: str


@dataclass(frozen=True, slots=True)
class ErasureReport:
    customer: str
    """The customer's id, masked."""
    erased_at: datetime
    subject: str | None
    """The customer's pseudonym in the tombstone; None without a key."""
    rows_deleted: dict[str, int]
    masked: dict[str, int] = field(default_factory=dict)
    """``table.column`` -> rows where an identifier was masked in place."""
    report_files: dict[str, int] = field(default_factory=dict)
    """Report file -> lines removed (rejects) or identifiers masked (summaries)."""
    kept: list[Kept] = field(default_factory=list)

    @property
    def deleted(self) -> int:
        return sum(self.rows_deleted.values())


def secret_key_from_env() -> bytes | None:
    """``TACTFUL_SECRET_KEY`` as bytes, or None when it is not set."""
    value = os.environ.get(SECRET_KEY_ENV, "")
    return value.encode("utf-8") if value else None


def identifier_pattern(identifiers: Iterable[str]) -> re.Pattern[str]:
    """Matches any of ``identifiers`` standing alone: ``C-1`` is found in ``C-1:tx`` but not
    in ``C-10``, so masking one customer never touches another's id."""
    alternatives = "|".join(re.escape(i) for i in sorted(set(identifiers), key=len, reverse=True))
    return re.compile(rf"(?<![A-Za-z0-9])(?:{alternatives})(?![A-Za-z0-9])")


def _masker(pattern: re.Pattern[str]) -> Callable[[str], str]:
    return lambda text: pattern.sub(lambda m: mask(m.group(0)), text)


def _text_columns(table: Table) -> list[Any]:
    out = []
    for column in table.columns:
        if isinstance(column.type, String | Text | JSON):
            out.append(column)
    return out


def _mask_value(value: Any, redact: Callable[[str], str]) -> Any:
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, dict | list):
        return json.loads(redact(json.dumps(value, ensure_ascii=False)))
    return value


def _mask_elsewhere(
    conn: Connection, tables: Sequence[Table], identifiers: Sequence[str], kept: list[Kept]
) -> dict[str, int]:
    """Mask the identifiers in every text column of the tables not keyed by customer."""
    pattern = identifier_pattern(identifiers)
    redact = _masker(pattern)
    masked: dict[str, int] = {}
    for table in tables:
        columns = _text_columns(table)
        keys = list(table.primary_key.columns)
        if not columns:
            continue
        hit = or_(
            *[cast(c, Text).contains(i, autoescape=True) for c in columns for i in identifiers]
        )
        rows = conn.execute(select(*keys, *columns).where(hit)).all()
        if rows and not keys:
            kept.append(
                Kept(
                    f"{len(rows)} row(s) of {table.name} that name the customer",
                    "the table has no primary key to rewrite a row by: mask them by hand",
                )
            )
            continue
        for row in rows:
            values = row._mapping
            changes = {}
            for c in columns:
                value = values[c.name]
                new = _mask_value(value, redact)
                if new != value:
                    changes[c.name] = new
                    masked[f"{table.name}.{c.name}"] = masked.get(f"{table.name}.{c.name}", 0) + 1
            if changes:
                where = [k == values[k.name] for k in keys]
                conn.execute(sql_update(table).where(*where).values(**changes))
    return masked


def _related_accounts(store: Store, held: Sequence[HeldTable], customer_id: str) -> list[str]:
    """The customer's accounts: those the accounts table gives them, and those their derived
    rows (series, income streams, goals) name, in case an accounts row is missing."""
    found = set(account_ids(store, customer_id))
    for h in held:
        if h.key is Key.CUSTOMER_ID and BY_ACCOUNT in h.table.columns:
            query = (
                select(h.table.c[BY_ACCOUNT])
                .where(h.table.c[BY_CUSTOMER] == customer_id)
                .distinct()
            )
            found |= {str(r[0]) for r in store.rows(query) if r[0] is not None}
    return sorted(found)


def erased_on(store: Store, customer_id: str, *, key: bytes) -> datetime | None:
    """When ``customer_id`` was erased, if the tombstones know it under ``key``."""
    t = schema.erasures
    rows = store.rows(
        select(t.c.erased_at).where(t.c.subject == pseudonym(f"customer:{customer_id}", key))
    )
    return max((r[0] for r in rows), default=None)


@dataclass(frozen=True, slots=True)
class Tombstones:
    """The erased customers and accounts as pseudonyms under the key: what an import must not
    bring back. The bank's nightly export still carries a customer who asked Tactful to forget
    them; loading it again would quietly undo the erasure."""

    key: bytes | None
    customers: frozenset[str] = frozenset()
    accounts: frozenset[str] = frozenset()
    unrecognisable: int = 0
    """Erasures on record that this key cannot recognise (none kept, or no key given)."""

    @classmethod
    def read(cls, store: Store, key: bytes | None) -> Tombstones:
        t = schema.erasures
        customers: set[str] = set()
        accounts: set[str] = set()
        blind = 0
        for subject, pseudonyms in store.rows(select(t.c.subject, t.c.accounts)):
            if subject is None or not key:
                blind += 1
                continue
            customers.add(str(subject))
            listed = json.loads(pseudonyms) if isinstance(pseudonyms, str) else pseudonyms
            accounts.update(str(a) for a in listed or [])
        return cls(key, frozenset(customers), frozenset(accounts), blind)

    def __bool__(self) -> bool:
        return bool(self.customers or self.accounts)

    def drop(self, table: str, frame: pl.DataFrame) -> tuple[pl.DataFrame, int]:
        """``frame``, rows of ``table``, without the rows of an erased customer or account, and
        how many went. Only the frame's distinct ids are hashed: one HMAC per id, not per row."""
        if not self or self.key is None:
            return frame, 0
        own = {"customers": "customer", "accounts": "account"}.get(table)
        keep = pl.lit(True)
        for column, kind, known in (
            ("id" if own == "customer" else BY_CUSTOMER, "customer", self.customers),
            ("id" if own == "account" else BY_ACCOUNT, "account", self.accounts),
        ):
            if column not in frame.columns or not known:
                continue
            ids = frame.get_column(column).drop_nulls().unique().to_list()
            gone = [i for i in ids if pseudonym(f"{kind}:{i}", self.key) in known]
            if gone:
                keep = keep & ~pl.col(column).is_in(gone).fill_null(False)
        kept = frame.filter(keep)
        return kept, frame.height - kept.height


def _report_files(dirs: Sequence[Path], recorded: Iterable[str]) -> list[Path]:
    found: set[Path] = set()
    for folder in dirs:
        if folder.is_dir():
            for pattern in REPORT_PATTERNS:
                found |= set(folder.rglob(pattern))
    for path in recorded:
        p = Path(path)
        if p.is_file():
            # a recorded rejects file tells where the import wrote its reports: its conflicts
            # file and summary lie beside it, whatever folder the operator named (or not)
            for pattern in REPORT_PATTERNS:
                found |= set(p.parent.glob(pattern))
    return sorted(found)


def _rewrite(path: Path, text: str) -> None:
    tmp = path.with_name(path.name + ".erasing")
    with private_open(tmp, "w", encoding="utf-8", newline="") as fh:
        fh.write(text)
    os.replace(tmp, path)


def _scrub_file(path: Path, pattern: re.Pattern[str]) -> tuple[Path, int]:
    """Remove the rejects lines that name the customer, or mask the identifiers in a summary;
    a file whose name carries an identifier is renamed with it masked."""
    redact = _masker(pattern)
    text = path.read_text(encoding="utf-8")
    changed = 0
    if path.name.endswith(_LINE_FILES):
        rows = list(csv.reader(text.splitlines(keepends=True)))
        # The file column names the source file, whose name may carry an account number: masked
        # there, it does not make another customer's reject in the same file go.
        source = rows[0].index("file") if rows and "file" in rows[0] else -1
        keep = []
        for row in rows:
            cells = [redact(c) if i == source else c for i, c in enumerate(row)]
            if not any(pattern.search(c) for c in cells):
                keep.append(cells)
        changed = len(rows) - len(keep)
        if keep != rows:
            out = _CsvText()
            csv.writer(out).writerows(keep)
            _rewrite(path, out.text)
    else:
        changed = len(pattern.findall(text))
        if changed:
            _rewrite(path, redact(text))
    renamed = path.with_name(redact(path.name))
    if renamed != path:
        os.replace(path, renamed)
    return renamed, changed


class _CsvText:
    def __init__(self) -> None:
        self.parts: list[str] = []

    def write(self, s: str) -> int:
        self.parts.append(s)
        return len(s)

    @property
    def text(self) -> str:
        return "".join(self.parts)


def erase_customer(
    store: Store,
    customer_id: str,
    *,
    erased_by: str,
    key: bytes | None,
    report_dirs: Sequence[Path] = (),
    now: datetime | None = None,
) -> ErasureReport:
    """Erase ``customer_id`` from the store and the reports (see the module doc); one database
    transaction, then the report files. ``NotFoundError`` if nothing is held about them."""
    if not erased_by.strip():
        raise ValidationError("an erasure needs erased_by: who asked for it")
    when = now or datetime.now(UTC)
    held, other = held_tables(store)
    accounts = _related_accounts(store, held, customer_id)
    identifiers = [customer_id, *accounts]
    recorded = [
        str(r[0])
        for r in store.rows(
            select(schema.imports.c.rejects_path).where(schema.imports.c.rejects_path.isnot(None))
        )
    ]
    kept: list[Kept] = []
    deleted: dict[str, int] = {}
    with store.transaction() as conn:
        for h in sorted(held, key=lambda h: (_ORDER[h.key], h.name)):
            values = accounts if h.key is Key.ACCOUNT_ID else [customer_id]
            n = 0
            for start in range(0, len(values), 5_000):
                part = values[start : start + 5_000]
                n += conn.execute(delete(h.table).where(h.column().in_(part))).rowcount
            deleted[h.name] = n
        if not sum(deleted.values()):
            raise NotFoundError(f"customer {mask(customer_id)} is not in the store ({store.url})")
        # Their own rows are gone; what is left naming them is someone else's row: another
        # customer's transfer to their IBAN, an import's file path, a rule.
        elsewhere = [h.table for h in held] + [t for t in other if t.name != TOMBSTONES]
        masked = _mask_elsewhere(conn, elsewhere, identifiers, kept)
        subject = pseudonym(f"customer:{customer_id}", key) if key else None
        conn.execute(
            insert(schema.erasures).values(
                subject=subject,
                accounts=[pseudonym(f"account:{a}", key) for a in accounts] if key else [],
                erased_at=when,
                erased_by=erased_by,
                rows_deleted={k: v for k, v in deleted.items() if v},
            )
        )
    files: dict[str, int] = {}
    pattern = identifier_pattern(identifiers)
    for path in _report_files(report_dirs, recorded):
        renamed, changed = _scrub_file(path, pattern)
        if changed or renamed != path:
            files[str(renamed)] = changed
    kept = _reasons(subject, len(accounts), masked) + kept
    return ErasureReport(
        customer=mask(customer_id),
        erased_at=when,
        subject=subject,
        rows_deleted=deleted,
        masked=masked,
        report_files=files,
        kept=kept,
    )


def _reasons(subject: str | None, accounts: int, masked: dict[str, int]) -> list[Kept]:
    if subject:
        tombstone = Kept(
            f"a tombstone in {TOMBSTONES}: pseudonym {subject[:12]}..., {accounts} account "
            "pseudonym(s), the date, who asked, and rows deleted per table",
            "so a re-import of the bank's exports is recognised as this erased customer, and to "
            "show the erasure was done (GDPR Art. 5(2), 17, 19); the pseudonyms are keyed with "
            f"{SECRET_KEY_ENV}, which the store does not hold",
        )
    else:
        tombstone = Kept(
            f"a tombstone in {TOMBSTONES} without pseudonyms: the date, who asked, rows deleted",
            f"{SECRET_KEY_ENV} is not set, so no pseudonym was kept and a re-import of this "
            "customer cannot be recognised; set it for the next erasures",
        )
    out = [
        tombstone,
        Kept(
            "run records (imports, enrich_runs, insight_runs) and the protected-access log",
            "counts without identifiers; rewriting them would falsify the history of past runs",
        ),
        Kept(
            "learned models (models, text_models, merchant_behaviour, model files)",
            "fitted on many customers, they hold no row of this one (the text categorizer's "
            "vocabulary is character 2- to 5-grams, no whole name or number); its influence goes "
            "at the next retraining",
        ),
        Kept(
            "the bank's source files outside the reports folders",
            "the bank's system of record, not Tactful's to delete; re-importing them brings the "
            "customer back",
        ),
    ]
    for where, n in sorted(masked.items()):
        out.append(
            Kept(
                f"{n} row(s) of {where}, with the identifiers masked to their last 4 characters",
                "the rest of the row is not the customer's: another customer's transaction, an "
                "import's file path, a rule",
            )
        )
    return out
