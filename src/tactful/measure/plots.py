"""Plots of the engagement report and of experiment results, as PNG bytes (matplotlib's Agg
backend: no display, safe in a server or a batch job)."""

from __future__ import annotations

import io
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import polars as pl

from tactful.measure.engagement import EngagementReport
from tactful.measure.results import ExperimentResult


def _png(fig: Any) -> bytes:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=110, bbox_inches="tight")
    plt.close(fig)
    return buffer.getvalue()


def _spread(rate: float, low: float, high: float) -> list[list[float]]:
    """The error bar's two arms, never negative: a Wilson bound of a 0% (or 100%) rate lies a
    rounding error past the rate, which matplotlib refuses."""
    return [[max(0.0, rate - low)], [max(0.0, high - rate)]]


def ctr_plot(report: EngagementReport) -> bytes:
    """Click-through rate per action and channel with its interval; the catalog median as a
    line, flagged rows in red."""
    t = report.table
    flagged = {(f.action_id, f.channel) for f in report.flags}
    fig, ax = plt.subplots(figsize=(7, 0.35 * max(t.height, 3) + 1))
    if t.height and "click_rate" in t.columns:
        labels = [f"{a} · {c}" for a, c in zip(t["action_id"], t["channel"], strict=True)]
        rate, low, high = t["click_rate"].to_list(), t["click_low"].to_list(), t["click_high"]
        for k, (r, lo, hi) in enumerate(zip(rate, low, high.to_list(), strict=True)):
            color = "tab:red" if (t["action_id"][k], t["channel"][k]) in flagged else "tab:blue"
            ax.errorbar([r], [k], xerr=_spread(r, lo, hi), fmt="o", color=color, capsize=3)
        ax.set_yticks(range(t.height), labels, fontsize=8)
        if report.median_ctr is not None:
            ax.axvline(report.median_ctr, color="grey", linestyle="--", label="catalog median")
            ax.legend(loc="lower right", fontsize=8)
    ax.set_xlabel("click-through rate (clicks per message sent, 95% Wilson interval)")
    ax.set_title("Engagement by action and channel")
    return _png(fig)


def trend_plot(report: EngagementReport, top: int = 6) -> bytes:
    """Weekly CTR of the ``top`` actions and channels by volume."""
    w = report.weekly
    fig, ax = plt.subplots(figsize=(7, 3.5))
    if w.height:
        biggest = (w.group_by("action_id", "channel").agg(pl.col("sent").sum().alias("n"))
                   .sort(["n", "action_id", "channel"], descending=[True, False, False])
                   .head(top))
        for a, c in zip(biggest["action_id"], biggest["channel"], strict=True):
            part = w.filter((w["action_id"] == a) & (w["channel"] == c)).sort("week")
            ax.plot(part["week"].to_list(), part["click_rate"].to_list(), marker="o",
                    label=f"{a} · {c}")
        ax.legend(fontsize=7)
    ax.set_ylabel("CTR")
    ax.set_title("Weekly click-through rate")
    fig.autofmt_xdate()
    return _png(fig)


def experiment_plot(result: ExperimentResult) -> bytes:
    """Each arm's metric rate with its 95% interval."""
    fig, ax = plt.subplots(figsize=(6, 0.5 * len(result.arms) + 1.2))
    for k, a in enumerate(result.arms):
        r = a.rate
        if r.n:
            ax.errorbar([r.rate], [k], xerr=_spread(r.rate, r.low, r.high), fmt="o",
                        capsize=3)
    ax.set_yticks(range(len(result.arms)), [a.arm for a in result.arms])
    ax.set_xlabel(f"share of customers with a {result.metric} (95% Wilson interval)")
    ax.set_title(f"Experiment {result.name}")
    return _png(fig)
