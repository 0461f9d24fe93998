"""``tactful train --table``, ``models list`` and ``models promote`` as a user runs them."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import polars as pl
import pytest
from typer.testing import CliRunner

from tactful.cli import models as models_cli
from tactful.cli.app import app
from tactful.errors import ConfigError, NotFoundError, ValidationError
from tactful.models.registry import ModelRegistry
from tactful.store.store import Store

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


def _common(tmp_path: Path) -> list[str]:
    return ["--db", f"sqlite:///{tmp_path / 'm.db'}", "--model-dir", str(tmp_path / "models")]


def _train(tmp_path: Path, table: Path, *extra: str) -> str:
    out = runner.invoke(
        app,
        ["train", "--table", str(table), "--target", "bought", "--algorithm", "logistic",
         "--protocol", "stratified", *extra, *_common(tmp_path)],
        catch_exceptions=False,
    )
    assert out.exit_code == 0, out.output
    return out.output


def _promote(tmp_path: Path) -> None:
    ok = runner.invoke(
        app,
        ["models", "promote", "propensity-campaign", "1", "--by", "alice", "--max-dpd", "1",
         "--max-eod", "1", *_common(tmp_path)],
        catch_exceptions=False,
    )
    assert ok.exit_code == 0, ok.output


def _registry(tmp_path: Path) -> ModelRegistry:
    return ModelRegistry(Store.open(f"sqlite:///{tmp_path / 'm.db'}"), tmp_path / "models")


@pytest.mark.parametrize("suffix", ["csv", "parquet"])
def test_score_a_table_with_its_production_model(tmp_path: Path, suffix: str) -> None:
    table = _campaign(tmp_path / "campaign.csv")
    _train(tmp_path, table, "--protected", "gender")
    _promote(tmp_path)
    new = pl.read_csv(table).drop("bought").head(50).with_columns(
        pl.Series("client", [f"K{i}" for i in range(50)])
    )
    new.write_csv(tmp_path / "today.csv")
    dest = tmp_path / f"scores.{suffix}"
    out = runner.invoke(
        app,
        ["score", "--table", str(tmp_path / "today.csv"), "--model", "propensity-campaign",
         "--id", "client", "--out", str(dest), *_common(tmp_path)],
        catch_exceptions=False,
    )
    assert out.exit_code == 0, out.output
    assert "propensity-campaign v1: 50 rows scored" in out.output
    scores = pl.read_csv(dest) if suffix == "csv" else pl.read_parquet(dest)
    assert scores.columns == [
        "row", "client", "model_name", "model_version", "model_stage", "score",
        "reason_1", "reason_2", "reason_3",
    ]
    assert scores["row"].to_list() == list(range(1, 51))
    assert scores["client"].to_list() == new["client"].to_list()
    assert set(scores["model_stage"]) == {"production"}
    registry = _registry(tmp_path)
    artifact = registry.load(registry.get("propensity-campaign", 1))
    expected = artifact.model.predict(artifact.encoder.transform(new))
    assert np.allclose(scores["score"].to_numpy(), expected)
    reasons = artifact.model.reasons(artifact.encoder.transform(new[:1]), 3)[0]
    assert scores["reason_1"][0] == (reasons[0].text if reasons else None)


def test_score_a_table_refuses_a_candidate_unless_asked_for(tmp_path: Path) -> None:
    table = _campaign(tmp_path / "campaign.csv")
    _train(tmp_path, table)
    _train(tmp_path, table)
    args = ["score", "--table", str(table), "--model", "propensity-campaign",
            "--out", str(tmp_path / "s.csv"), *_common(tmp_path)]
    with pytest.raises(NotFoundError, match=r"^propensity-campaign has no version in production "
                       r"\(candidates: v1, v2\); only a promoted version passed the gate\. "
                       r"Promote one with: tactful models promote propensity-campaign VERSION "
                       r"--by WHO"):
        runner.invoke(app, args, catch_exceptions=False)
    with pytest.raises(ValidationError, match=r"^propensity-campaign v1 is a candidate, not the "
                       r"production version: score with it only with --candidate \(its scores "
                       r"then say 'candidate, not promoted'\)$"):
        runner.invoke(app, [*args, "--version", "1"], catch_exceptions=False)
    assert not (tmp_path / "s.csv").exists()
    latest = runner.invoke(app, [*args, "--candidate"], catch_exceptions=False)
    assert "v2 (candidate, not promoted): 2,000 rows scored" in latest.output, latest.output
    out = runner.invoke(app, [*args, "--version", "1", "--candidate"],
                        catch_exceptions=False)
    assert out.exit_code == 0, out.output
    assert "v1 (candidate, not promoted): 2,000 rows scored" in out.output
    assert set(pl.read_csv(tmp_path / "s.csv")["model_stage"]) == {"candidate"}


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        ([], "--table needs --model, the table model to score with"),
        (["--model", "m"], "--table needs --out, the .csv or .parquet file to write"),
        (["churn", "--model", "m"], "--table scores a table with one --model: drop the model"),
        (["--customer", "C1"], "--table scores a table with one --model: drop the model"),
    ],
)
def test_score_a_table_needs_a_model_and_an_output(
    tmp_path: Path, extra: list[str], message: str
) -> None:
    table = _campaign(tmp_path / "campaign.csv", n=100)
    with pytest.raises(ConfigError, match=message):
        runner.invoke(app, ["score", "--table", str(table), *extra, *_common(tmp_path)],
                      catch_exceptions=False)


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--model", "m"], r"^--model: only with --table FILE$"),
        (["--out", "s.csv", "--version", "2", "--candidate"],
         r"^--version, --out: only with --table FILE$"),
    ],
)
def test_table_options_without_a_table_are_refused(
    tmp_path: Path, extra: list[str], message: str
) -> None:
    with pytest.raises(ConfigError, match=message):
        runner.invoke(app, ["score", *extra, *_common(tmp_path)], catch_exceptions=False)


def test_drift_of_a_table_model_compares_the_table_given(tmp_path: Path) -> None:
    table = _campaign(tmp_path / "campaign.csv")
    _train(tmp_path, table)
    with pytest.raises(ValidationError, match=r"^propensity-campaign v1 was trained on a table "
                       r"\(bought in campaign.csv\): give today's rows of that table to compare "
                       r"with \(--table FILE\)$"):
        runner.invoke(app, ["models", "drift", "propensity-campaign", *_common(tmp_path)],
                      catch_exceptions=False)
    same = runner.invoke(
        app, ["models", "drift", "propensity-campaign", "--table", str(table), *_common(tmp_path)],
        catch_exceptions=False,
    )
    assert same.exit_code == 0, same.output
    assert "retrain: not needed" in same.output and "plan=premium" in same.output
    older = pl.read_csv(table).with_columns(pl.col("age") + 40)
    older.write_csv(tmp_path / "older.csv")
    moved = runner.invoke(
        app,
        ["models", "drift", "propensity-campaign", "--table", str(tmp_path / "older.csv"),
         *_common(tmp_path)],
        catch_exceptions=False,
    )
    assert "retrain: age" in moved.output


def test_cv_from_the_command_line_registers_mean_and_sd(tmp_path: Path) -> None:
    table = _campaign(tmp_path / "campaign.csv")
    out = runner.invoke(
        app,
        ["train", "--table", str(table), "--target", "bought", "--algorithm", "logistic",
         "--protocol", "cv", "--folds", "5", *_common(tmp_path)],
        catch_exceptions=False,
    )
    assert out.exit_code == 0, out.output
    v = _registry(tmp_path).get("propensity-campaign", 1)
    assert v.metrics["folds"] == 5 and v.metrics["rows"] == 2_000
    assert 0 < v.metrics["roc_auc_sd"] < 0.1
    assert v.validation.startswith("stratified 5-fold cross-validation (shuffled, seed 0)")
    assert f"roc_auc {v.metrics['roc_auc']:.3f} ± {v.metrics['roc_auc_sd']:.3f}" in v.model_card


def test_the_model_card_of_a_table_model_says_what_applies_to_a_table(tmp_path: Path) -> None:
    table = _campaign(tmp_path / "campaign.csv")
    frame = pl.read_csv(table).with_columns(
        pl.when(pl.int_range(pl.len()) < 30).then(pl.lit("NA"))
        .otherwise(pl.col("age").cast(pl.String)).alias("age")
    )
    frame.write_csv(table)
    output = _train(tmp_path, table, "--protected", "gender", "--protected", "age",
                    "--bands", "age=30,50,65")
    assert "warning: campaign.csv: 30 values of 2,000 rows read as missing" in output
    card = _registry(tmp_path).get("propensity-campaign", 1).model_card
    assert "Trained on the table campaign.csv (2,000 rows), not on the store" in card
    assert "Protected columns named on the command line (gender, age)" in card
    assert "Missing values (empty, NA, N/A, null, NaN, ?) read as missing: age 30." in card
    assert ("Fairness by age in bands (under 30, 30 to under 50, 50 to under 65, 65 and over)"
            in card)
    assert "age band" not in card and "refused profiling" not in card


@pytest.mark.parametrize(
    ("bands", "message"),
    [
        ("25;35", r"--bands '25;35': give auto or comma-separated numbers"),
        ("age=x", r"--bands 'age=x': give auto or comma-separated numbers"),
    ],
)
def test_bad_bands_on_the_command_line(tmp_path: Path, bands: str, message: str) -> None:
    table = _campaign(tmp_path / "campaign.csv", n=100)
    with pytest.raises(ConfigError, match=message):
        _train(tmp_path, table, "--protected", "age", "--bands", bands)


def test_a_table_models_drift_reference_is_its_training_rows(tmp_path: Path) -> None:
    """A time-ordered table whose customers age row by row: the reference is a sample of the
    rows trained on (the first 80%), not the first 5,000 rows, so those rows show no drift."""
    n = 12_000
    rng = np.random.default_rng(3)
    plan = rng.choice(["basic", "premium"], n)
    y = rng.random(n) < np.where(plan == "premium", 0.5, 0.08)
    frame = pl.DataFrame(
        {"age": np.linspace(20, 80, n).round(), "plan": plan, "bought": np.where(y, "yes", "no")}
    )
    frame.write_csv(tmp_path / "campaign.csv")
    frame.head(int(n * 0.8)).write_csv(tmp_path / "trained.csv")
    out = runner.invoke(
        app,
        ["train", "--table", str(tmp_path / "campaign.csv"), "--target", "bought",
         "--algorithm", "logistic", *_common(tmp_path)],
        catch_exceptions=False,
    )
    assert out.exit_code == 0, out.output
    drift = runner.invoke(
        app,
        ["models", "drift", "propensity-campaign", "--table", str(tmp_path / "trained.csv"),
         *_common(tmp_path)],
        catch_exceptions=False,
    )
    assert "retrain: not needed" in drift.output, drift.output
    card = _registry(tmp_path).get("propensity-campaign", 1).model_card
    assert "9,600 training rows, 2,400 test rows." in card
