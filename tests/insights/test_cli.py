"""The insight commands a bank's operator and the demo use."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import select
from typer.testing import CliRunner

from tactful.cli.app import app
from tactful.profile import load_profile
from tactful.store import schema
from tactful.store.store import Store

runner = CliRunner()
EXAMPLE = Path(__file__).resolve().parents[2] / "docs" / "examples" / "insight_rules.toml"


def test_run_list_mark_and_catalog(bank_store: Store) -> None:
    db = bank_store.url
    result = runner.invoke(app, ["insight", "run", "--db", db, "--rules", str(EXAMPLE)])
    assert result.exit_code == 0, result.output
    assert "new for 160 customers" in result.output
    row = bank_store.rows(select(schema.insights.c.customer_id, schema.insights.c.insight_id)
                          .where(schema.insights.c.state == "live"))[0]
    profile = load_profile(bank_store, row.customer_id)
    assert row.insight_id in {i.insight_id for i in profile.insights}
    listed = runner.invoke(app, ["insights", row.customer_id, "--db", db])
    assert listed.exit_code == 0 and row.insight_id in listed.output.replace("\n", "")
    assert "Because" in listed.output or "Weil" in listed.output
    marked = runner.invoke(app, ["insight", "mark", row.insight_id, "dismissed", "--db", db])
    assert marked.exit_code == 0 and "live -> dismissed" in marked.output
    again = runner.invoke(app, ["insight", "mark", row.insight_id, "shown", "--db", db])
    assert again.exit_code != 0 and "cannot become shown" in str(again.exception)
    catalog = runner.invoke(app, ["insight", "detectors", "--rules", str(EXAMPLE)])
    assert catalog.exit_code == 0 and "21 detectors" in catalog.output
    checked = runner.invoke(app, ["insight", "check-rules", str(EXAMPLE)])
    assert checked.exit_code == 0 and "2 rule(s) valid" in checked.output


def test_budget_and_goal_errors_are_clear(bank_store: Store) -> None:
    db = bank_store.url
    bad = runner.invoke(app, ["budgets", "set", "C", "DINING", "300", "--db", db])
    assert bad.exit_code != 0 and "'DINING' is not a primary or detailed" in str(bad.exception)
    ok = runner.invoke(app, ["budgets", "set", "C", "FOOD_AND_DRINK", "300", "--db", db])
    assert ok.exit_code == 0
    goal = runner.invoke(app, ["goals", "add", "C", "G", "Car", "NOT-MINE", "1000", "--db", db])
    assert goal.exit_code != 0 and "is not an account of customer …" in str(goal.exception)
