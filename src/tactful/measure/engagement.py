"""The engagement report: per action and channel, how messages fared, and which to change.

For every action on every channel: messages sent, and the share of them opened, clicked,
converted, dismissed and opted out of, each with a Wilson interval (``measure.stats``); the
dismissal reasons; and a weekly trend. The denominator is always the messages sent, so rates of
different channels compare what the bank spent (a push nobody saw is a push wasted).

It flags what the seed asks to review -- "if a particular insight type has low engagement,
consider modifying or retiring it" -- with the numbers behind each flag, and only where the
evidence is enough to say so (intervals, not point estimates):

- ``low_ctr``: the click-through rate's upper bound is below the catalog's median CTR (the
  median over actions and channels with at least ``min_volume`` messages);
- ``opt_outs``: the opt-out rate's lower bound is above ``max_opt_out``;
- ``dismissed``: the dismissal rate's lower bound is above ``max_dismiss``.

An action flagged both ``low_ctr`` and ``opt_outs`` on a channel is marked *retire* there (it
costs customers and earns nothing); any other flag is *modify* (its message, timing or audience).

Pure over polars frames: :func:`messages_and_outcomes` reads them from the store.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final

import polars as pl
from sqlalchemy import select

from tactful.errors import ValidationError
from tactful.measure import stats
from tactful.store import schema
from tactful.store.store import Store

RATES: Final = ("open", "click", "convert", "dismiss", "opt_out")
MESSAGES_SCHEMA: Final[dict[str, Any]] = {
    "decision_id": pl.Utf8, "action_id": pl.Utf8, "channel": pl.Utf8,
    "send_at": pl.Datetime("us", "UTC")}
OUTCOMES_SCHEMA: Final[dict[str, Any]] = {
    "decision_id": pl.Utf8, "kind": pl.Utf8, "reason": pl.Utf8}


@dataclass(frozen=True, slots=True)
class Thresholds:
    min_volume: int = 100
    """Messages an action needs on a channel before it is judged (or counts to the median)."""
    max_opt_out: float = 0.005
    """Opt-outs per message above which an action costs more customers than it should."""
    max_dismiss: float = 0.5
    alpha: float = 0.05

    def __post_init__(self) -> None:
        if isinstance(self.min_volume, bool) or self.min_volume < 1:
            raise ValidationError(f"min_volume must be an integer >= 1; got {self.min_volume!r}")
        for name in ("max_opt_out", "max_dismiss"):
            value = getattr(self, name)
            if not 0.0 <= value <= 1.0:
                raise ValidationError(f"{name} must be a share from 0 to 1; got {value!r}")


@dataclass(frozen=True, slots=True)
class Flag:
    action_id: str
    channel: str
    code: str
    recommendation: str
    """``modify`` or ``retire``."""
    detail: str
    """The numbers behind the flag, in one sentence."""


@dataclass(frozen=True, slots=True)
class EngagementReport:
    table: pl.DataFrame
    """One row per action and channel: ``sent``, then per rate its count, share and bounds."""
    reasons: pl.DataFrame
    """action_id, channel, reason, count: why messages were dismissed."""
    weekly: pl.DataFrame
    """action_id, channel, week, sent, and each rate's share that week."""
    flags: tuple[Flag, ...]
    median_ctr: float | None
    """The catalog median CTR the ``low_ctr`` flag compares with (None: too little volume)."""


def _pct(x: float) -> str:
    return f"{100 * x:.1f}%"


