"""The bank's exports of a chunk as Polars frames, in the columns ``tactful ingest`` reads.

Column names and value vocabularies follow ``tactful.ingest.schema``; money is in integer minor
units (``*_minor``); timestamps are ISO 8601 with the customer's UTC offset.
"""

from __future__ import annotations

from typing import Final

import numpy as np
import polars as pl
from numpy.typing import NDArray

from tactful.simulate.bank.booking import STATUS
from tactful.simulate.bank.products import PRODUCTS
from tactful.simulate.base.calendar import NEVER
from tactful.simulate.base.rows import (
    CH_ATM,
    CH_CARD,
    CH_DD,
    CH_ONLINE,
    CH_SO,
    CH_TRANSFER,
    CHECKING,
    CREDIT_CARD,
    D_CARD_PAY_OUT,
    D_LOAN_OUT,
    D_OWN_IN,
    D_OWN_OUT,
    SAVINGS,
    SLOTS,
    TX_CHANNELS,
)
from tactful.simulate.counterparties import merchants as mc
from tactful.simulate.counterparties.names import name_mccs, names
from tactful.simulate.counterparties.services import SERVICES
from tactful.simulate.exports.descriptors import RowContext, describe
from tactful.simulate.exports.timezones import iso_strings, localize
from tactful.simulate.generate import Chunk
from tactful.simulate.people.personas import (
    AGE_BANDS,
    CHANNELS,
    GENDERS,
    LEVELS,
    PURPOSES,
    QUIET,
)
from tactful.simulate.people.regions import ALL_PLACES, PROFILES, REGIONS, TIMEZONES

I64 = NDArray[np.int64]
CUSTOMER_COLUMNS: Final = (
    "customer_id",
    "region",
    "locale",
    "timezone",
    "personalization_level",
    "channel_preferences",
    "quiet_hours_start",
    "quiet_hours_end",
    "created_at",
    "age_band",
    "gender",
)
ACCOUNT_COLUMNS: Final = (
    "account_id",
    "customer_id",
    "account_type",
    "currency",
    "balance_minor",
    "balance_as_of",
    "credit_limit_minor",
    "opened_on",
    "closed_on",
    "product_id",
    "name",
)
TRANSACTION_COLUMNS: Final = (
    "transaction_id",
    "account_id",
    "booked_at",
    "value_at",
    "amount_minor",
    "currency",
    "description",
    "counterparty",
    "mcc",
    "channel",
    "status",
    "balance_after_minor",
)
CONSENT_COLUMNS: Final = ("customer_id", "purpose", "status", "at", "source")
PRODUCT_COLUMNS: Final = ("product_id", "name", "kind", "account_type", "description")
_ACCOUNT_NAMES: Final = {
    "US": (
        "Everyday Checking",
        "Savings",
        "Credit Card",
        "Personal Loan",
        "Mortgage",
        "Investments",
    ),
    "GB": (
        "Current Account",
        "Easy Access Saver",
        "Credit Card",
        "Personal Loan",
        "Mortgage",
        "Stocks & Shares ISA",
    ),
    "DE": ("Girokonto", "Tagesgeld", "Kreditkarte", "Ratenkredit", "Baufinanzierung", "Depot"),
    "FR": (
        "Compte courant",
        "Livret",
        "Carte de credit",
        "Pret personnel",
        "Pret immobilier",
        "Compte-titres",
    ),
    "ES": (
        "Cuenta corriente",
        "Cuenta ahorro",
        "Tarjeta de credito",
        "Prestamo personal",
        "Hipoteca",
        "Cuenta de valores",
    ),
    "NL": (
        "Betaalrekening",
        "Spaarrekening",
        "Creditcard",
        "Persoonlijke lening",
        "Hypotheek",
        "Beleggingsrekening",
    ),
}
_COUNTRY_OF_PLACE: Final = tuple(p.country for p in ALL_PLACES)


def lut(table: tuple[str, ...] | list[str], idx: NDArray[np.integer]) -> pl.Series:
    """``table[idx]`` as a Polars string column, without Python string objects per row."""
    return pl.Series(list(table), dtype=pl.Utf8).gather(pl.Series(np.asarray(idx, dtype=np.int64)))


