"""Training from a bank's own labelled table: invalid inputs, and a real data set."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import polars as pl
import pytest

from tactful.errors import ValidationError
from tactful.models.tabular import TableEncoder, TableSpec, labels, read_table, train_table

SHARED = Path(__file__).resolve().parents[2].parent / "shared" / "data"


def _table(n: int = 600) -> pl.DataFrame:
    rng = np.random.default_rng(0)
    age = rng.integers(18, 80, n)
    plan = rng.choice(["basic", "plus", "premium"], n)
    y = (rng.random(n) < np.where(plan == "premium", 0.6, 0.15)).astype(int)
    return pl.DataFrame(
        {
            "client_id": np.arange(n),
            "age": age,
            "plan": plan,
            "gender": rng.choice(["F", "M"], n),
            "bought": np.where(y == 1, "yes", "no"),
        }
    )


def test_encoder_drops_identifiers_and_protected_columns() -> None:
    enc = TableEncoder().fit(_table(), TableSpec("bought", protected=("gender",)))
    assert enc.dropped_ == ["client_id"]
    assert enc.feature_names == ["age", "plan=basic", "plan=plus", "plan=premium"] or set(
        enc.feature_names
    ) == {"age", "plan=basic", "plan=plus", "plan=premium"}
    assert not any(n.startswith("gender") for n in enc.feature_names)


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        (TableSpec("nope"), "target column 'nope' not in the table"),
        (TableSpec("bought", positive="maybe"), "must hold both classes"),
        (TableSpec("bought", drop=("ghost",)), r"columns \['ghost'\] are not in the table"),
    ],
)
def test_bad_specs_are_refused_by_name(spec: TableSpec, message: str) -> None:
    frame = _table()
    with pytest.raises(ValidationError, match=message):
        train_table(frame, spec, family="logistic")


def test_read_table_sniffs_semicolons(tmp_path: Path) -> None:
    path = tmp_path / "campaign.csv"
    path.write_text('"age";"y"\n30;"yes"\n40;"no"\n')
    assert read_table(path).columns == ["age", "y"]
    assert labels(read_table(path), TableSpec("y")).tolist() == [1, 0]
    with pytest.raises(ValidationError, match=r"expected \.csv"):
        (tmp_path / "x.xlsx").write_bytes(b"")
        read_table(tmp_path / "x.xlsx")


def test_synthetic_table_trains_and_reports_fairness() -> None:
    result = train_table(
        _table(2_000),
        TableSpec("bought", protected=("gender",)),
        family="logistic",
        protocol="stratified",
    )
    assert result.metrics.roc_auc > 0.65
    assert result.fairness is not None and result.fairness.attributes[0].attribute == "gender"


@pytest.mark.realdata
def test_bank_churn_reaches_the_target_auc() -> None:
    path = SHARED / "bank_churn" / "Churn_Modelling.csv"
    if not path.exists():
        pytest.skip(f"{path} is absent")
    spec = TableSpec("Exited", drop=("RowNumber", "CustomerId", "Surname"), protected=("Gender",))
    result = train_table(read_table(path), spec, family="gbm", protocol="stratified")
    assert result.metrics.roc_auc >= 0.85
    assert result.fairness is not None