def engagement(messages: pl.DataFrame, outcomes: pl.DataFrame,
               thresholds: Thresholds | None = None) -> EngagementReport:
    """The report over ``messages`` (decision_id, action_id, channel, send_at: every message
    sent) and their ``outcomes`` (decision_id, kind, reason)."""
    th = thresholds or Thresholds()
    for frame, wanted, what in ((messages, MESSAGES_SCHEMA, "messages"),
                                (outcomes, OUTCOMES_SCHEMA, "outcomes")):
        missing = set(wanted) - set(frame.columns)
        if missing:
            raise ValidationError(f"{what} lack column(s) {sorted(missing)}")
    kinds = (outcomes.select("decision_id", "kind").unique()
             .with_columns(pl.lit(1).alias("hit"))
             .pivot(on="kind", index="decision_id", values="hit")
             if outcomes.height else pl.DataFrame({"decision_id": []}, schema={
                 "decision_id": pl.Utf8}))
    per = messages.select(list(MESSAGES_SCHEMA)).join(kinds, on="decision_id", how="left")
    per = per.with_columns([
        (pl.col(k).fill_null(0) > 0).alias(k) if k in per.columns else pl.lit(False).alias(k)
        for k in RATES])
    keys = ["action_id", "channel"]
    counts = (per.group_by(keys).agg(pl.len().alias("sent"),
                                     *[pl.col(k).sum().alias(k) for k in RATES])
              .sort(keys))
    rows = []
    for r in counts.iter_rows(named=True):
        row = {"action_id": r["action_id"], "channel": r["channel"], "sent": r["sent"]}
        for k in RATES:
            w = stats.wilson(int(r[k]), int(r["sent"]), alpha=th.alpha)
            row |= {f"{k}s": int(r[k]), f"{k}_rate": w.rate, f"{k}_low": w.low,
                    f"{k}_high": w.high}
        rows.append(row)
    table = pl.DataFrame(rows, infer_schema_length=None) if rows else pl.DataFrame(
        schema={"action_id": pl.Utf8, "channel": pl.Utf8, "sent": pl.Int64})
    judged = table.filter(pl.col("sent") >= th.min_volume) if rows else table
    median = float(judged["click_rate"].median()) if judged.height else None  # type: ignore[arg-type]
    flags: list[Flag] = []
    for r in judged.iter_rows(named=True):
        found: list[tuple[str, str]] = []
        if median is not None and r["click_high"] < median:
            found.append(("low_ctr", f"CTR {_pct(r['click_rate'])} "
                                     f"[{_pct(r['click_low'])}, {_pct(r['click_high'])}] of "
                                     f"{r['sent']:,} messages is below the catalog median "
                                     f"{_pct(median)}"))
        if r["opt_out_low"] > th.max_opt_out:
            found.append(("opt_outs", f"opt-out rate {_pct(r['opt_out_rate'])} "
                                      f"[{_pct(r['opt_out_low'])}, {_pct(r['opt_out_high'])}] "
                                      f"({r['opt_outs']} of {r['sent']:,}) is above "
                                      f"{_pct(th.max_opt_out)}"))
        if r["dismiss_low"] > th.max_dismiss:
            found.append(("dismissed", f"dismissal rate {_pct(r['dismiss_rate'])} "
                                       f"[{_pct(r['dismiss_low'])}, {_pct(r['dismiss_high'])}] "
                                       f"is above {_pct(th.max_dismiss)}"))
        codes = {c for c, _ in found}
        verdict = "retire" if {"low_ctr", "opt_outs"} <= codes else "modify"
        flags += [Flag(r["action_id"], r["channel"], c, verdict, d) for c, d in found]
    reasons = (outcomes.filter((pl.col("kind") == "dismiss") & pl.col("reason").is_not_null())
               .join(messages.select("decision_id", *keys), on="decision_id")
               .group_by([*keys, "reason"]).agg(pl.len().alias("count"))
               .sort([*keys, "count"], descending=[False, False, True]))
    weekly = (per.with_columns(pl.col("send_at").dt.truncate("1w").alias("week"))
              .group_by([*keys, "week"])
              .agg(pl.len().alias("sent"), *[pl.col(k).mean().alias(f"{k}_rate") for k in RATES])
              .sort([*keys, "week"]))
    return EngagementReport(table, reasons, weekly, tuple(flags), median)


def messages_and_outcomes(store: Store, *, since: datetime | None = None,
                          until: datetime | None = None) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Every message sent in ``[since, until)`` and every outcome of those messages."""
    d, o = schema.decisions, schema.outcomes
    query = select(d.c.decision_id, d.c.action_id, d.c.channel, d.c.send_at).where(
        d.c.silent.is_(False))
    if since is not None:
        query = query.where(d.c.send_at >= since)
    if until is not None:
        query = query.where(d.c.send_at < until)
    rows = store.rows(query)
    messages = pl.DataFrame([tuple(r) for r in rows], schema=MESSAGES_SCHEMA, orient="row")
    out = store.rows(select(o.c.decision_id, o.c.kind, o.c.reason))
    outcomes = pl.DataFrame([tuple(r) for r in out], schema=OUTCOMES_SCHEMA, orient="row")
    outcomes = outcomes.join(messages.select("decision_id"), on="decision_id", how="semi")
    return messages, outcomes
