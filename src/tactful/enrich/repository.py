"""The understanding layer's edge: reading shards and its own settings from the store, and
writing what it derived back. Everything between these functions is pure (``pipeline.py``).

Only rows that changed are written back: an incremental run over a shard with three new
transactions rewrites three rows (plus any older row that just joined a new series), not the
customer's whole history.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime
from typing import Any
from zoneinfo import ZoneInfo

import polars as pl
from sqlalchemy import (
    JSON,
    BigInteger,
    Connection,
    Select,
    Table,
    and_,
    case,
    cast,
    delete,
    func,
    insert,
    literal,
    select,
    type_coerce,
    update,
)
from sqlalchemy.sql import ColumnElement, FromClause
from sqlalchemy.types import String

from tactful.domain.enums import ConsentPurpose
from tactful.enrich.behaviour import ANSWERS, no_answers
from tactful.enrich.classifier import TextCategorizer
from tactful.enrich.frames import (
    INCOME_CHANGES,
    INCOME_STREAMS,
    SERIES,
    TRANSACTIONS,
    UTC_TIME,
    with_local_dates,
)
from tactful.enrich.merchants import MerchantAliases, normalize_one
from tactful.enrich.pipeline import KEPT, EnrichContext, EnrichResult
from tactful.enrich.recurring import COUNTED_STATUSES, series_status
from tactful.enrich.rules import RuleSet
from tactful.enrich.taxonomy import DETAILED, primary_of
from tactful.errors import NotFoundError, StoreError, ValidationError
from tactful.store import schema
from tactful.store.store import Store
from tactful.trust import consent
from tactful.trust.privacy import mask

STORED = (*KEPT, "series_id", "group_key")
"""Enrichment columns kept on the transactions table (``group_key``: the key the row groups
under in series, ``recurring.with_group_key``; a night's increment reads groups by it)."""

_t, _a, _c = schema.transactions, schema.accounts, schema.customers


def _pairs_on(
    table: Table, pairs: Sequence[tuple[str, str]] | Sequence[tuple[str, str, int]],
    dialect: str, key: str = "merchant_key",
) -> tuple[FromClause, ColumnElement[bool]]:
    """(account, key) ``pairs`` as rows of one JSON value, and the condition joining them to
    ``table``'s ``account_id`` and ``key`` column; a third element of each pair is an
    ``amount_minor`` the row must have as well."""
    payload = literal(json.dumps([list(p) for p in pairs]))
    field: Callable[[int], ColumnElement[Any]]
    if dialect == "postgresql":
        element = func.json_array_elements(cast(payload, JSON)).table_valued("value", name="pairs")
        field = element.c.value.op("->>")
    else:
        element = func.json_each(payload).table_valued("value", name="pairs")
        field = lambda k: func.json_extract(element.c.value, f"$[{k}]")  # noqa: E731
    on = and_(table.c.account_id == field(0), table.c[key] == field(1))
    if pairs and len(pairs[0]) == 3:
        on = and_(on, table.c.amount_minor == cast(field(2), BigInteger))
    return element, on


def _rows_query(
    *where: Any,
    pairs: Sequence[tuple[str, str]] | Sequence[tuple[str, str, int]] = (),
    dialect: str = "sqlite",
) -> Select[Any]:
    """The rows ``load_shard`` reads, where ``where`` holds; with ``pairs``, only those of
    these (account, group key) pairs: a join with the pairs as one JSON array, which both
    stores answer from the (account, group key) index. One value, not two per pair:
    SQLAlchemy's compiling of thousands of bound values cost more than the read (and SQLite
    scans the whole table for a row-value ``IN`` list)."""
    base: FromClause = _t
    if pairs:
        base = _t.join(*_pairs_on(_t, pairs, dialect, key="group_key"))
    return (
        select(
            _t.c.id,
            _t.c.account_id,
            _a.c.customer_id,
            _a.c.type.label("account_type"),
            type_coerce(_t.c.booked_at, String).label("booked_at"),
            _t.c.amount_minor,
            _t.c.currency,
            _t.c.description,
            _t.c.counterparty,
            _t.c.mcc,
            _t.c.channel,
            _t.c.status,
            _c.c.timezone,
            *[_t.c[name].label(f"old_{name}") for name in STORED],
        )
        .select_from(
            base.join(_a, _a.c.id == _t.c.account_id).join(_c, _c.c.id == _a.c.customer_id))
        .where(*where)
    )


def _aware_utc(column: pl.Series) -> pl.Series:
    """Timestamps as one UTC dtype, whatever the driver returned (text on SQLite)."""
    if column.dtype == pl.String:
        return column.str.to_datetime(time_zone="UTC", time_unit="us")
    if isinstance(column.dtype, pl.Datetime) and column.dtype.time_zone is None:
        return column.dt.replace_time_zone("UTC").cast(UTC_TIME)
    return column.cast(UTC_TIME)


def load_shard(store: Store, customer_ids: Sequence[str]) -> pl.DataFrame:
    """Every transaction of ``customer_ids`` as ``TRANSACTIONS``, plus ``old_*`` columns holding
    what the store already has of the enrichment (``changed_rows`` compares against them, so a
    run writes back only what it changed). Read as Arrow columns (``Store.arrow_frame``)."""
    return _load(store, _rows_query(_a.c.customer_id.in_(list(customer_ids))))


def load_uncategorized(store: Store, customer_ids: Sequence[str]) -> pl.DataFrame:
    """``load_shard`` of the rows of ``customer_ids`` that the last run left uncategorized:
    what the gap report explains (``gaps.gap_report``)."""
    return _load(store, _rows_query(_a.c.customer_id.in_(list(customer_ids)),
                                    _t.c.category_source == "uncategorized"))


def _load(store: Store, query: Select[Any]) -> pl.DataFrame:
    text_time = store.dialect == "sqlite"
    types: dict[str, Any] = {column.name: pl.String for column in query.selected_columns}
    types["amount_minor"] = pl.Int64
    types["old_category_confidence"] = pl.Float64
    types["booked_at"] = pl.String if text_time else UTC_TIME
    frame = store.arrow_frame(query, types)
    if frame.height == 0:
        empty = pl.DataFrame(
            schema={**dict(TRANSACTIONS), **{f"old_{n}": pl.String for n in STORED}}
        )
        return empty.with_columns(pl.col("old_category_confidence").cast(pl.Float64))
    frame = frame.with_columns(_aware_utc(frame.get_column("booked_at")).alias("booked_at"))
    out = with_local_dates(frame).drop("timezone").sort("id")
    return out.select([*TRANSACTIONS, *[f"old_{n}" for n in STORED]])


_CHUNK = 2_000
"""Values bound in one ``IN`` list (SQLite allows 32,766 in all; PostgreSQL 65,535)."""
_PAIRS = 50_000
"""(account, merchant key) pairs sent in one JSON value: one bound value, so no bound-value
limit; fewer reads, each of which costs PostgreSQL's Arrow driver a connection (~0.1 s)."""


@dataclass(frozen=True, slots=True)
class Increment:
    """What a night's increment loads for a shard of customers (``load_increment``)."""

    frame: pl.DataFrame
    """The new transactions and every enriched payment of the groups they can change."""
    spans: pl.DataFrame
    """Per account with new transactions: ``income_evidence.account_spans`` over all of it."""
    accounts: tuple[str, ...]
    """The accounts with new transactions: their credits, income and credit series are
    recomputed whole."""
    keys: frozenset[tuple[str, str]]
    """The (account, group key) pairs whose outgoing payments are loaded whole."""
    undone: pl.DataFrame
    """The debits outside ``keys`` that a credit of ``accounts`` could undo (same account,
    merchant key and sum): all ``income``'s returned-payment check reads of the rest."""


def load_increment(
    store: Store,
    customer_ids: Sequence[str],
    keys_of: Callable[[pl.DataFrame], set[tuple[str, str]]],
    sums_of: Callable[[pl.DataFrame], set[tuple[str, str, int]]],
) -> Increment:
    """The new transactions of ``customer_ids`` and, already enriched, every payment a full
    run would read to derive what they can change -- no more, so a night's cost follows the
    night's data, not the length of each customer's history.

    A series belongs to a group (account, group key, direction), income to an account, and
    each is a function of its group's or account's payments alone. So, in the accounts with
    new transactions: every credit (income, credit series), and the outgoing payments of each
    group a new row joins (``keys_of``: the (account, key) pairs a frame's rows group under in
    series, from the pipeline), read by the ``group_key`` each enriched row keeps (the merchant
    key, or the description's for a payment with none). Each group comes whole;
    ``pipeline.enrich_increment`` derives the same as a full run would for it, and
    ``write_increment`` swaps exactly those groups' rows. Income reads one thing more of the
    other groups: whether a credit sends back a debit's sum (a returned direct debit), so of
    those, only the debits of a credit's merchant key and sum come (``Increment.undone``;
    ``sums_of``: the (account, merchant key, minus the sum) of a frame's credits, from the
    pipeline)."""
    new = _load(store, _rows_query(
        _a.c.customer_id.in_(list(customer_ids)), _t.c.category_source.is_(None)))
    accounts = tuple(sorted(str(a) for a in new.get_column("account_id").unique()))
    if not accounts:
        return Increment(new, _spans(store, accounts), accounts, frozenset(), new.clear())
    done = _t.c.category_source.is_not(None)
    # every credit of those accounts (income reads no debit but through ``spans`` and the
    # returned sums)
    whole = pl.concat([
        _load(store, _rows_query(
            _t.c.account_id.in_(list(accounts[start : start + _CHUNK])), done,
            _t.c.amount_minor > 0))
        for start in range(0, len(accounts), _CHUNK)
    ], how="vertical_relaxed")
    loaded = keys_of(new)
    wanted = sorted(loaded)
    parts = [new, whole]
    for start in range(0, len(wanted), _PAIRS):
        parts.append(_load(store, _rows_query(
            done, _t.c.amount_minor <= 0, pairs=wanted[start : start + _PAIRS],
            dialect=store.dialect)))
    frame = pl.concat(parts, how="vertical_relaxed").sort("id")
    sums = sorted(k for k in sums_of(pl.concat([new, whole], how="vertical_relaxed"))
                  if k[:2] not in loaded)
    # a debit of a credit's merchant key has that key as its group key
    undone = [new.clear()] + [
        _load(store, _rows_query(done, _t.c.merchant_key.is_not(None),
                                 pairs=sums[start : start + _PAIRS], dialect=store.dialect))
        for start in range(0, len(sums), _PAIRS)
    ]
    return Increment(frame, _spans(store, accounts), accounts, frozenset(loaded),
                     pl.concat(undone, how="vertical_relaxed"))


def _spans(store: Store, accounts: Sequence[str]) -> pl.DataFrame:
    """``income_evidence.account_spans`` of ``accounts`` over all their stored payments,
    computed by the store: first and last counted booking (local days of the customer's time
    zone: the zone's conversion keeps order, so the days of the first and last instants) and
    what each spent."""
    out: list[tuple[str, date, date, int]] = []
    spent = func.sum(case((_t.c.amount_minor < 0, -_t.c.amount_minor), else_=0))
    for start in range(0, len(accounts), _CHUNK):
        query = (
            select(_t.c.account_id, _c.c.timezone, func.min(_t.c.booked_at),
                   func.max(_t.c.booked_at), spent)
            .select_from(
                _t.join(_a, _a.c.id == _t.c.account_id).join(_c, _c.c.id == _a.c.customer_id))
            .where(_t.c.account_id.in_(list(accounts[start : start + _CHUNK])),
                   _t.c.status.in_(COUNTED_STATUSES))
            .group_by(_t.c.account_id, _c.c.timezone)
        )
        for account, zone, first, last, total in store.rows(query):
            tz = ZoneInfo(str(zone)) if zone else UTC
            out.append((str(account), first.astimezone(tz).date(), last.astimezone(tz).date(),
                        int(total or 0)))
    return pl.DataFrame(out, schema={"account_id": pl.String, "_first": pl.Date,
                                     "_last": pl.Date, "_spent": pl.Int64}, orient="row")


def bank_as_of(store: Store, *, pending_only: bool = False) -> date | None:
    """The day a run judges every series by: the last day the bank's data reaches, in the time
    zone of the customer it reached it for (the latest local booking day over the store).

    One day for the whole run, not each shard's own last day: a series' status must not depend
    on which customers it was enriched beside, or a full run and a night's increment (which
    loads other shards) would disagree. ``pending_only``: over the transactions not yet
    enriched alone (from their index), for an increment to take the later of it and the
    last run's day instead of reading every transaction."""
    query = (
        select(_c.c.timezone, func.max(_t.c.booked_at))
        .select_from(_t.join(_a, _a.c.id == _t.c.account_id).join(_c, _c.c.id == _a.c.customer_id))
        .group_by(_c.c.timezone)
    )
    if pending_only:
        query = query.where(_t.c.category_source.is_(None))
    days = [  # booked_at comes back as an aware UTC datetime (schema.UtcDateTime)
        latest.astimezone(ZoneInfo(str(zone)) if zone else UTC).date()
        for zone, latest in store.rows(query) if latest is not None
    ]
    return max(days) if days else None


def age_series(store: Store, as_of: date, *, skip: Collection[str]) -> int:
    """Bring the status of every stored series whose customer this run did not re-read up to
    ``as_of`` (``recurring.series_status``: only the day moves it); returns the rows changed."""
    r = schema.recurring_series
    stored = store.frame(
        select(r.c.series_id, r.c.customer_id, r.c.cadence, r.c.next_date, r.c.status),
        schema_overrides={"next_date": pl.Date, "status": pl.String, "cadence": pl.String},
    )
    if stored.height == 0:
        return 0
    reread = pl.Series(list(skip), dtype=pl.String).implode()
    aged = (
        stored.filter(~pl.col("customer_id").is_in(reread))
        .with_columns(series_status(as_of).alias("_status"))
        .filter(pl.col("_status") != pl.col("status"))
        .select("series_id", pl.col("_status").alias("status"))
    )
    if aged.height == 0:
        return 0
    with store.transaction() as conn:
        return store.update(conn, r.name, aged, key="series_id")


def customers_to_enrich(store: Store, *, full: bool) -> list[str]:
    """Customers with a transaction not yet enriched (or every customer with an account)."""
    query = select(_a.c.customer_id).where(_a.c.customer_id.is_not(None)).distinct()
    if not full:
        query = (
            select(_a.c.customer_id)
            .select_from(_t.join(_a, _a.c.id == _t.c.account_id))
            .where(_t.c.category_source.is_(None))
            .distinct()
        )
    return sorted(str(r[0]) for r in store.rows(query))


def profiled_without_consent(store: Store) -> list[str]:
    """Customers who hold recurring series or income streams but no profiling consent now:
    what a withdrawal left behind, for the next run to remove."""
    held: set[str] = set()
    for table in (schema.recurring_series, schema.income_streams):
        held |= {str(r[0]) for r in store.rows(select(table.c.customer_id).distinct())}
    if not held:
        return []
    return sorted(consent.lacking(store, [ConsentPurpose.PROFILING], sorted(held)))


# -- the bank's rules, aliases and the customers' corrections ---------------------------------


def rules_version(store: Store) -> int:
    """How many rule edits the store has seen: a new number after every change."""
    table = schema.category_rules
    return int(store.rows(select(func.count()).select_from(table))[0][0])


def current_rules(store: Store) -> RuleSet:
    """The bank's rules as they stand now: the latest version of each rule not deleted."""
    table = schema.category_rules
    latest = (
        select(table.c.rule_id, func.max(table.c.version).label("version"))
        .group_by(table.c.rule_id)
        .subquery()
    )
    rows = store.rows(
        select(table.c.definition, table.c.deleted)
        .join(latest, (latest.c.rule_id == table.c.rule_id) & (latest.c.version == table.c.version))
        .order_by(table.c.rule_id)
    )
    # A rule an older version let in and this one cannot run is left out with a warning
    # naming it, so that one rule never stops every enrichment until it is deleted.
    return RuleSet.from_records(
        [dict(r[0]) for r in rows if not r[1]], version=rules_version(store), skip_invalid=True
    )


def save_rule(store: Store, definition: dict[str, Any], *, by: str = "cli") -> int:
    """Add a rule, or a new version of one; returns the version. The rule is validated first."""
    RuleSet.from_records([definition])  # raises ValidationError naming the rule and field
    rule_id = str(definition["id"])
    table = schema.category_rules
    with store.transaction() as conn:
        current = conn.execute(
            select(func.max(table.c.version)).where(table.c.rule_id == rule_id)
        ).scalar_one()
        version = int(current or 0) + 1
        conn.execute(
            insert(table).values(
                rule_id=rule_id,
                version=version,
                definition=definition,
                deleted=False,
                created_at=datetime.now(UTC),
                created_by=by,
            )
        )
    return version


def delete_rule(store: Store, rule_id: str, *, by: str = "cli") -> int:
    """Retire a rule (its history stays); returns the tombstone's version."""
    table = schema.category_rules
    with store.transaction() as conn:
        row = conn.execute(
            select(table.c.version, table.c.definition, table.c.deleted)
            .where(table.c.rule_id == rule_id)
            .order_by(table.c.version.desc())
            .limit(1)
        ).first()
        if row is None or row[2]:
            raise NotFoundError(f"no rule {rule_id!r} in the store")
        version = int(row[0]) + 1
        conn.execute(
            insert(table).values(
                rule_id=rule_id,
                version=version,
                definition=row[1],
                deleted=True,
                created_at=datetime.now(UTC),
                created_by=by,
            )
        )
    return version


def rule_history(store: Store) -> pl.DataFrame:
    table = schema.category_rules
    return store.frame(
        select(
            table.c.rule_id,
            table.c.version,
            table.c.deleted,
            table.c.created_at,
            table.c.created_by,
        ).order_by(table.c.rule_id, table.c.version)
    )


def load_aliases(store: Store) -> MerchantAliases:
    """The shipped merchant directory extended with the bank's own aliases."""
    table = schema.merchant_aliases
    rows = store.rows(select(table.c.pattern, table.c.merchant, table.c.category_detailed))
    base = MerchantAliases.default()
    if not rows:
        return base
    own = MerchantAliases.from_records([(str(r[0]), str(r[1]), r[2]) for r in rows])
    return base.extended(own)


def aliases_changed_at(store: Store) -> datetime | None:
    """When the bank last added or changed a merchant alias (None: never)."""
    table = schema.merchant_aliases  # created_at: an aware UTC datetime (schema.UtcDateTime)
    latest: datetime | None = store.rows(select(func.max(table.c.created_at)))[0][0]
    return latest


def add_alias(store: Store, pattern: str, merchant: str, category: str | None = None) -> None:
    if category is not None and category not in DETAILED:
        raise ValidationError(f"alias {pattern!r}: unknown category {category!r}")
    table = schema.merchant_aliases
    frame = pl.DataFrame(
        {
            "pattern": [pattern.upper()],
            "merchant": [merchant],
            "category_detailed": [category],
            "created_at": [datetime.now(UTC)],
        },
        schema_overrides={"category_detailed": pl.String},
    )
    with store.transaction() as conn:
        store.write(conn, table.name, frame)


def load_overrides(store: Store) -> pl.DataFrame:
    table = schema.recategorizations
    return store.frame(
        select(table.c.customer_id, table.c.merchant_key, table.c.category_detailed),
        schema_overrides={
            "customer_id": pl.String,
            "merchant_key": pl.String,
            "category_detailed": pl.String,
        },
    )


def _key(description: str, counterparty: str | None, channel: str, aliases: MerchantAliases) -> str:
    """The merchant key a re-categorization is remembered under (the description if none)."""
    _, key = normalize_one(description, counterparty, aliases, channel=channel)
    return key or description.upper()


@dataclass(frozen=True, slots=True)
class Recategorized:
    transaction_id: str
    customer_id: str
    merchant_key: str
    category_detailed: str
    transactions_updated: int


def recategorize(store: Store, transaction_id: str, category_detailed: str) -> Recategorized:
    """A customer moves one transaction to another category.

    The choice is remembered for the merchant, so every other transaction of that customer at
    that merchant follows at once and future ones on the next run; the row becomes training data
    for the text model (its source is ``user``).
    """
    if category_detailed not in DETAILED:
        raise ValidationError(
            f"unknown category {category_detailed!r} (see `tactful categories` for the list)"
        )
    row = store.rows(
        select(_t.c.description, _t.c.counterparty, _t.c.channel, _a.c.customer_id)
        .select_from(_t.join(_a, _a.c.id == _t.c.account_id))
        .where(_t.c.id == transaction_id)
    )
    if not row:
        raise NotFoundError(f"no transaction {mask(transaction_id)} on a known account")
    description, counterparty, channel, customer_id = row[0]
    aliases = load_aliases(store)
    merchant_key = _key(str(description or ""), counterparty, str(channel), aliases)
    table = schema.recategorizations
    values = {
        "customer_id": str(customer_id),
        "merchant_key": merchant_key,
        "category_detailed": category_detailed,
        "transaction_id": transaction_id,
        "at": datetime.now(UTC),
    }
    with store.transaction() as conn:
        store.write(conn, table.name, pl.DataFrame([values]))  # an upsert: the latest choice wins
        accounts = select(_a.c.id).where(_a.c.customer_id == values["customer_id"])
        same = conn.execute(
            select(_t.c.id, _t.c.description, _t.c.counterparty, _t.c.channel).where(
                _t.c.account_id.in_(accounts)
            )
        ).all()
        ids = [
            r[0]
            for r in same
            if r[0] == transaction_id
            or _key(str(r[1] or ""), r[2], str(r[3]), aliases) == merchant_key
        ]
        n = 0
        for start in range(0, len(ids), 5_000):
            n += conn.execute(
                update(_t)
                .where(_t.c.id.in_(ids[start : start + 5_000]))
                .values(
                    category=primary_of(category_detailed),
                    category_detailed=category_detailed,
                    category_source="user",
                    category_confidence=1.0,
                )
            ).rowcount
    return Recategorized(transaction_id, str(customer_id), merchant_key, category_detailed, n)


# -- the learned text model --------------------------------------------------------------------


def latest_text_model(store: Store) -> tuple[int, TextCategorizer] | None:
    """The newest stored text categorizer, its checksum verified.

    The row holds data (``TextCategorizer.to_bytes``), never a pickle; a row written as a pickle
    by an earlier version is refused (``ArtifactRefused``) with a message to retrain.
    """
    table = schema.text_models
    row = store.rows(
        select(table.c.id, table.c.sha256, table.c.artifact).order_by(table.c.id.desc()).limit(1)
    )
    if not row:
        return None
    model_id, sha, blob = row[0]
    if hashlib.sha256(blob).hexdigest() != sha:
        raise StoreError(f"text model {model_id} fails its checksum: refusing to load it")
    return int(model_id), TextCategorizer.from_bytes(bytes(blob), what=f"text model {model_id}")


def save_text_model(store: Store, model: TextCategorizer, *, rows: int) -> int:
    blob = model.to_bytes()
    table = schema.text_models
    with store.transaction() as conn:
        result = conn.execute(
            insert(table).values(
                kind="text_categorizer",
                trained_at=datetime.now(UTC),
                rows=rows,
                classes=len(model.classes_),
                sha256=hashlib.sha256(blob).hexdigest(),
                artifact=blob,
            )
        )
        key = result.inserted_primary_key
        assert key is not None  # noqa: S101 -- narrows a type; holds by construction
        return int(key[0])


def save_behaviour(store: Store, text_model_id: int, answers: pl.DataFrame) -> int:
    """Store the behaviour step's merchant answers (``behaviour.ANSWERS``) fitted with text
    model ``text_model_id``; returns the merchants stored."""
    rows = answers.select(list(ANSWERS)).with_columns(text_model_id=pl.lit(text_model_id))
    if rows.height == 0:
        return 0
    with store.transaction() as conn:
        store.write(conn, schema.merchant_behaviour.name, rows)
    return rows.height


def load_behaviour(store: Store, text_model_id: int | None) -> pl.DataFrame:
    """The merchant answers fitted with text model ``text_model_id`` (none for no model). A
    category outside the taxonomy is refused: the row would be written on every payment to the
    merchant."""
    if text_model_id is None:
        return no_answers()
    table = schema.merchant_behaviour
    frame = store.frame(
        select(table.c.merchant_key, table.c.category_detailed, table.c.confidence)
        .where(table.c.text_model_id == text_model_id)
        .order_by(table.c.merchant_key),
        schema_overrides=dict(ANSWERS),
    )
    if frame.height == 0:
        return no_answers()
    unknown = sorted(set(frame.get_column("category_detailed").to_list()) - DETAILED)
    if unknown:
        raise StoreError(
            f"merchant_behaviour of text model {text_model_id}: unknown categories "
            f"{', '.join(unknown[:5])}; retrain with tactful enrich --retrain"
        )
    return frame.select(list(ANSWERS)).cast(dict(ANSWERS))  # type: ignore[arg-type]


def load_context(store: Store, *, classifier: TextCategorizer | None = None) -> EnrichContext:
    return EnrichContext(
        aliases=load_aliases(store),
        rules=current_rules(store),
        overrides=load_overrides(store),
        classifier=classifier,
    )


def latest_context(store: Store) -> EnrichContext:
    """What the last ``tactful enrich`` categorized with: the bank's rules, directory and
    corrections, the newest text model and the behaviour answers fitted with it. The real-time
    path and the evaluations read the store's categories as the batch wrote them."""
    model = latest_text_model(store)
    ctx = load_context(store, classifier=model[1] if model else None)
    return replace(ctx, behaviour=load_behaviour(store, model[0] if model else None))


# -- writing a shard's results ------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ShardWrite:
    customers: int
    transactions: int
    updated: int
    series: int
    income_streams: int


def changed_rows(enriched: pl.DataFrame) -> pl.DataFrame:
    """The rows whose enrichment differs from what the store holds, with the columns to set."""
    # Float64 confidences come back from SQLite REAL and PostgreSQL double precision bit for bit,
    # so one null-aware inequality serves every column.
    differs = pl.any_horizontal([pl.col(n).ne_missing(pl.col(f"old_{n}")) for n in STORED])
    return enriched.filter(differs).select("id", *STORED)


def _rows_to_write(
    result: EnrichResult,
) -> tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame, pl.DataFrame, pl.DataFrame]:
    """A shard's result as the rows each table takes: the changed transactions, series, price
    changes, income streams and pay changes."""
    now = datetime.now(UTC)
    series = result.series.series.select(list(SERIES)).with_columns(updated_at=pl.lit(now))
    series_changes = result.series.changes.join(
        result.series.series.select("series_id", "customer_id"), on="series_id", how="inner"
    )
    streams = result.income.streams.select(list(INCOME_STREAMS)).with_columns(
        updated_at=pl.lit(now)
    )
    income_changes = result.income.changes.select(list(INCOME_CHANGES))
    return changed_rows(result.transactions), series, series_changes, streams, income_changes


