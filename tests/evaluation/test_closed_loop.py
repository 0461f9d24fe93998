"""The closed loop at a tiny size: every arm on a fork of one world, audited independently.

Specifications: the arms share one warmed-up world (same customers; the silent arm's life does
not depend on which other arms ran beside it); the no-message arm sends nothing; the auditor
counts cap, quiet-hour and consent breaches from the messages alone; Tactful's decisions break
no contact rule; the random arm's logs feed the off-policy estimators with exact pscores.
"""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from pathlib import Path

import numpy as np
import pytest

from tactful.domain.actions import Action, ActionFamily, Decision
from tactful.domain.enums import Channel
from tactful.domain.records import QuietHours
from tactful.evaluation.closed_loop import LoopConfig, SeedRun, run_seed
from tactful.evaluation.loop_arms import Sent
from tactful.evaluation.loop_audit import OPT_OUT_RULE, violations
from tactful.evaluation.loop_ope import logs

CFG = LoopConfig(customers=60, weeks=3, seeds=1, cadence=3, sweep=())


@pytest.fixture(scope="module")
def seed_run(tmp_path_factory: pytest.TempPathFactory) -> SeedRun:
    return run_seed(CFG, 7, tmp_path_factory.mktemp("loop"))


def test_the_silent_arm_sends_nothing(seed_run: SeedRun) -> None:
    none = seed_run.arms["none"]
    assert none.messages == 0
    assert sum(none.outcomes.values()) == 0
    assert none.silence_rate == 1.0
    assert none.actions == none.spontaneous


def test_arms_run_on_identical_forks(seed_run: SeedRun, tmp_path: Path) -> None:
    customers = {r.customers for r in seed_run.arms.values()}
    assert len(customers) == 1
    assert {r.moments for r in seed_run.arms.values()} == {seed_run.arms["none"].moments}
    alone = run_seed(CFG, 7, tmp_path, arms=("none",)).arms["none"]
    ran = seed_run.arms["none"]
    assert (alone.departures, alone.spontaneous, alone.savings_opened) == (
        ran.departures, ran.spontaneous, ran.savings_opened)


def test_arms_differ_in_what_they_send(seed_run: SeedRun) -> None:
    a = seed_run.arms
    assert a["rules"].messages > a["tactful"].messages > 0
    assert a["random"].messages > 0 and a["oracle"].messages > 0


def test_violations_are_counted_and_tactful_has_none(seed_run: SeedRun) -> None:
    a = seed_run.arms
    assert a["tactful"].violation_count == 0
    assert a["oracle"].violation_count == 0
    assert a["rules"].violation_count + a["random"].violation_count > 0


def test_random_logs_carry_exact_pscores(seed_run: SeedRun) -> None:
    assert seed_run.random_log is not None
    lg = logs([seed_run.random_log])
    assert len(lg.pscore) == seed_run.arms["random"].moments
    rows = np.arange(len(lg.action))
    np.testing.assert_allclose(lg.logging[rows, lg.action], lg.pscore)
    np.testing.assert_allclose(lg.logging.sum(axis=1), 1.0)
    np.testing.assert_allclose(lg.target.sum(axis=1), 1.0)


# -- the auditor alone ----------------------------------------------------------------------

AT = datetime(2024, 3, 4, 12, tzinfo=UTC)
QUIET = QuietHours(time(22), time(7))


def _sent(n: int, channel: Channel, at: datetime, *, marketing: bool = False,
          consent: str | None = "personalization", exempt: bool = False) -> Sent:
    family = ActionFamily.PRODUCT_OFFER if marketing else ActionFamily.SPENDING_SPIKE
    action = Action("a", family, product_id="P-SAV-EASY" if marketing else None)
    d = Decision(f"d{n}", "CUS-00000001", action, channel, at, 1.0, "test")
    return Sent(d, 0, f"a:{n}", marketing, exempt, consent)


@pytest.mark.parametrize(
    ("messages", "expected"),
    [
        ([_sent(k, Channel.IN_APP, AT + timedelta(hours=k)) for k in range(3)], {}),
        ([_sent(k, Channel.IN_APP, AT + timedelta(hours=k)) for k in range(4)],
         {"messages per 24 h > 3": 1}),
        ([_sent(k, Channel.IN_APP, AT + timedelta(hours=8 * k)) for k in range(4)],
         {}),  # 0h, 8h, 16h, 24h: no 24-hour window holds four
        ([_sent(k, Channel.PUSH, AT + timedelta(hours=k)) for k in range(3)],
         {"pushes per 24 h > 2": 1}),
        ([_sent(k, Channel.EMAIL, AT + timedelta(days=3 * k), marketing=True,
                consent="marketing") for k in range(3)],
         {"marketing emails per 7 days > 1": 2, "without marketing consent": 3}),
        ([_sent(0, Channel.PUSH, datetime(2024, 3, 4, 23, 30, tzinfo=UTC))],
         {"in quiet hours": 1}),
        ([_sent(0, Channel.IN_APP, datetime(2024, 3, 4, 23, 30, tzinfo=UTC))], {}),
        ([_sent(0, Channel.PUSH, datetime(2024, 3, 4, 23, 30, tzinfo=UTC), exempt=True,
                consent=None)], {}),
        ([_sent(0, Channel.EMAIL, AT, marketing=True, consent="marketing")],
         {"without marketing consent": 1}),
        ([_sent(k, Channel.IN_APP, AT + timedelta(hours=k), exempt=True, consent=None)
          for k in range(6)], {}),
    ],
)
def test_the_auditor(messages: list[Sent], expected: dict[str, int]) -> None:
    found = violations(messages, timezone="Europe/London", quiet=QUIET,
                       held=frozenset({"personalization"}))
    assert dict(found) == expected


def test_sends_after_an_opt_out_are_counted_apart() -> None:
    messages = [_sent(k, Channel.EMAIL, AT + timedelta(days=k)) for k in range(3)]
    found = violations(messages, timezone="Europe/London", quiet=QUIET,
                       held=frozenset({"personalization"}),
                       opted_out_at={Channel.EMAIL: AT})
    assert dict(found) == {OPT_OUT_RULE: 2}


def test_the_section_reports_every_arm_and_writes_its_plots(seed_run: SeedRun,
                                                            tmp_path: Path) -> None:
    from tactful.evaluation.loop_ope import validate
    from tactful.evaluation.loop_report import section

    runs = [seed_run.arms, seed_run.arms]
    target = seed_run.arms["value_first"]
    truth = {"conversions": max(target.outcomes["convert"], 1) / target.moments,
             "clicks": max(target.outcomes["click"], 1) / target.moments}
    assert seed_run.random_log is not None
    ope = validate([seed_run.random_log], truth)
    s = section(runs, {2.0: [seed_run.arms["tactful"]]}, [seed_run.arms["none"]], ope,
                img=tmp_path, size="tiny", seconds=1.0)
    names = [m.name for m in s.metrics]
    assert "Tactful contact-policy violations (independent audit)" in names
    assert any(m.name.startswith("DR relative error") for m in s.metrics)
    table = s.tables[0][1]
    for label in ("no messages", "random", "rules-only (today)", "Tactful", "oracle"):
        assert label in table
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "closed_loop_learning.png", "closed_loop_sweep.png", "closed_loop_uplift.png"]