def _null_where(values: I64, mask: NDArray[np.bool_]) -> pl.Series:
    return pl.select(pl.when(pl.Series(mask)).then(None).otherwise(pl.Series(values))).to_series()


def customer_id(gidx: int) -> str:
    return f"CUS-{gidx:08d}"


def customer_ids(gidx: I64) -> pl.Series:
    return pl.select(
        pl.concat_str([pl.lit("CUS-"), pl.Series(gidx).cast(pl.Utf8).str.zfill(8)])
    ).to_series()


def zone_of(chunk: Chunk) -> I64:
    tz = np.array([TIMEZONES.index(p.timezone) for p in ALL_PLACES])
    return tz[chunk.pop.place]


def _hhmm(minutes: I64) -> pl.Series:
    s = np.where(
        minutes < 0,
        "",
        np.char.add(
            np.char.zfill((minutes // 60).astype(str), 2),
            np.char.add(":", np.char.zfill((minutes % 60).astype(str), 2)),
        ),
    )
    return pl.Series(s.astype(object), dtype=pl.Utf8)


def customers_frame(chunk: Chunk) -> pl.DataFrame:
    pop, w = chunk.pop, chunk.window
    zone = zone_of(chunk)
    sec, off = localize(w, zone, TIMEZONES, pop.created_day, pop.created_sec)
    prefs = ["|".join(c for k, c in enumerate(CHANNELS) if m >> k & 1) for m in pop.channels]
    withdrawn = chunk.consents.withdrawn_day[:, 0] < NEVER
    level = np.where(withdrawn, 0, pop.level)
    quiet = np.array(QUIET)[pop.quiet]
    return pl.DataFrame(
        {
            "customer_id": customer_ids(pop.gidx),
            "region": [REGIONS[i].value for i in pop.region],
            "locale": [ALL_PLACES[i].locale for i in pop.place],
            "timezone": [TIMEZONES[i] for i in zone],
            "personalization_level": np.array(LEVELS)[level].tolist(),
            "channel_preferences": prefs,
            "quiet_hours_start": _hhmm(quiet[:, 0]),
            "quiet_hours_end": _hhmm(quiet[:, 1]),
            "created_at": iso_strings(w, pop.created_day, sec, off),
            "age_band": np.array(AGE_BANDS)[pop.age_band].tolist(),
            "gender": np.array(GENDERS)[pop.gender].tolist(),
        }
    )


def products_frame() -> pl.DataFrame:
    return pl.DataFrame(
        {
            "product_id": [p.product_id for p in PRODUCTS],
            "name": [p.name for p in PRODUCTS],
            "kind": [p.kind for p in PRODUCTS],
            "account_type": [p.account_type for p in PRODUCTS],
            "description": [p.description for p in PRODUCTS],
        }
    )


def end_stamp(chunk: Chunk) -> pl.Series:
    """The last second of the window in each customer's zone (balances are as of then)."""
    w = chunk.window
    zone = zone_of(chunk)
    day = np.full(len(zone), w.n_days - 1, dtype=np.int64)
    sec, off = localize(w, zone, TIMEZONES, day, np.full(len(zone), 86_399, dtype=np.int64))
    return iso_strings(w, day, sec, off)


def accounts_frame(chunk: Chunk, ids: list[list[str]]) -> pl.DataFrame:
    pop, a, w = chunk.pop, chunk.accounts, chunk.window
    ci, si = np.nonzero(a.exists)
    countries = [_COUNTRY_OF_PLACE[p] for p in pop.place]
    currency = np.array([PROFILES[r].currency for r in REGIONS])[pop.region]
    as_of = end_stamp(chunk).gather(pl.Series(ci))
    closure = chunk.churn.closure_day[ci]
    closed = [w.to_date(int(d)).isoformat() if d < w.n_days else "" for d in closure]
    opened = [w.to_date(int(d)).isoformat() for d in a.opened_day[ci, si]]
    limit = np.where(
        si == CREDIT_CARD, a.credit_limit[ci], np.where(si == CHECKING, a.limit[ci, CHECKING], -1)
    )
    limit = np.where((si == CHECKING) & (pop.region[ci] == 2), 0, limit)
    prod = a.product[ci, si]
    return pl.DataFrame(
        {
            "account_id": [ids[c][s] for c, s in zip(ci, si, strict=True)],
            "customer_id": customer_ids(pop.gidx[ci]),
            "account_type": [SLOTS[s] for s in si],
            "currency": currency[ci].tolist(),
            "balance_minor": chunk.booked.closing[ci, si],
            "balance_as_of": as_of,
            "credit_limit_minor": _null_where(np.maximum(limit, 0), limit <= 0),
            "opened_on": opened,
            "closed_on": closed,
            "product_id": [PRODUCTS[p].product_id if p >= 0 else "" for p in prod],
            "name": [_ACCOUNT_NAMES[countries[c]][s] for c, s in zip(ci, si, strict=True)],
        }
    )


def _partner_ref(chunk: Chunk, cust: I64, slot: I64, series: I64, desc: I64, ref: I64) -> I64:
    """Own-account transfers print the last four digits of the other account."""
    s = chunk.series
    pair = np.where(series >= 0, s.pair_acct[np.maximum(series, 0)], -1)
    partner = np.select(
        [
            desc == D_CARD_PAY_OUT,
            desc == D_LOAN_OUT,
            (desc == D_OWN_OUT) & (slot == CHECKING),
            (desc == D_OWN_IN) & (slot == CHECKING),
            np.isin(desc, [D_OWN_OUT, D_OWN_IN]),
        ],
        [CREDIT_CARD, pair, np.where(pair >= 0, pair, SAVINGS), SAVINGS, CHECKING],
        -1,
    )
    g = chunk.pop.gidx[cust]
    number = ((g * 8 + partner) * 7_919_113 + 1_234_567) % 10**10
    return np.where(partner >= 0, number % 10_000, ref)


def transaction_ids(chunk: Chunk) -> pl.Series:
    """``T`` + customer (8 digits) + account slot + ordinal in the account (6 digits)."""
    b = chunk.booked
    g = chunk.pop.gidx[b.rows.cust]
    return (
        pl.select(
            pl.concat_str(
                [
                    pl.lit("T"),
                    pl.Series(g).cast(pl.Utf8).str.zfill(8),
                    pl.Series(b.rows.slot.astype(np.int64)).cast(pl.Utf8),
                    pl.Series(b.seq).cast(pl.Utf8).str.zfill(6),
                ]
            )
        )
        .to_series()
        .rename("transaction_id")
    )


def account_id_lookup(ids: list[list[str]], cust: I64, slot: I64) -> pl.Series:
    return pl.Series([x for row in ids for x in row], dtype=pl.Utf8).gather(
        pl.Series(cust * 6 + slot)
    )


def transactions_frame(
    chunk: Chunk, ids: list[list[str]], tx_id: pl.Series | None = None
) -> pl.DataFrame:
    b, pop, w = chunk.booked, chunk.pop, chunk.window
    rows = b.rows
    cust = rows.cust.astype(np.int64)
    slot = rows.slot.astype(np.int64)
    day = rows.day.astype(np.int64)
    zone = zone_of(chunk)[cust]
    sec, off = localize(w, zone, TIMEZONES, day, rows.sec.astype(np.int64))
    g = pop.gidx[cust]
    # Fraud victims get a new card number from the reissue day.
    tail = np.where(
        day >= chunk.fraud.reissue_day[cust],
        (pop.card_tail[cust] * 7 + 1234) % 9000 + 1000,
        pop.card_tail[cust],
    )
    place = np.where(rows.place >= 0, rows.place, pop.place[cust])
    ref = _partner_ref(
        chunk, cust, slot, rows.series.astype(np.int64), rows.desc.astype(np.int64), rows.ref
    )
    ctx = RowContext(
        country=pop.country[cust],
        slot=slot,
        desc=rows.desc.astype(np.int64),
        day=day,
        sec=sec,
        merchant=rows.merchant.astype(np.int64),
        service=rows.service.astype(np.int64),
        cparty=rows.cparty.astype(np.int64),
        ref=ref,
        place=place.astype(np.int64),
        dest=rows.dest.astype(np.int64),
        tail=tail,
        expiry=(w.start.year % 100 + 3) * 100 + (g % 12) + 1,
    )
    description = describe(w, ctx)
    t = mc.merchant_table()
    # MCC table: "" first, then merchants, then services, then the ATM code.
    # MCC table: "" first, then merchants, services, counterparties, then the ATM code.
    mcc_table = pl.Series(
        ["", *t.mcc, *(s.mcc for s in SERVICES), *name_mccs(), "6011"], dtype=pl.Utf8
    )
    card = np.isin(rows.channel, [CH_CARD, CH_ONLINE, CH_ATM]) & ~rows.mcc_missing
    base_names = 1 + len(t) + len(SERVICES)
    mcc_idx = np.select(
        [~card, rows.channel == CH_ATM, rows.service >= 0, rows.merchant >= 0, rows.cparty > 0],
        [
            0,
            len(mcc_table) - 1,
            1 + len(t) + rows.service,
            1 + rows.merchant,
            base_names + rows.cparty,
        ],
        0,
    )
    has_cp = np.isin(rows.channel, [CH_TRANSFER, CH_DD, CH_SO]) & (rows.cparty > 0)
    counterparty = pl.Series(names(), dtype=pl.Utf8).gather(
        pl.Series(np.where(has_cp, rows.cparty, 0))
    )
    currency = pl.Series([PROFILES[r].currency for r in REGIONS], dtype=pl.Utf8).gather(
        pl.Series(pop.region[cust])
    )
    account = account_id_lookup(ids, cust, slot)
    tx_id = transaction_ids(chunk) if tx_id is None else tx_id
    declined = b.status == 2
    return pl.DataFrame(
        {
            "transaction_id": tx_id,
            "account_id": account,
            "booked_at": iso_strings(w, day, sec, off),
            "value_at": pl.Series(w.iso_dates(0, w.n_days + 4), dtype=pl.Utf8).gather(
                pl.Series(day + rows.value_lag)
            ),
            "amount_minor": b.amount,
            "currency": currency,
            "description": description,
            "counterparty": counterparty,
            "mcc": mcc_table.gather(pl.Series(mcc_idx.astype(np.int64))),
            "channel": pl.Series(TX_CHANNELS, dtype=pl.Utf8).gather(
                pl.Series(rows.channel.astype(np.int64))
            ),
            "status": pl.Series(STATUS, dtype=pl.Utf8).gather(pl.Series(b.status.astype(np.int64))),
            "balance_after_minor": _null_where(b.balance, declined),
        }
    )


def consents_frame(chunk: Chunk) -> pl.DataFrame:
    pop, w, cc = chunk.pop, chunk.window, chunk.consents
    n, k = len(pop), len(PURPOSES)
    zone = zone_of(chunk)
    sec0, off0 = localize(w, zone, TIMEZONES, pop.created_day, pop.created_sec)
    at0 = iso_strings(w, pop.created_day, sec0, off0)
    ci = np.repeat(np.arange(n), k)
    pi = np.tile(np.arange(k), n)
    base = pl.DataFrame(
        {
            "i": ci,
            "p": pi,
            "t": 0,
            "customer_id": customer_ids(pop.gidx[ci]),
            "purpose": np.array(PURPOSES)[pi].tolist(),
            "status": np.where(pop.consent_denied[ci, pi], "denied", "granted").tolist(),
            "at": at0.gather(pl.Series(ci)),
            "source": ["onboarding"] * len(ci),
        }
    )
    wc, wp = np.nonzero(cc.withdrawn_day < w.n_days)
    wd = cc.withdrawn_day[wc, wp]
    sec, off = localize(w, zone[wc], TIMEZONES, wd, cc.withdrawn_sec[wc, wp])
    later = pl.DataFrame(
        {
            "i": wc,
            "p": wp,
            "t": 1,
            "customer_id": customer_ids(pop.gidx[wc]),
            "purpose": np.array(PURPOSES)[wp].tolist(),
            "status": ["withdrawn"] * len(wc),
            "at": iso_strings(w, wd, sec, off),
            "source": ["app_settings"] * len(wc),
        },
        schema=base.schema,
    )
    return pl.concat([base, later]).sort(["i", "t", "p"]).select(CONSENT_COLUMNS)