def _written(customers: int, result: EnrichResult, updated: int, series: int,
             streams: int) -> ShardWrite:
    return ShardWrite(customers=customers, transactions=result.transactions.height,
                      updated=updated, series=series, income_streams=streams)


def write_shard(
    store: Store,
    customer_ids: Sequence[str],
    result: EnrichResult,
    *,
    also: Callable[[Connection, ShardWrite], None] | None = None,
) -> ShardWrite:
    """One database transaction per shard: a crash leaves whole shards, a re-run completes.

    ``also`` writes in the same transaction (the run's resume point), so what the store says
    was committed is exactly what was."""
    changes, series, series_changes, streams, income_changes = _rows_to_write(result)
    with store.transaction() as conn:
        updated = store.update(conn, "transactions", changes)
        store.replace_customers(conn, "recurring_series", customer_ids, series)
        store.replace_customers(conn, "series_changes", customer_ids, series_changes)
        store.replace_customers(conn, "income_streams", customer_ids, streams)
        store.replace_customers(conn, "income_changes", customer_ids, income_changes)
        written = _written(len(customer_ids), result, updated, series.height, streams.height)
        if also is not None:
            also(conn, written)
    return written


def write_increment(
    store: Store,
    customer_ids: Sequence[str],
    loaded: Increment,
    result: EnrichResult,
    *,
    also: Callable[[Connection, ShardWrite], None] | None = None,
) -> ShardWrite:
    """``write_shard`` for ``load_increment``: in one database transaction, the changed rows,
    and the series and income of exactly the groups it loaded whole (every series of those
    accounts coming in, those of its keys going out; every income stream of those accounts)
    swapped for the ones derived again. Everything else the store holds stays: nothing it
    depends on was read, so nothing of it changed."""
    changes, series, series_changes, streams, income_changes = _rows_to_write(result)
    r, sc = schema.recurring_series, schema.series_changes
    i, ic = schema.income_streams, schema.income_changes
    accounts, keys = list(loaded.accounts), sorted(loaded.keys)
    scopes = [
        select(r.c.series_id).where(r.c.account_id.in_(accounts[k : k + _CHUNK]),
                                    r.c.direction == "in")
        for k in range(0, len(accounts), _CHUNK)
    ] + [
        select(r.c.series_id).select_from(
            r.join(*_pairs_on(r, keys[k : k + _PAIRS], store.dialect)))
        for k in range(0, len(keys), _PAIRS)
    ]
    with store.transaction() as conn:
        updated = store.update(conn, "transactions", changes)
        for scope in scopes:
            gone = [row[0] for row in conn.execute(scope)]
            for k in range(0, len(gone), _CHUNK):
                conn.execute(delete(sc).where(sc.c.series_id.in_(gone[k : k + _CHUNK])))
                conn.execute(delete(r).where(r.c.series_id.in_(gone[k : k + _CHUNK])))
        for start in range(0, len(accounts), _CHUNK):
            mine = accounts[start : start + _CHUNK]
            streams_gone = select(i.c.stream_id).where(i.c.account_id.in_(mine))
            conn.execute(delete(ic).where(ic.c.stream_id.in_(streams_gone)))
            conn.execute(delete(i).where(i.c.account_id.in_(mine)))
        for table, frame in (("recurring_series", series), ("series_changes", series_changes),
                             ("income_streams", streams), ("income_changes", income_changes)):
            store.insert(conn, table, frame)
        written = _written(len(customer_ids), result, updated, series.height, streams.height)
        if also is not None:
            also(conn, written)
    return written
