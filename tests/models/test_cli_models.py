"""``tactful train --table``, ``models list`` and ``models promote`` as a user runs them."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import polars as pl
import pytest
from typer.testing import CliRunner

from tactful.cli import models as models_cli
from tactful.cli.app import app

runner = CliRunner()


@pytest.fixture(autouse=True)
def wide_console(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(models_cli.console, "width", 200)


def _campaign(path: Path, n: int = 2_000) -> Path:
    rng = np.random.default_rng(0)
    plan = rng.choice(["basic", "plus", "premium"], n)
    y = rng.random(n) < np.where(plan == "premium", 0.5, 0.08)
    pl.DataFrame(
        {
            "age": rng.integers(18, 80, n),
            "plan": plan,
            "gender": rng.choice(["F", "M"], n),
            "bought": np.where(y, "yes", "no"),
        }
    ).write_csv(path)
    return path


def test_train_from_a_table_then_the_gate(tmp_path: Path) -> None:
    table = _campaign(tmp_path / "campaign.csv")
    common = ["--db", f"sqlite:///{tmp_path / 'm.db'}", "--model-dir", str(tmp_path / "models")]
    out = runner.invoke(
        app,
        [
            "train",
            "--table",
            str(table),
            "--target",
            "bought",
            "--protected",
            "gender",
            "--algorithm",
            "logistic",
            "--protocol",
            "stratified",
            *common,
        ],
        catch_exceptions=False,
    )
    assert out.exit_code == 0, out.output
    assert "propensity-campaign" in out.output
    listed = runner.invoke(app, ["models", "list", *common], catch_exceptions=False)
    assert "candidate" in listed.output and "logistic" in listed.output
    refused = runner.invoke(
        app,
        [
            "models",
            "promote",
            "propensity-campaign",
            "1",
            "--by",
            "alice",
            "--min-auc",
            "0.99",
            *common,
        ],
        catch_exceptions=False,
    )
    assert refused.exit_code == 4
    assert (
        "refused" in refused.output and "ROC-AUC" in refused.output and "< 0.99" in refused.output
    )
    ok = runner.invoke(
        app,
        [
            "models",
            "promote",
            "propensity-campaign",
            "1",
            "--by",
            "alice",
            "--max-dpd",
            "0.5",
            "--max-eod",
            "0.5",
            *common,
        ],
        catch_exceptions=False,
    )
    assert ok.exit_code == 0, ok.output
    assert "in production (promoted by alice)" in ok.output
    shown = runner.invoke(
        app, ["models", "show", "propensity-campaign", *common], catch_exceptions=False
    )
    assert "# Model card: propensity-campaign (logistic)" in shown.output
    assert "by gender" in shown.output
