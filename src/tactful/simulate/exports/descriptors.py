"""Raw bank descriptor strings, built in bulk from the rows' integer codes.

Rows are sorted by template group (template, home country, card statement or not); each group is
one Polars query that fills its template from integer columns and small lookup tables, so the
cost is about a hundred vectorised queries per chunk, not one Python format per transaction.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache

import numpy as np
import polars as pl
from numpy.typing import NDArray

from tactful.simulate.base.calendar import Window
from tactful.simulate.base.rows import CREDIT_CARD
from tactful.simulate.counterparties import merchants as mc
from tactful.simulate.counterparties.names import names
from tactful.simulate.counterparties.services import SERVICES
from tactful.simulate.exports.templates import ATM_OPERATORS, CREDIT_CARD_TEMPLATES, TEMPLATES
from tactful.simulate.people.regions import ALL_PLACES, COUNTRIES, DESTINATIONS

I64 = NDArray[np.int64]
_FIELD = re.compile(r"\{(\w+)\}")
_ALNUM = pl.Series(list("0123456789ABCDEFGHJKLMNPQRSTUVWXYZ"), dtype=pl.Utf8)
_MONTHS = ("JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC")


@cache
def _parts(template: str) -> tuple[tuple[bool, str], ...]:
    """(is_field, text) pieces of a template."""
    out: list[tuple[bool, str]] = []
    pos = 0
    for m in _FIELD.finditer(template):
        if m.start() > pos:
            out.append((False, template[pos : m.start()]))
        out.append((True, m.group(1)))
        pos = m.end()
    if pos < len(template):
        out.append((False, template[pos:]))
    return tuple(out)


@dataclass(frozen=True, slots=True)
class _Tokens:
    """Merchant tokens followed by service tokens, split around their placeholder."""

    head: pl.Series
    tail: pl.Series
    online: pl.Series
    placeholder: NDArray[np.int8]
    width: NDArray[np.int8]
    city: NDArray[np.bool_]
    """The processor prints the city after the name (some independents)."""
    n_merchants: int
    truncate: int


def _tokens() -> _Tokens:
    return _tokens_of(mc.merchant_table())


@cache
def _tokens_of(t: mc.MerchantTable) -> _Tokens:
    heads, tails, ph, width = (
        list(t.token_head),
        list(t.token_tail),
        list(t.placeholder),
        list(t.width),
    )
    for s in SERVICES:
        m = re.search(r"\{([nr])(\d+)\}", s.token)
        heads.append(s.token[: m.start()] if m else s.token)
        tails.append(s.token[m.end() :] if m else "")
        ph.append(0 if not m else (1 if m.group(1) == "n" else 2))
        width.append(int(m.group(2)) if m else 0)
    # Counterparties paid by card (a phone bill on autopay) print their statement name.
    heads += list(names())
    tails += [""] * len(names())
    ph += [0] * len(names())
    width += [0] * len(names())
    online = [*t.online, *(s.online for s in SERVICES), *([""] * len(names()))]
    city = np.zeros(len(heads), dtype=np.bool_)
    city[: len(t)] = t.city_suffix
    return _Tokens(
        pl.Series(heads, dtype=pl.Utf8),
        pl.Series(tails, dtype=pl.Utf8),
        pl.Series(online, dtype=pl.Utf8),
        np.array(ph, np.int8),
        np.array(width, np.int8),
        city,
        len(t),
        t.truncate,
    )


@cache
def _atm_ops() -> tuple[pl.Series, I64, I64]:
    flat: list[str] = []
    start, count = [], []
    for c in COUNTRIES:
        ops = ATM_OPERATORS.get(c, ("ATM",))
        start.append(len(flat))
        count.append(len(ops))
        flat += ops
    return pl.Series(flat, dtype=pl.Utf8), np.array(start), np.array(count)


@dataclass(slots=True)
class RowContext:
    """What descriptors need to know about each output row."""

    country: I64
    slot: I64
    desc: I64
    day: I64
    sec: I64
    merchant: I64
    service: I64
    cparty: I64
    ref: I64
    place: I64
    dest: I64
    tail: I64
    expiry: I64


def _lut(values: list[str] | tuple[str, ...], col: str) -> pl.Expr:
    return pl.lit(pl.Series(list(values), dtype=pl.Utf8)).gather(pl.col(col))


def _zfill(col: pl.Expr, width: int | pl.Expr) -> pl.Expr:
    return col.cast(pl.Utf8).str.zfill(width)


def _alnum(width: int, col: str = "pmix") -> pl.Expr:
    """``width`` characters of a base-34 code drawn from column ``col``."""
    return pl.concat_str(
        [pl.lit(_ALNUM).gather((pl.col(col) // (34**k)) % 34) for k in range(width)]
    )


class _Fields:
    def __init__(self, w: Window) -> None:
        dates = np.datetime64(w.start, "D") + np.arange(w.n_days + 1)
        y = dates.astype("datetime64[Y]").astype(np.int64) + 1970
        mo = dates.astype("datetime64[M]").astype(np.int64) % 12 + 1
        dd = (dates - dates.astype("datetime64[M]").astype("datetime64[D]")).astype(np.int64) + 1
        triples = list(zip(y, mo, dd, strict=True))
        self.dates = {
            "iso": [str(d) for d in dates],
            "mmdd": [f"{m:02d}/{d:02d}" for _, m, d in triples],
            "ddmm": [f"{d:02d}/{m:02d}" for _, m, d in triples],
            "ddmmyy": [f"{d:02d}.{m:02d}.{yy % 100:02d}" for yy, m, d in triples],
            "ddmon": [f"{d:02d}{_MONTHS[m - 1]}" for _, m, d in triples],
            "mmyyyy": [f"{m:02d}/{yy}" for yy, m, _ in triples],
        }

    def expr(self, name: str) -> pl.Expr:
        tok = _tokens()
        if name == "token":
            digits = _zfill(
                pl.col("ref") % (pl.lit(10, pl.Int64).pow(pl.col("width"))), pl.col("width")
            )
            mid = (
                pl.when(pl.col("ph") == 1)
                .then(digits)
                .when(pl.col("ph") == 2)
                .then(_alnum(13, "mix").str.slice(0, pl.col("width")))
                .otherwise(pl.lit(""))
            )
            printed = pl.concat_str(
                [
                    pl.lit(tok.head).gather(pl.col("tok")),
                    mid,
                    pl.lit(tok.tail).gather(pl.col("tok")),
                ]
            )
            # The card network's merchant-name field cuts card merchants (not billers or
            # services, whose names come from their own scheme); some processors add the city.
            merchant = pl.col("tok") < tok.n_merchants
            if tok.truncate:
                printed = (
                    pl.when(merchant)
                    .then(printed.str.slice(0, tok.truncate).str.strip_chars_end())
                    .otherwise(printed)
                )
            city = pl.lit(pl.Series(tok.city, dtype=pl.Boolean)).gather(pl.col("tok"))
            return (
                pl.when(city)
                .then(pl.concat_str([printed, self.expr("city")], separator=" "))
                .otherwise(printed)
            )
        if name == "city":
            return _lut([p.city for p in ALL_PLACES], "place")
        if name == "st":
            return _lut([p.state for p in ALL_PLACES], "place")
        if name == "city_title":
            return _lut([p.city.title() for p in ALL_PLACES], "place")
        if name == "online":
            on = pl.lit(tok.online).gather(pl.col("tok"))
            return pl.when(on == "").then(self.expr("city")).otherwise(on)
        if name == "dest_city":
            return _lut([d.city for d in DESTINATIONS], "dest")
        if name == "dest_cc":
            return _lut([d.country for d in DESTINATIONS], "dest")
        if name in ("tail", "exp"):
            return _zfill(pl.col(name), 4)
        if name in self.dates:
            return _lut(self.dates[name], "day")
        if name == "hms":
            s = pl.col("sec")
            return pl.concat_str(
                [
                    _zfill(s // 3600, 2),
                    pl.lit(":"),
                    _zfill(s // 60 % 60, 2),
                    pl.lit(":"),
                    _zfill(s % 60, 2),
                ]
            )
        if name == "hhmm":
            s = pl.col("sec")
            return pl.concat_str([_zfill(s // 3600, 2), pl.lit("."), _zfill(s // 60 % 60, 2)])
        if name.startswith("ref"):
            width = int(name[3:])
            # Long references (card authorisation numbers) are per payment; short ones are
            # stable (store, contract, company ids).
            col = pl.col("pmix") if width > 10 else pl.col("mix") if width > 9 else pl.col("ref")
            return _zfill(col % (10**width), width)
        if name.startswith("alnum"):
            return _alnum(int(name[5:]))
        if name == "cp":
            return _lut(names(), "cparty")
        if name == "atm_op":
            ops, _, _ = _atm_ops()
            return pl.lit(ops).gather(pl.col("atm"))
        raise KeyError(f"unknown descriptor field {name!r}")


def describe(w: Window, ctx: RowContext) -> pl.Series:
    """One descriptor string per row of ``ctx``."""
    n = len(ctx.desc)
    if n == 0:
        return pl.Series("description", [], dtype=pl.Utf8)
    tok = _tokens()
    use_s = ctx.service >= 0
    tok_idx = np.select(
        [use_s, ctx.merchant >= 0],
        [tok.n_merchants + ctx.service, ctx.merchant],
        tok.n_merchants + len(SERVICES) + np.maximum(ctx.cparty, 0),
    )
    mix = ((ctx.ref.astype(np.uint64) * np.uint64(0x9E3779B97F4A7C15)) >> np.uint64(2)).astype(
        np.int64
    )
    # Per-payment references (authorisation numbers, confirmation codes) change every time.
    stamp = (ctx.day * 86_400 + ctx.sec).astype(np.uint64)
    seed = ctx.ref.astype(np.uint64) * np.uint64(1_000_003) + stamp
    pmix = ((seed * np.uint64(0xD6E8FEB86659FD93)) >> np.uint64(2)).astype(np.int64)
    _, op_start, op_count = _atm_ops()
    grp = ctx.desc * 100 + ctx.country * 2 + (ctx.slot == CREDIT_CARD)
    order = np.argsort(grp, kind="stable")
    df = pl.DataFrame(
        {
            "tok": tok_idx,
            "ph": tok.placeholder[tok_idx].astype(np.int64),
            "width": tok.width[tok_idx].astype(np.int64),
            "ref": ctx.ref,
            "mix": mix,
            "pmix": pmix,
            "place": np.maximum(ctx.place, 0),
            "dest": np.maximum(ctx.dest, 0),
            "cparty": np.maximum(ctx.cparty, 0),
            "day": ctx.day,
            "sec": ctx.sec,
            "tail": ctx.tail,
            "exp": ctx.expiry,
            "atm": op_start[ctx.country] + ctx.ref % op_count[ctx.country],
        }
    )[order]
    g_sorted = grp[order]
    uniq, first = np.unique(g_sorted, return_index=True)
    bounds = [*first.tolist(), n]
    fields = _Fields(w)
    pieces: list[pl.Series] = []
    for k, u in enumerate(uniq):
        desc, rest = divmod(int(u), 100)
        country, cc = divmod(rest, 2)
        table = CREDIT_CARD_TEMPLATES.get(desc) if cc else None
        template = (table or TEMPLATES[desc])[COUNTRIES[country]]
        parts = _parts(template)
        sub = df.slice(bounds[k], bounds[k + 1] - bounds[k])
        if not any(f for f, _ in parts):
            pieces.append(pl.repeat(template, sub.height, eager=True, dtype=pl.Utf8))
            continue
        exprs = [fields.expr(t) if f else pl.lit(t) for f, t in parts]
        pieces.append(sub.select(pl.concat_str(exprs).str.slice(0, 140)).to_series())
    out = pl.concat(pieces)
    inverse = np.empty(n, dtype=np.int64)
    inverse[order] = np.arange(n)
    return out.gather(pl.Series(inverse)).rename("description")
