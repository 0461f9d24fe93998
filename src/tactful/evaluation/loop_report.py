"""The closed loop as a section of ``docs/evaluation.md``: per-arm figures with t intervals over
seeds, the targets of issue 18, the off-policy validation of issue 20, and three plots (uplift
per arm, the learning curve, the message-volume sweep) written beside the page."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from scipy import stats

from tactful.evaluation.loop_metrics import ArmRun
from tactful.evaluation.loop_ope import OpeResult
from tactful.evaluation.report import Metric, Section, markdown_table

SMOOTH_WEEKS = 4
"""The learning curve pools a trailing window of weeks: a week of a few hundred customers holds
a handful of conversions."""
ORDER = ("none", "random", "rules", "tactful", "oracle", "value_first")
LABEL = {"none": "no messages", "random": "random", "rules": "rules-only (today)",
         "tactful": "Tactful", "oracle": "oracle", "value_first": "value-weighted (OPE target)"}


@dataclass(frozen=True, slots=True)
class Interval:
    mean: float
    low: float
    high: float

    def shown(self, digits: int = 2) -> str:
        if math.isnan(self.low):
            return f"{self.mean:.{digits}f}"
        return f"{self.mean:.{digits}f} [{self.low:.{digits}f}, {self.high:.{digits}f}]"


def interval(values: Sequence[float], alpha: float = 0.05) -> Interval:
    """Mean and t interval over seeds (no interval from one seed)."""
    v = np.asarray(values, dtype=float)
    m = float(v.mean())
    if len(v) < 2:
        return Interval(m, math.nan, math.nan)
    half = float(stats.t.ppf(1 - alpha / 2, len(v) - 1) * v.std(ddof=1) / math.sqrt(len(v)))
    return Interval(m, m - half, m + half)


Figure = Callable[[ArmRun, ArmRun], float]
FIGURES: tuple[tuple[str, Figure, int], ...] = (
    ("incremental conversions", lambda r, c: r.actions - c.actions, 1),
    ("incremental savings accounts", lambda r, c: r.savings_opened - c.savings_opened, 1),
    ("fees avoided (major units)", lambda r, c: r.fees_avoided - c.fees_avoided, 0),
    ("incremental departures", lambda r, c: r.departures - c.departures, 1),
    ("open rate", lambda r, c: r.per("open"), 3),
    ("click rate", lambda r, c: r.per("click"), 4),
    ("conversion rate", lambda r, c: r.per("convert"), 4),
    ("dismissals per message", lambda r, c: r.per("dismiss"), 3),
    ("opt-outs per 100 customers", lambda r, c: 100 * r.opt_out_rate, 2),
    ("messages per customer-week", lambda r, c: r.messages_per_customer_week, 2),
    ("silence rate", lambda r, c: r.silence_rate, 3),
    ("contact-policy violations", lambda r, c: r.violation_count, 1),
    ("sends after an opt-out", lambda r, c: r.after_opt_out, 1),
)


def summarize(runs: Sequence[dict[str, ArmRun]]) -> dict[str, dict[str, Interval]]:
    """Arm -> figure -> interval over seeds (incremental figures against the seed's silent
    arm)."""
    out: dict[str, dict[str, Interval]] = {}
    for arm in ORDER:
        if not all(arm in r for r in runs):
            continue
        out[arm] = {name: interval([f(r[arm], r["none"]) for r in runs])
                    for name, f, _ in FIGURES}
    return out


def ratio(runs: Sequence[dict[str, ArmRun]], a: str, b: str) -> Interval:
    """a's incremental conversions over b's, per seed, then over seeds."""
    values = []
    for r in runs:
        den = r[b].actions - r["none"].actions
        values.append((r[a].actions - r["none"].actions) / den if den else math.nan)
    return interval(values)


def section(runs: Sequence[dict[str, ArmRun]], sweep: dict[float, list[ArmRun]],
            controls: Sequence[ArmRun], ope: Sequence[OpeResult], *, img: Path,
            size: str, seconds: float) -> Section:
    s = summarize(runs)
    tactful_vs_rules = ratio(runs, "tactful", "rules")
    tactful_vs_oracle = ratio(runs, "tactful", "oracle")
    opt_t = s["tactful"]["opt-outs per 100 customers"].mean
    opt_r = s["rules"]["opt-outs per 100 customers"].mean
    dr = next((e for o in ope if o.reward == "conversions" for e in o.estimates
               if e.estimator == "DR"), None)
    conv = next((o for o in ope if o.reward == "conversions"), None)
    metrics = [
        Metric("Tactful / rules-only incremental conversions", tactful_vs_rules.mean, ">= 1.5",
               f"95% t interval over seeds {tactful_vs_rules.shown()}"),
        Metric("Tactful opt-outs per 100 customers minus rules-only's", opt_t - opt_r,
               "<= 0", f"Tactful {opt_t:.2f}, rules-only {opt_r:.2f}"),
        Metric("Tactful / oracle incremental conversions", tactful_vs_oracle.mean, ">= 0.8",
               f"interval {tactful_vs_oracle.shown()}"),
        Metric("Tactful contact-policy violations (independent audit)",
               sum(r["tactful"].violation_count for r in runs), "<= 0", "summed over seeds"),
    ]
    if dr is not None and conv is not None:
        metrics.append(Metric("DR relative error on the target's conversions per decision",
                              dr.relative_error(conv.truth), "<= 0.10",
                              f"true {conv.truth:.5f}, DR {dr.value:.5f} "
                              f"[{dr.low:.5f}, {dr.high:.5f}]"))
    header = ["figure", *[LABEL[a] for a in s]]
    rows = [[name, *[s[a][name].shown(d) for a in s]] for name, _, d in FIGURES]
    tables = [("Per arm: mean [95% t interval over seeds]", markdown_table(header, rows))]
    if ope:
        tables.append(("Off-policy estimates of the value-weighted policy from the random arm's "
                       "logs, against its real run on a fork", _ope_table(ope)))
    if sweep:
        tables.append(("Message-volume sweep (Tactful's attention threshold, high to low)",
                       _sweep_table(sweep, controls)))
    plots = write_plots(runs, sweep, controls, img)
    early, late = _early_late(runs, "tactful")
    notes = [
        f"Learning: Tactful's conversions per delivered message, seeds pooled, were "
        f"{early:.4f} in the first {SMOOTH_WEEKS} weeks and {late:.4f} in the last "
        f"{SMOOTH_WEEKS}.",
        f"Size: {size}; measured run time {seconds:.0f} s on this machine.",
        "Arms run on forks of one warmed-up world per seed (35 silent days first): same "
        "customers, same draws; the no-message arm is the counterfactual of every incremental "
        "figure. 'Conversions' = conversions the world answered plus accounts opened on the "
        "customers' own initiative (so a message that only brings an opening forward does not "
        "count).",
        "Violations are counted by `evaluation/loop_audit.py`, which shares no code with "
        "`decide/contact.py`: caps in rolling 24 h / 7 days, quiet hours in the customer's "
        "zone, consent. Sends after an opt-out are shown apart: re-checking opt-outs at send "
        "time is the delivery layer's job (issue 20).",
        "The engine's view of each fork (`evaluation/loop_view.py`) is a stand-in for the "
        "ingest-and-detect pipeline, from balances, spending, holdings and the profile; only "
        "the oracle reads the hidden needs.",
        *[f"![{t}](img/{p.name})" for t, p in plots],
    ]
    if ope and not ope[0].support.trusted:
        notes.append(f"Support diagnostic: {ope[0].support.reason}.")
    return Section("Closed loop: policies judged by uplift on forks of one living world",
                   f"simulated living world, {size}", metrics, notes, tables)


def _early_late(runs: Sequence[dict[str, ArmRun]], arm: str) -> tuple[float, float]:
    weekly = [r[arm].weekly for r in runs]

    def rate(weeks: slice) -> float:
        sent = sum(s for w in weekly for s, _ in w[weeks])
        conv = sum(c for w in weekly for _, c in w[weeks])
        return conv / sent if sent else math.nan

    return rate(slice(0, SMOOTH_WEEKS)), rate(slice(-SMOOTH_WEEKS, None))


def _ope_table(ope: Sequence[OpeResult]) -> str:
    rows = []
    for o in ope:
        for e in o.estimates:
            rows.append([o.reward, f"{o.truth:.5f}", e.estimator, f"{e.value:.5f}",
                         f"[{e.low:.5f}, {e.high:.5f}]", f"{e.relative_error(o.truth):.1%}"
                         if o.truth else "n/a", "yes" if e.covers(o.truth) else "no"])
    s = ope[0].support
    rows.append(["support", "", "ESS", f"{s.ess:.0f} of {ope[0].decisions}",
                 f"thin mass {s.thin_mass or 0:.1%}", "", "trusted" if s.trusted else
                 "NOT trusted"])
    return markdown_table(["reward per decision", "true (real run)", "estimator", "estimate",
                           "95% interval", "relative error", "covers"], rows)


def _sweep_table(sweep: dict[float, list[ArmRun]], controls: Sequence[ArmRun]) -> str:
    rows = []
    for threshold in sorted(sweep, reverse=True):
        runs = sweep[threshold]
        pairs = list(zip(runs, controls, strict=False))
        inc = interval([r.actions - c.actions for r, c in pairs])
        rows.append([f"{threshold:g}",
                     f"{np.mean([r.messages_per_customer_week for r in runs]):.2f}",
                     inc.shown(1),
                     f"{np.mean([100 * r.opt_out_rate for r in runs]):.2f}",
                     f"{np.mean([r.departures - c.departures for r, c in pairs]):.1f}",
                     f"{np.mean([r.violation_count for r in runs]):.1f}"])
    return markdown_table(["attention threshold (points)", "messages / customer-week",
                           "incremental conversions", "opt-outs / 100 customers",
                           "incremental departures", "violations"], rows)


def write_plots(runs: Sequence[dict[str, ArmRun]], sweep: dict[float, list[ArmRun]],
                controls: Sequence[ArmRun], img: Path) -> list[tuple[str, Path]]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    img.mkdir(parents=True, exist_ok=True)
    out = []
    s = summarize(runs)
    arms = [a for a in s if a != "none"]
    fig, ax = plt.subplots(figsize=(7, 3.5))
    inc = [s[a]["incremental conversions"] for a in arms]
    err = np.array([[i.mean - i.low, i.high - i.mean] for i in inc]).T
    ax.bar([LABEL[a] for a in arms], [i.mean for i in inc],
           yerr=None if np.isnan(err).any() else err, capsize=4, color="#4c72b0")
    ax.set_ylabel("incremental conversions")
    ax.set_title("Uplift against the no-message arm (95% t interval over seeds)")
    ax.tick_params(axis="x", labelsize=8)
    fig.tight_layout()
    path = img / "closed_loop_uplift.png"
    fig.savefig(path)
    plt.close(fig)
    out.append(("uplift per arm", path))

    fig, ax = plt.subplots(figsize=(7, 3.5))
    for arm in ("rules", "random", "tactful", "oracle"):
        if arm not in s:
            continue
        weeks = len(runs[0][arm].weekly)
        sent = np.array([sum(r[arm].weekly[w][0] for r in runs) for w in range(weeks)], float)
        conv = np.array([sum(r[arm].weekly[w][1] for r in runs) for w in range(weeks)], float)
        kernel = np.ones(SMOOTH_WEEKS)
        s_sent = np.convolve(sent, kernel)[:weeks]
        s_conv = np.convolve(conv, kernel)[:weeks]
        rate = np.divide(s_conv, s_sent, out=np.full(weeks, np.nan), where=s_sent > 0)
        ax.plot(range(1, weeks + 1), rate, label=LABEL[arm], lw=2.5 if arm == "tactful" else 1)
    ax.set_xlabel("week")
    ax.set_ylabel("conversions per delivered message")
    ax.set_title(f"Learning curve (seeds pooled, trailing {SMOOTH_WEEKS}-week window)")
    ax.legend(fontsize=8)
    fig.tight_layout()
    path = img / "closed_loop_learning.png"
    fig.savefig(path)
    plt.close(fig)
    out.append(("learning curve", path))

    if sweep:
        fig, ax = plt.subplots(figsize=(7, 3.5))
        pts = sorted(sweep, reverse=True)
        vol = [np.mean([r.messages_per_customer_week for r in sweep[t]]) for t in pts]
        inc_v = [np.mean([r.actions - c.actions for r, c in zip(sweep[t], controls,
                                                                 strict=False)]) for t in pts]
        opt = [np.mean([100 * r.opt_out_rate for r in sweep[t]]) for t in pts]
        ax.plot(vol, inc_v, "o-", label="incremental conversions")
        for t, x, y in zip(pts, vol, inc_v, strict=True):
            ax.annotate(f"{t:g}", (x, y), fontsize=7, textcoords="offset points",
                        xytext=(3, 3))
        ax.set_xlabel("messages per customer-week (labels: attention threshold)")
        ax.set_ylabel("incremental conversions")
        ax2 = ax.twinx()
        ax2.plot(vol, opt, "s--", color="#c44e52", label="opt-outs / 100 customers")
        ax2.set_ylabel("opt-outs per 100 customers", color="#c44e52")
        ax.set_title("Message-volume sweep: where more messages stop paying")
        fig.tight_layout()
        path = img / "closed_loop_sweep.png"
        fig.savefig(path)
        plt.close(fig)
        out.append(("message-volume sweep", path))
    return out
