"""Training from a bank's own labelled table: invalid inputs, and a real data set."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import polars as pl
import pytest
from hypothesis import given
from hypothesis import strategies as st

from tactful.errors import ValidationError
from tactful.models.fairness import Bands, FairnessReport
from tactful.models.tabular import (
    TableEncoder,
    TableSpec,
    clean_missing,
    cross_validate,
    labels,
    load_table,
    read_table,
    train_table,
)

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


# --- missing values ---------------------------------------------------------------------------

TOKENS = ["", "NA", "N/A", "null", "NaN", "?", " ? ", "na", "NULL", "nan", "n/a"]


@pytest.mark.parametrize("token", TOKENS)
def test_a_missing_token_leaves_a_numeric_column_numeric(tmp_path: Path, token: str) -> None:
    path = tmp_path / "credit.csv"
    path.write_text(f"income,job,y\n1200,clerk,1\n{token},,0\n1500.5,{token},1\n")
    read = load_table(path)
    assert read.frame.schema["income"] == pl.Float64
    assert read.frame["income"].to_list() == [1200.0, None, 1500.5]
    assert read.frame["job"].to_list() == ["clerk", None, None]
    assert read.missing == {"income": 1, "job": 2}
    assert read.warning() == (
        "3 values of 3 rows read as missing ('', 'NA', 'N/A', 'null', 'NaN', '?'): "
        "job 2, income 1"
    )


def test_a_table_with_nothing_missing_warns_of_nothing(tmp_path: Path) -> None:
    path = tmp_path / "clean.csv"
    path.write_text("age,ok,plan,y\n30,true,basic,1\n41,False,plus,0\n")
    read = load_table(path)
    assert read.missing == {} and read.warning() is None
    assert read.frame.schema == {
        "age": pl.Int64, "ok": pl.Boolean, "plan": pl.String, "y": pl.Int64
    }


def test_parquet_text_columns_get_the_same_reading(tmp_path: Path) -> None:
    path = tmp_path / "credit.parquet"
    pl.DataFrame({"income": ["1200", "NA", "?"], "y": [1, 0, 1]}).write_parquet(path)
    read = load_table(path)
    assert read.frame["income"].to_list() == [1200, None, None]
    assert read.missing == {"income": 2}


@given(
    values=st.lists(
        st.one_of(st.integers(-(10**12), 10**12), st.sampled_from(TOKENS)), min_size=1
    ).filter(lambda v: any(isinstance(x, int) for x in v)),
)
def test_integers_mixed_with_tokens_stay_integers(values: list[int | str]) -> None:
    frame = pl.DataFrame({"x": [str(v) for v in values]})
    read = clean_missing(frame)
    assert read.frame.schema["x"] == pl.Int64
    assert read.frame["x"].to_list() == [v if isinstance(v, int) else None for v in values]
    assert read.missing.get("x", 0) == sum(isinstance(v, str) for v in values)


def test_a_numeric_column_with_gaps_is_one_feature_not_levels(tmp_path: Path) -> None:
    frame = _table(600).with_columns(
        pl.when(pl.int_range(pl.len()) % 7 == 0).then(pl.lit("NA"))
        .otherwise(pl.col("age").cast(pl.String)).alias("age")
    )
    path = tmp_path / "campaign.csv"
    frame.write_csv(path)
    enc = TableEncoder().fit(read_table(path), TableSpec("bought"))
    assert "age" in enc.numeric_ and not any(n.startswith("age=") for n in enc.feature_names)


def test_a_scored_table_with_text_in_a_numeric_column_is_refused_by_row() -> None:
    enc = TableEncoder().fit(_table(), TableSpec("bought"))
    later = _table(5).with_columns(
        pl.Series("age", ["30", None, "41", "forty", "x"], dtype=pl.String)
    )
    with pytest.raises(
        ValidationError,
        match=r"^column 'age' was numeric in training, but 2 of its values here are not "
        r"numbers \(the first on data row 4\)$",
    ):
        enc.transform(later)


# --- bands of a numeric protected column ------------------------------------------------------


def _aged(n: int = 3_000) -> pl.DataFrame:
    rng = np.random.default_rng(1)
    return _table(n).with_columns(pl.Series("age", rng.integers(18, 80, n)))


def test_a_numeric_protected_column_is_audited_in_the_bands_given() -> None:
    spec = TableSpec("bought", protected=("age",), bands={"age": (25, 35, 45, 55, 65)})
    result = train_table(_aged(), spec, family="logistic", protocol="stratified")
    assert result.fairness is not None
    age = result.fairness.attributes[0]
    assert [g.group for g in age.groups] == [
        "under 25", "25 to under 35", "35 to under 45", "45 to under 55", "55 to under 65",
        "65 and over",
    ]
    assert age.bands == (25.0, 35.0, 45.0, 55.0, 65.0)
    assert sum(g.rows for g in age.groups) == len(result.y_test)


@pytest.mark.parametrize("bands", [{"age": "auto"}, {"*": "auto"}, {}])
def test_auto_bands_cut_a_numeric_protected_column_at_its_quintiles(
    bands: dict[str, Bands],
) -> None:
    spec = TableSpec("bought", protected=("age", "gender"), bands=bands)
    result = train_table(_aged(), spec, family="logistic", protocol="stratified")
    assert result.fairness is not None
    age, gender = result.fairness.attributes
    assert len(age.groups) == 5 and age.groups[0].group.startswith("under ")
    assert [g.group for g in gender.groups] == ["F", "M"] and gender.bands == ()


def test_a_numeric_column_of_few_values_is_audited_value_by_value() -> None:
    frame = _table().with_columns(pl.Series("senior", [0, 1] * 300))
    result = train_table(
        frame, TableSpec("bought", protected=("senior",)), family="logistic", protocol="stratified"
    )
    assert result.fairness is not None
    assert [g.group for g in result.fairness.attributes[0].groups] == ["0", "1"]


@pytest.mark.parametrize(
    ("bands", "message"),
    [
        ({"age": (35, 25)}, r"bands must be strictly increasing numbers, got \[35, 25\]"),
        ({"gender": (1, 2)}, "bands given for 'gender', whose values are not numbers"),
        ({"plan": "auto"}, r"bands given for \['plan'\], which are not protected columns"),
    ],
)
def test_bad_bands_are_refused_by_name(bands: dict[str, Bands], message: str) -> None:
    spec = TableSpec("bought", protected=("age", "gender"), bands=bands)
    with pytest.raises(ValidationError, match=message):
        train_table(_aged(600), spec, family="logistic")


def test_bands_survive_the_registry_round_trip() -> None:
    spec = TableSpec("bought", protected=("age",), bands={"age": (30, 60)})
    result = train_table(_aged(), spec, family="logistic", protocol="stratified")
    assert result.fairness is not None
    again = FairnessReport.from_dict(result.fairness.as_dict())
    assert again == result.fairness
    old = result.fairness.as_dict()
    del old["attributes"][0]["bands"]  # a report registered before bands existed
    assert FairnessReport.from_dict(old).attributes[0].bands == ()


# --- cross-validation -------------------------------------------------------------------------


def test_cv_records_the_mean_and_sd_of_each_metric_over_the_folds() -> None:
    frame = _table(1_000)
    result = train_table(frame, TableSpec("bought"), family="logistic", protocol="cv", folds=4)
    assert len(result.folds) == 4
    aucs = [m.roc_auc for m in result.folds]
    metrics = result.registry_metrics()
    assert metrics["roc_auc"] == pytest.approx(np.mean(aucs))
    assert metrics["roc_auc_sd"] == pytest.approx(np.std(aucs, ddof=1))
    assert metrics["folds"] == 4 and metrics["rows"] == 1_000
    assert {"pr_auc_sd", "brier_sd", "top_decile_lift_sd"} <= set(metrics)
    assert len(result.p_test) == 1_000 and result.fitted_rows == 1_000
    same, oof = cross_validate(frame, TableSpec("bought"), family="logistic", folds=4)
    assert [m.roc_auc for m in same] == aucs and np.array_equal(oof, result.p_test)


def test_cv_needs_two_folds_at_least() -> None:
    with pytest.raises(ValidationError, match="folds must be between 2 and the row count, got 1"):
        train_table(_table(), TableSpec("bought"), family="logistic", protocol="cv", folds=1)


@pytest.mark.realdata
def test_bank_churn_with_missing_balances_keeps_the_balance_numeric(tmp_path: Path) -> None:
    """The public churn table with a tenth of its balances written as NA and some salaries as
    '?': both columns stay numbers, and five-fold CV still reaches the published AUC."""
    source = SHARED / "bank_churn" / "Churn_Modelling.csv"
    if not source.exists():
        pytest.skip(f"{source} is absent")
    raw = pl.read_csv(source, infer_schema=False)
    holed = raw.with_columns(
        pl.when(pl.int_range(pl.len()) % 10 == 3).then(pl.lit("NA"))
        .otherwise(pl.col("Balance")).alias("Balance"),
        pl.when(pl.int_range(pl.len()) % 50 == 7).then(pl.lit("?"))
        .otherwise(pl.col("EstimatedSalary")).alias("EstimatedSalary"),
    )
    path = tmp_path / "churn.csv"
    holed.write_csv(path)
    read = load_table(path)
    assert read.missing == {"Balance": 1_000, "EstimatedSalary": 200}
    assert read.frame.schema["Balance"] == pl.Float64
    spec = TableSpec("Exited", drop=("RowNumber", "CustomerId", "Surname"), protected=("Gender",))
    result = train_table(read.frame, spec, family="gbm", protocol="cv", folds=5)
    assert "Balance" in result.encoder.numeric_ and "EstimatedSalary" in result.encoder.numeric_
    metrics = result.registry_metrics()
    assert metrics["roc_auc"] >= 0.85 and metrics["roc_auc_sd"] < 0.03


@pytest.mark.realdata
def test_bank_churn_ages_are_audited_in_bands() -> None:
    """70 distinct ages, some held by a handful of customers: audited in six bands, or in
    quintiles by default, never one group per age."""
    path = SHARED / "bank_churn" / "Churn_Modelling.csv"
    if not path.exists():
        pytest.skip(f"{path} is absent")
    frame = read_table(path)
    assert frame["Age"].n_unique() == 70
    drop = ("RowNumber", "CustomerId", "Surname")
    edges: Bands = (25, 35, 45, 55, 65)
    given = TableSpec("Exited", drop=drop, protected=("Age",), bands={"Age": edges})
    result = train_table(frame, given, family="gbm", protocol="stratified")
    assert result.fairness is not None
    assert [g.rows for g in result.fairness.attributes[0].groups] == [
        sum(1 for a in frame["Age"].gather(result.test_index).to_list() if lo <= a < hi)
        for lo, hi in [(0, 25), (25, 35), (35, 45), (45, 55), (55, 65), (65, 999)]
    ]
    default = train_table(
        frame, TableSpec("Exited", drop=drop, protected=("Age",)), family="gbm",
        protocol="stratified",
    )
    assert default.fairness is not None and len(default.fairness.attributes[0].groups) == 5
