"""Behavioural events rendered as JSON Lines, in bulk.

Each line is one JSON object with the keys ``tactful ingest`` reads; keys whose value does not
apply to the event (a ``duration_s`` on a login) are left out rather than written as null.
Values are drawn from closed vocabularies (ids, enum values, ISO timestamps), so no escaping is
needed beyond what the fixed text already has.
"""

from __future__ import annotations

import numpy as np
import polars as pl

from tactful.simulate.exports.frames import customer_ids, zone_of
from tactful.simulate.exports.timezones import iso_strings, localize
from tactful.simulate.generate import Chunk
from tactful.simulate.people.behaviour import (
    ALERTS,
    DEVICES,
    E_CONSENT,
    E_DELIVERED,
    E_LOGIN,
    E_OPENED,
    EVENT_KINDS,
    FEATURES,
    NOTIFY_CHANNELS,
    Events,
)
from tactful.simulate.people.personas import PURPOSES
from tactful.simulate.people.regions import TIMEZONES


def _q(s: pl.Expr) -> pl.Expr:
    return pl.concat_str([pl.lit('"'), s, pl.lit('"')])


def event_lines(chunk: Chunk, ev: Events) -> pl.Series:
    n = len(ev.cust)
    if n == 0:
        return pl.Series("line", [], dtype=pl.Utf8)
    w, pop = chunk.window, chunk.pop
    zone = zone_of(chunk)[ev.cust]
    sec, off = localize(w, zone, TIMEZONES, ev.day, ev.sec)
    g = pop.gidx[ev.cust]
    ordinal = np.arange(n) - np.searchsorted(ev.cust, ev.cust)
    attr_table = (
        [f'{{"device":"{d}"}}' for d in DEVICES]
        + [f'{{"alert":"{a}"}}' for a in ALERTS]
        + [f'{{"purpose":"{p}","status":"withdrawn"}}' for p in PURPOSES]
        + ["{}"]
    )
    attr = np.select(
        [ev.kind == E_LOGIN, np.isin(ev.kind, [E_DELIVERED, E_OPENED]), ev.kind == E_CONSENT],
        [ev.attr, len(DEVICES) + ev.attr, len(DEVICES) + len(ALERTS) + ev.attr],
        len(attr_table) - 1,
    )
    df = pl.DataFrame(
        {
            "g": g,
            "o": ordinal,
            "cid": customer_ids(g),
            "kind": ev.kind,
            "at": iso_strings(w, ev.day, sec, off),
            "session": ev.session,
            "dur": ev.duration,
            "feature": ev.feature,
            "channel": ev.channel,
            "attr": attr,
        }
    )
    gid = pl.col("g").cast(pl.Utf8).str.zfill(8)
    line = pl.concat_str(
        [
            pl.lit('{"event_id":"E'),
            gid,
            pl.lit("-"),
            pl.col("o").cast(pl.Utf8).str.zfill(7),
            pl.lit('","customer_id":"'),
            pl.col("cid"),
            pl.lit('","kind":"'),
            pl.lit(pl.Series(EVENT_KINDS)).gather(pl.col("kind")),
            pl.lit('","occurred_at":"'),
            pl.col("at"),
            pl.lit('"'),
            pl.when(pl.col("session") >= 0)
            .then(
                pl.concat_str(
                    [
                        pl.lit(',"session_id":"S'),
                        gid,
                        pl.lit("-"),
                        pl.col("session").cast(pl.Utf8).str.zfill(5),
                        pl.lit('"'),
                    ]
                )
            )
            .otherwise(pl.lit("")),
            pl.when(pl.col("dur").is_not_nan())
            .then(pl.concat_str([pl.lit(',"duration_s":'), pl.col("dur").cast(pl.Utf8)]))
            .otherwise(pl.lit("")),
            pl.when(pl.col("feature") >= 0)
            .then(
                pl.concat_str(
                    [
                        pl.lit(',"feature":'),
                        _q(pl.lit(pl.Series(FEATURES)).gather(pl.col("feature").clip(0))),
                    ]
                )
            )
            .otherwise(pl.lit("")),
            pl.when(pl.col("channel") >= 0)
            .then(
                pl.concat_str(
                    [
                        pl.lit(',"channel":'),
                        _q(pl.lit(pl.Series(NOTIFY_CHANNELS)).gather(pl.col("channel").clip(0))),
                    ]
                )
            )
            .otherwise(pl.lit("")),
            pl.lit(',"attributes":'),
            pl.lit(pl.Series(attr_table)).gather(pl.col("attr")),
            pl.lit("}"),
        ]
    )
    return df.select(line.alias("line")).to_series()
