"""``tactful report engagement`` (the engagement report, printed and optionally written as an
HTML page with plots), ``tactful outcomes from-events`` (outcomes from the bank's notification
events) and ``tactful experiments create|status|stop``. The work is in ``tactful.service.measure``;
these parse and print."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.table import Table

from tactful.cli.render import moment, plain

# The application layer is imported inside the commands that use it: `tactful --help` must not
# pay for the engine behind it (tests/cli/test_startup.py).
if TYPE_CHECKING:
    from tactful.service.measure import ExperimentResult

console = Console()
report_app = typer.Typer(no_args_is_help=True, help="Reports of what the engine achieved.")
outcomes_app = typer.Typer(no_args_is_help=True, help="Outcomes: what customers did.")
experiments_app = typer.Typer(no_args_is_help=True,
                              help="A/B/n experiments and the global holdout.")

DbUrl = Annotated[
    str | None,
    typer.Option("--db", help="Store URL; default TACTFUL_DATABASE_URL or sqlite:///tactful.db"),
]




def _pct(x: float | None) -> str:
    return "-" if x is None or x != x else f"{100 * x:.1f}%"


@report_app.command("engagement")
def engagement_command(
    out: Annotated[Path | None, typer.Option("--out", help="Also write an HTML page with "
                                                           "plots here")] = None,
    since: Annotated[str | None, typer.Option(help="Messages sent from (ISO date)")] = None,
    until: Annotated[str | None, typer.Option(help="Messages sent before (ISO date)")] = None,
    min_volume: Annotated[int, typer.Option(min=1, help="Messages before an action is "
                                                        "judged")] = 100,
    db: DbUrl = None,
) -> None:
    """Engagement per action and channel, and the actions to modify or retire."""
    from tactful.service.context import session
    from tactful.service.measure import engagement_report, write_engagement_page

    frm, to = moment(since, "--since"), moment(until, "--until")
    with session(db) as store:
        report = engagement_report(store, since=frm, until=to, min_volume=min_volume)
        if out is not None:
            write_engagement_page(store, out=out, since=frm, until=to, min_volume=min_volume)
    table = Table("action", "channel", "sent", "open", "CTR [95% CI]", "convert", "dismiss",
                  "opt-outs", title="engagement (rates per message sent)")
    for r in report.table.iter_rows(named=True):
        table.add_row(*plain(
            r["action_id"], r["channel"], f"{r['sent']:,}", _pct(r.get("open_rate")),
            f"{_pct(r.get('click_rate'))} [{_pct(r.get('click_low'))}, "
            f"{_pct(r.get('click_high'))}]", _pct(r.get("convert_rate")),
            _pct(r.get("dismiss_rate")), str(r.get("opt_outs", 0))))
    console.print(table)
    for f in report.flags:
        console.print(*plain(f"{f.recommendation}: {f.action_id} on {f.channel} ({f.code}) "
                             f"-- {f.detail}"))
    if not report.flags:
        console.print("no action is flagged")
    if out is not None:
        console.print(*plain(f"wrote {out}"))


@outcomes_app.command("from-events")
def from_events_command(db: DbUrl = None) -> None:
    """Record outcomes from the notification events ingested (idempotent)."""
    from tactful.service.context import session
    from tactful.service.measure import outcomes_from_events

    with session(db) as store:
        r = outcomes_from_events(store)
    console.print(f"{r.events:,} notification events: {r.by_id:,} matched by id, {r.by_time:,} "
                  f"by time, {r.bank_alerts:,} about the bank's own alerts, {r.unmatched:,} "
                  f"unmatched; {r.recorded:,} new outcomes")


@outcomes_app.command("record")
def record_command(
    decision_id: str,
    kind: Annotated[str, typer.Argument(help="delivered, impression, open, click, dismiss, "
                                             "convert, rating or opt_out")],
    at: Annotated[str | None, typer.Option("--at", help="When (ISO 8601; default now)")] = None,
    reason: Annotated[str | None, typer.Option(help="Why it was dismissed")] = None,
    rating: Annotated[float | None, typer.Option(help="1 to 5, for a rating")] = None,
    db: DbUrl = None,
) -> None:
    """Record one outcome of a decision (recording it again changes nothing)."""
    from tactful.service.context import session
    from tactful.service.measure import record_outcome

    when = moment(at, "--at")
    with session(db) as store:
        done = record_outcome(store, decision_id=decision_id, kind=kind, at=when,
                              reason=reason, rating=rating)
    console.print(f"{done.recorded} recorded, {done.duplicates} already known"
                  + (", marketing consent withdrawn" if done.withdrawals else ""))


@experiments_app.command("create")
def create_command(
    name: str,
    arm: Annotated[list[str] | None, typer.Option("--arm", help="NAME[:WEIGHT[:CHANNEL]]; the "
                                                                "first is the control")] = None,
    holdout: Annotated[float, typer.Option(help="Share of customers in the global holdout "
                                                "(no marketing)")] = 0.0,
    metric: Annotated[str, typer.Option(help="open, click, convert, dismiss or opt_out")] = (
        "click"),
    salt: Annotated[str | None, typer.Option(help="Hash salt (default: the name)")] = None,
    start: Annotated[str | None, typer.Option(help="When it starts (default now)")] = None,
    end: Annotated[str | None, typer.Option(help="When it ends (default: when stopped)")] = None,
    db: DbUrl = None,
) -> None:
    """Define an experiment; decisions from its start are assigned to its arms."""
    from tactful.service.context import session
    from tactful.service.measure import create_experiment

    starts, ends = moment(start, "--start"), moment(end, "--end")
    with session(db) as store:
        e = create_experiment(store, name=name, arms=arm or [], holdout=holdout, metric=metric,
                              salt=salt, start=starts, end=ends)
    shares = ", ".join(f"{k} {v:.1%}" for k, v in e.shares().items())
    console.print(*plain(f"experiment {e.name} from {e.starts_at:%Y-%m-%d %H:%M} UTC: {shares}; "
                         f"metric {e.metric_kind.value}"))


def print_result(result: ExperimentResult, *, out: Console = console) -> None:
    from tactful.service.measure import fmt

    table = Table("arm", "customers", "expected", f"{result.metric} rate [95% CI]",
                  "vs control [95% CI]", "p", "p (Holm)", "always-valid p", "CUPED diff",
                  title=f"experiment {result.name}")
    for a in result.arms:
        d = a.versus_control
        c = a.cuped
        table.add_row(*plain(
            a.arm, f"{a.rate.n:,}", f"{a.expected_share:.1%}",
            f"{_pct(a.rate.rate)} [{_pct(a.rate.low)}, {_pct(a.rate.high)}]",
            "control" if d is None else f"{fmt(d.diff, 4)} [{fmt(d.low, 4)}, {fmt(d.high, 4)}]",
            "-" if d is None else fmt(d.p_value, 4), fmt(a.p_holm, 4),
            fmt(a.always_valid_p, 4),
            "-" if c is None else f"{fmt(c.diff, 4)} [{fmt(c.low, 4)}, {fmt(c.high, 4)}]"))
    out.print(table)
    srm = result.srm
    out.print(*plain(f"sample-ratio check: chi-square {srm.chi2:.2f}, p = {srm.p_value:.3g} -- "
                     + ("MISMATCH: the split is not the configured one; do not trust the "
                        "results" if srm.flagged else "as configured")))
    if result.holdout_effect is not None:
        h = result.holdout_effect
        out.print(*plain(f"program effect (treated - holdout): {fmt(h.diff, 4)} "
                         f"[{fmt(h.low, 4)}, {fmt(h.high, 4)}]"))


@experiments_app.command("status")
def status_command(
    name: Annotated[str | None, typer.Argument(help="One experiment (default: all)")] = None,
    db: DbUrl = None,
) -> None:
    """Per-arm results with confidence intervals and the sample-ratio check."""
    from tactful.service.context import session
    from tactful.service.measure import experiment_status

    with session(db) as store:
        chosen = experiment_status(store, name=name)
    if not chosen:
        console.print("no experiment defined")
    for status in chosen:
        console.print(*plain(f"{status.experiment.name}: {status.state}"))
        print_result(status.result)


@experiments_app.command("stop")
def stop_command(name: str, db: DbUrl = None) -> None:
    """Stop an experiment now: later decisions are not assigned to it."""
    from tactful.service.context import session
    from tactful.service.measure import stop_experiment

    with session(db) as store:
        e = stop_experiment(store, name=name)
    console.print(*plain(f"experiment {e.name} stopped at {e.stopped_at:%Y-%m-%d %H:%M} UTC"))


def ope_command(
    catalog: Annotated[Path | None, typer.Option(
        "--catalog", "--policy",
        help="The target policy, as its actions catalog (TOML); default: the built-in one, "
             "which estimates the current policy against its own logs")] = None,
    reward: Annotated[list[str] | None, typer.Option(
        "--reward", help="Outcome kinds worth 1 (repeat): click, convert, open...")] = None,
    since: Annotated[str | None, typer.Option(help="Decisions from (ISO date)")] = None,
    db: DbUrl = None,
) -> None:
    """Estimate a policy's value from the logged decisions before launching it (off-policy:
    IPS, self-normalized IPS and doubly robust, with 95% intervals and a support check)."""
    from tactful.service.context import session
    from tactful.service.measure import policy_value

    frm = moment(since, "--since")
    with session(db) as store:
        value = policy_value(store, catalog=catalog, reward=reward, since=frm)
    table = Table(title=f"Reward per decision ({' or '.join(value.reward)}), "
                        f"{value.decisions:,} logged decisions")
    for col in ("policy", "estimate", "95% interval"):
        table.add_column(col)
    table.add_row("logged (observed)", f"{value.logged:.4f}", "")
    for e in value.estimates:
        table.add_row(f"target, {e.estimator}", f"{e.value:.4f}", f"{e.low:.4f} - {e.high:.4f}")
    console.print(table)
    verdict = "trusted" if value.support.trusted else "NOT trusted"
    console.print(plain(f"Support {verdict}: {value.support.reason}; the target's likeliest "
                        f"choice is the logged one in {value.agreement:.0%} of decisions."))
