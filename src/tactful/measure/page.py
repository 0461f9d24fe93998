"""The measurement page: the engagement report and experiments' results as one HTML file with
its plots inlined (one file to mail or archive; no server, no assets beside it). Every value
from the data is escaped."""

from __future__ import annotations

import base64
import html
import math
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

import polars as pl

from tactful.measure import experiments, plots, results
from tactful.measure.engagement import (
    EngagementReport,
    Thresholds,
    engagement,
    messages_and_outcomes,
)
from tactful.measure.results import ExperimentResult, fmt
from tactful.store.store import Store

_STYLE = """body{font-family:system-ui,sans-serif;margin:2em;max-width:70em;color:#222}
table{border-collapse:collapse;font-size:.85em;margin:.5em 0 1.5em}
td,th{border:1px solid #ccc;padding:.2em .5em;text-align:right}
td:first-child,th:first-child{text-align:left}.flag{color:#b00}.ok{color:#070}"""


def _cell(value: object) -> str:
    if isinstance(value, float):
        return "-" if math.isnan(value) else f"{value:.4g}"
    return html.escape("-" if value is None else str(value))


def _table(frame: pl.DataFrame) -> str:
    head = "".join(f"<th>{html.escape(c)}</th>" for c in frame.columns)
    body = "".join("<tr>" + "".join(f"<td>{_cell(v)}</td>" for v in row) + "</tr>"
                   for row in frame.iter_rows())
    return f"<table><tr>{head}</tr>{body}</table>"


def _img(png: bytes, alt: str) -> str:
    data = base64.b64encode(png).decode()
    return f'<img alt="{html.escape(alt)}" src="data:image/png;base64,{data}">'


def _experiment(result: ExperimentResult) -> str:
    srm = result.srm
    verdict = (f'<p class="flag">Sample-ratio mismatch: chi-square {srm.chi2:.1f}, p = '
               f'{srm.p_value:.2g}. The assignment or logging is broken: do not read the '
               f'results below.</p>' if srm.flagged else
               f'<p class="ok">Sample ratio as configured (chi-square {srm.chi2:.2f}, p = '
               f'{srm.p_value:.2g}).</p>')
    extra = ""
    if result.holdout_effect is not None:
        h = result.holdout_effect
        extra += (f"<p>Program effect (treated minus global holdout): {fmt(h.diff, 4)} "
                  f"[{fmt(h.low, 4)}, {fmt(h.high, 4)}], p = {fmt(h.p_value, 4)}.</p>")
    if result.variance_ratio is not None:
        extra += (f"<p>CUPED left {100 * result.variance_ratio:.0f}% of the metric's variance "
                  "(pre-period covariate: the same metric before the start).</p>")
    return (f"<h3>{html.escape(result.name)} ({html.escape(result.metric)}, "
            f"{result.customers:,} customers)</h3>{verdict}{_table(result.table())}{extra}"
            f"{_img(plots.experiment_plot(result), result.name)}")


def render(report: EngagementReport | None,
           experiments: Sequence[ExperimentResult] = ()) -> str:
    parts = [f"<!doctype html><html><head><meta charset='utf-8'><title>Tactful: measure"
             f"</title><style>{_STYLE}</style></head><body><h1>Engagement and experiments"
             f"</h1><p>Written {datetime.now(UTC):%Y-%m-%d %H:%M} UTC.</p>"]
    if report is not None:
        parts.append("<h2>Engagement by action and channel</h2>")
        if report.flags:
            items = "".join(
                f"<li class='flag'><b>{html.escape(f.recommendation)}</b> "
                f"{html.escape(f.action_id)} on {html.escape(f.channel)} "
                f"({html.escape(f.code)}): {html.escape(f.detail)}</li>" for f in report.flags)
            parts.append(f"<ul>{items}</ul>")
        else:
            parts.append("<p>No action is flagged.</p>")
        cols = [c for c in ("action_id", "channel", "sent", "open_rate", "click_rate",
                            "click_low", "click_high", "convert_rate", "dismiss_rate",
                            "opt_outs", "opt_out_rate") if c in report.table.columns]
        parts += [_table(report.table.select(cols)), _img(plots.ctr_plot(report), "CTR"),
                  "<h3>Dismissal reasons</h3>", _table(report.reasons),
                  "<h3>Weekly trend</h3>", _img(plots.trend_plot(report), "weekly CTR")]
    if experiments:
        parts.append("<h2>Experiments</h2>")
        parts += [_experiment(r) for r in experiments]
    parts.append("</body></html>")
    return "".join(parts)


def write(path: Path, report: EngagementReport | None,
          experiments: Sequence[ExperimentResult] = ()) -> Path:
    path.write_text(render(report, experiments), encoding="utf-8")
    return path


def write_store_page(store: Store, path: Path, *, at: datetime | None = None,
                     since: datetime | None = None, thresholds: Thresholds | None = None) -> (
    Path
):
    """The page of ``store``: the engagement report of the messages sent from ``since`` to
    ``at`` (now) and every experiment's result up to ``at`` -- what ``tactful report
    engagement --out`` and the demo's closed loop write."""
    moment = at or datetime.now(UTC)
    report = engagement(*messages_and_outcomes(store, since=since, until=at), thresholds)
    done = [results.analyse(e, results.units(store, e, at=moment))
            for e in experiments.load(store)]
    return write(path, report, done)
