"""The engagement report on messages whose fate is known, the page and plots it writes, and the
CLI faces of measure (report, outcomes, experiments) on a real store."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import polars as pl
import pytest
from tests.measure.bank import T0, add_customer, add_decision
from typer.testing import CliRunner

from tactful.cli.app import app
from tactful.errors import ValidationError
from tactful.measure import page
from tactful.measure.engagement import Thresholds, engagement
from tactful.measure.outcomes import OutcomeIn, record_outcomes
from tactful.store.store import Store

MONDAY = datetime(2026, 3, 2, tzinfo=UTC)


def _bank(spec: list[tuple[str, str, int, int, int, int]]) -> tuple[pl.DataFrame, pl.DataFrame]:
    """(action, channel, sent, clicks, opt-outs, dismissals) -> messages and outcomes; sends
    spread over two weeks, clicks all in the first."""
    messages, outcomes = [], []
    for action, channel, sent, clicks, opt_outs, dismissals in spec:
        for k in range(sent):
            did = f"{action}-{channel}-{k}"
            messages.append((did, action, channel, MONDAY + timedelta(days=14 * k // sent)))
            if k < clicks:
                outcomes.append((did, "click", None))
            if sent - opt_outs <= k:
                outcomes.append((did, "opt_out", None))
            if clicks <= k < clicks + dismissals:
                outcomes.append((did, "dismiss", "not_relevant" if k % 3 else "too_many"))
            outcomes.append((did, "open", None))  # an open on every one: one row per kind
    m = pl.DataFrame(messages, schema={"decision_id": pl.Utf8, "action_id": pl.Utf8,
                                       "channel": pl.Utf8, "send_at": pl.Datetime("us", "UTC")},
                     orient="row")
    o = pl.DataFrame(outcomes, schema={"decision_id": pl.Utf8, "kind": pl.Utf8,
                                       "reason": pl.Utf8}, orient="row")
    return m, o


SPEC = [
    ("good", "push", 1_000, 100, 0, 50),
    ("spammy", "push", 1_000, 20, 20, 100),
    ("fine", "in_app", 500, 40, 1, 0),
    ("unsure", "email", 100, 4, 0, 0),
    ("tiny", "email", 20, 0, 5, 0),
]


def test_flags_carry_their_numbers_and_need_evidence() -> None:
    report = engagement(*_bank(SPEC))
    t = {(r["action_id"], r["channel"]): r for r in report.table.iter_rows(named=True)}
    assert t[("good", "push")]["click_rate"] == pytest.approx(0.1)
    assert t[("good", "push")]["open_rate"] == 1.0
    assert t[("spammy", "push")]["opt_outs"] == 20
    assert report.median_ctr == pytest.approx(0.06)  # of 10%, 8%, 4% and 2%: 6%
    flags = {(f.action_id, f.code): f for f in report.flags}
    assert set(flags) == {("spammy", "low_ctr"), ("spammy", "opt_outs")}
    assert flags[("spammy", "low_ctr")].recommendation == "retire"
    assert flags[("spammy", "low_ctr")].detail == (
        "CTR 2.0% [1.3%, 3.1%] of 1,000 messages is below the catalog median 6.0%")
    # 'unsure' (4 of 100) is below the median too, but its interval reaches it: not flagged
    assert "opt-out rate 2.0%" in flags[("spammy", "opt_outs")].detail
    # 'tiny' opts out a quarter of its customers, but 20 messages are below min_volume
    assert not any(f.action_id == "tiny" for f in report.flags)
    assert any(f.action_id == "tiny" for f in engagement(
        *_bank(SPEC), Thresholds(min_volume=20)).flags)
    reasons = report.reasons.filter(pl.col("action_id") == "spammy")
    assert dict(zip(reasons["reason"], reasons["count"], strict=True)) == {
        "not_relevant": 67, "too_many": 33}
    weeks = report.weekly.filter(pl.col("action_id") == "good")
    assert weeks["sent"].to_list() == [500, 500]
    assert weeks["click_rate"].to_list() == [0.2, 0.0]


def test_a_modify_flag_for_dismissals_alone_and_bad_inputs() -> None:
    report = engagement(*_bank([("a", "push", 400, 40, 0, 300), ("b", "push", 400, 40, 0, 0)]))
    assert [(f.action_id, f.code, f.recommendation) for f in report.flags] == [
        ("a", "dismissed", "modify")]
    with pytest.raises(ValidationError, match=r"messages lack column\(s\) \['send_at'\]"):
        engagement(pl.DataFrame({"decision_id": [], "action_id": [], "channel": []}),
                   _bank(SPEC)[1])
    with pytest.raises(ValidationError, match="max_opt_out must be a share from 0 to 1"):
        Thresholds(max_opt_out=2.0)
    empty = engagement(*_bank([]))
    assert empty.flags == () and empty.median_ctr is None


def test_the_page_has_plots_flags_and_escaped_data(tmp_path: Path) -> None:
    spec = [*SPEC, ("<script>", "push", 200, 1, 0, 0)]
    out = page.write(tmp_path / "m.html", engagement(*_bank(spec)))
    text = out.read_text(encoding="utf-8")
    assert text.count("data:image/png;base64,") == 2
    assert "<script>" not in text and "&lt;script&gt;" in text
    assert "retire" in text and "spammy" in text


def test_the_cli_reports_and_runs_an_experiment(tmp_path: Path,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    from tactful.cli import measure as measure_cli

    monkeypatch.setattr(measure_cli.console, "width", 200)
    url = f"sqlite:///{tmp_path / 't.db'}"
    store = Store.open(url)
    runner = CliRunner()
    start = (T0 - timedelta(days=1)).isoformat()
    out = runner.invoke(app, ["experiments", "create", "tone", "--arm", "control",
                              "--arm", "friendly:1", "--holdout", "0.1", "--start", start,
                              "--db", url])
    assert out.exit_code == 0, out.output
    assert "holdout 10.0%, control 45.0%, friendly 45.0%" in " ".join(out.output.split())
    from tactful.measure import experiments as ex

    e = ex.get(store, "tone")
    outcomes = []
    for k in range(60):
        cid = f"CUS-{k}"
        add_customer(store, cid)
        add_decision(store, f"d{k}", customer_id=cid, action_id="good", channel="push",
                     experiments={"tone": ex.assign(e, cid)})
        if k % 4 == 0:
            outcomes.append(OutcomeIn(f"d{k}", "click", T0 + timedelta(hours=1)))
    record_outcomes(store, outcomes)
    out = runner.invoke(app, ["experiments", "status", "tone", "--db", url])
    assert out.exit_code == 0, out.output
    assert "tone: running" in out.output and "sample-ratio check" in out.output
    assert "friendly" in out.output and "95% CI" in out.output
    html = tmp_path / "report.html"
    out = runner.invoke(app, ["report", "engagement", "--out", str(html), "--min-volume", "10",
                              "--db", url])
    assert out.exit_code == 0, out.output
    assert "good" in out.output and "25.0%" in out.output
    text = html.read_text(encoding="utf-8")
    assert "Experiments" in text and "Sample ratio" in text
    out = runner.invoke(app, ["experiments", "stop", "tone", "--db", url])
    assert out.exit_code == 0 and "stopped" in out.output
    out = runner.invoke(app, ["experiments", "stop", "tone", "--db", url])
    assert out.exit_code != 0
    out = runner.invoke(app, ["outcomes", "record", "d1", "dismiss", "--reason", "too_many",
                              "--at", (T0 + timedelta(hours=2)).isoformat(), "--db", url])
    assert out.exit_code == 0 and "1 recorded, 0 already known" in out.output, out.output
    out = runner.invoke(app, ["outcomes", "record", "d1", "like", "--db", url])
    assert out.exit_code != 0
    out = runner.invoke(app, ["outcomes", "from-events", "--db", url])
    assert out.exit_code == 0 and "0 new outcomes" in out.output
