"""``make eval``: the model layer on real public data and on the simulator's truth.

Every real data set is scored with the product's own code path (``models.tabular`` and the
model families), side by side with a plain LightGBM (default parameters, same encoded columns,
same folds) and with the figure its authors published. A data set that is absent is skipped
with the reason.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import lightgbm as lgb
import numpy as np
import polars as pl
from numpy.typing import NDArray
from sklearn.metrics import roc_auc_score

from tactful.evaluation.bank import EvalBank
from tactful.evaluation.report import Metric, Section, markdown_table
from tactful.models.anomaly import AnomalyModel
from tactful.models.fairness import FairnessReport, fairness_report
from tactful.models.history import load_history
from tactful.models.metrics import calibration_bins, classifier_metrics, lift_curve
from tactful.models.registry import ModelRegistry
from tactful.models.tabular import (
    TableEncoder,
    TableSpec,
    cross_validate,
    folds_of,
    labels,
    read_table,
    train_table,
)
from tactful.models.train import train_anomaly_model, train_customer_model
from tactful.models.training import Target

F64 = NDArray[np.float64]
Say = Callable[[str], None]


def _baseline(frame: pl.DataFrame, spec: TableSpec, train: NDArray[Any], test: NDArray[Any]) -> F64:
    """A plain LightGBM: default parameters, our encoded columns, no calibration."""
    enc = TableEncoder().fit(frame[train], spec)
    y = labels(frame, spec)
    model = lgb.LGBMClassifier(verbose=-1, n_jobs=1, random_state=0)
    model.fit(enc.transform(frame[train]), y[train])
    proba = np.asarray(model.predict_proba(enc.transform(frame[test])), dtype=np.float64)
    return proba[:, 1]


@dataclass(frozen=True)
class _Protocol:
    name: str
    ours: dict[str, float]
    baseline: float
    lift: list[tuple[float, float]]


def _protocols(frame: pl.DataFrame, spec: TableSpec, families: Sequence[str]) -> list[_Protocol]:
    y = labels(frame, spec)
    out = []
    ours: dict[str, float] = {}
    oof_best: F64 | None = None
    for family in families:
        metrics, oof = cross_validate(frame, spec, family=family)
        ours[family] = float(np.mean([m.roc_auc for m in metrics]))
        if oof_best is None or family == "gbm":
            oof_best = oof
    base = [
        float(roc_auc_score(y[te], _baseline(frame, spec, tr, te)))
        for tr, te in folds_of(frame, spec)
    ]
    assert oof_best is not None  # noqa: S101 -- narrows a type; holds by construction
    out.append(_Protocol("stratified 5-fold", ours, float(np.mean(base)), lift_curve(y, oof_best)))
    cut = int(frame.height * 0.8)
    tr, te = np.arange(cut), np.arange(cut, frame.height)
    ours_t: dict[str, float] = {}
    lift_t: list[tuple[float, float]] = []
    for family in families:
        result = train_table(frame, spec, family=family, protocol="time")
        ours_t[family] = result.metrics.roc_auc
        if family == "gbm" or not lift_t:
            lift_t = lift_curve(result.y_test, result.p_test)
    base_t = float(roc_auc_score(y[te], _baseline(frame, spec, tr, te)))
    out.append(_Protocol("time-ordered 80/20", ours_t, base_t, lift_t))
    return out


def _plot_lift(
    path: Path, title: str, curves: Sequence[tuple[str, list[tuple[float, float]]]]
) -> str:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(5, 3.5), dpi=100)
    for label, curve in curves:
        ax.plot([c[0] for c in curve], [c[1] for c in curve], marker="o", label=label)
    ax.axhline(1.0, color="grey", linestyle="--", linewidth=1)
    ax.set_xlabel("share of customers contacted (by score)")
    ax.set_ylabel("cumulative lift")
    ax.set_title(title)
    ax.legend()
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path)
    plt.close(fig)
    return path.name


def _plot_calibration(path: Path, title: str, bins: list[tuple[float, float, int]]) -> str:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(4, 4), dpi=100)
    ax.plot([0, 1], [0, 1], color="grey", linestyle="--", linewidth=1)
    ax.plot([b[0] for b in bins], [b[1] for b in bins], marker="o")
    ax.set_xlabel("predicted probability (decile mean)")
    ax.set_ylabel("observed rate")
    ax.set_title(title)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path)
    plt.close(fig)
    return path.name


def _fairness_table(report: FairnessReport) -> str:
    rows = []
    for a in report.attributes:
        for g in a.groups:
            rows.append(
                (
                    a.attribute,
                    g.group,
                    f"{g.rows:,}",
                    f"{g.selection_rate:.3f}",
                    "-" if g.auc is None else f"{g.auc:.3f}",
                )
            )
        rows.append(
            (
                a.attribute,
                "**gap**",
                "",
                f"DPD {a.demographic_parity_difference:.3f}",
                f"EOD {a.equalized_odds_difference:.3f}",
            )
        )
    return markdown_table(("attribute", "group", "rows", "selection rate", "AUC"), rows)


def evaluate_bank_marketing(shared: Path, img: Path) -> Section | str:
    path = shared / "bank_marketing" / "bank-additional-full.csv.gz"
    if not path.exists():
        return f"bank_marketing ({path.name} absent)"
    frame = read_table(path)
    spec = TableSpec("y", drop=("duration",))
    protocols = _protocols(frame, spec, ("logistic", "gbm"))
    metrics = []
    for p in protocols:
        for family, auc in p.ours.items():
            gated = family == "gbm"
            metrics.append(
                Metric(
                    f"{p.name}: ROC-AUC, ours ({family})",
                    auc,
                    f">= {p.baseline:.4f}" if gated else None,
                    "target: the plain LightGBM" if gated else "the explainable family",
                )
            )
        metrics.append(Metric(f"{p.name}: ROC-AUC, plain LightGBM", p.baseline))
        metrics.append(Metric(f"{p.name}: top-decile lift, ours (gbm)", p.lift[0][1]))
    plot = _plot_lift(
        img / "bank_marketing_lift.png",
        "Bank Marketing: term-deposit lift",
        [(p.name, p.lift) for p in protocols],
    )
    return Section(
        title="Term-deposit propensity (UCI Bank Marketing)",
        data=f"`../shared/data/bank_marketing/{path.name}`, {frame.height:,} calls "
        "2008-2010, `duration` dropped (known only after the call)",
        metrics=metrics,
        notes=[
            "Published: Moro, Cortez & Rita (2014) report AUC 0.80 with a neural network on their "
            "own, larger 2008-2013 data with a rolling time window; not the same rows.",
            "The time-ordered protocol is much harder: the later calls (2010) have a far higher "
            "success rate and economic indicators outside the training range.",
            "Ours = `tactful.models.tabular` (one-hot encoding, calibration on the latest fifth, "
            "LightGBM refit with early-stopped rounds); plain = `LGBMClassifier()` defaults on the "
            "same columns and folds.",
            f"Lift curve: ![lift](img/{plot})",
        ],
    )


def evaluate_bank_churn(shared: Path, img: Path) -> Section | str:
    path = shared / "bank_churn" / "Churn_Modelling.csv"
    if not path.exists():
        return f"bank_churn ({path.name} absent)"
    frame = read_table(path)
    spec = TableSpec("Exited", drop=("RowNumber", "CustomerId", "Surname"), protected=("Gender",))
    blind = TableSpec(spec.target, drop=spec.drop, protected=("Gender", "Geography"))
    y = labels(frame, spec)
    gbm, oof = cross_validate(frame, spec, family="gbm")
    logit, _ = cross_validate(frame, spec, family="logistic")
    no_country, _ = cross_validate(frame, blind, family="gbm")
    base = [
        float(roc_auc_score(y[te], _baseline(frame, spec, tr, te)))
        for tr, te in folds_of(frame, spec)
    ]
    overall = classifier_metrics(y, oof)
    audited = {c: np.array(frame[c].to_list(), dtype=object) for c in ("Gender", "Geography")}
    fairness = fairness_report(y, oof, audited)
    plot = _plot_calibration(
        img / "bank_churn_calibration.png", "Bank churn: calibration", calibration_bins(y, oof)
    )
    auc = float(np.mean([m.roc_auc for m in gbm]))
    return Section(
        title="Churn (Bank Churn Modelling)",
        data=f"`../shared/data/bank_churn/{path.name}`, {frame.height:,} customers, stratified "
        "5-fold; Gender is audited and never a feature; Geography (country of residence) is a "
        "feature, as in the published work, and audited too",
        metrics=[
            Metric("ROC-AUC, ours (gbm)", auc, ">= 0.86"),
            Metric("ROC-AUC, ours (logistic)", float(np.mean([m.roc_auc for m in logit]))),
            Metric("ROC-AUC, plain LightGBM", float(np.mean(base))),
            Metric(
                "ROC-AUC, ours (gbm) without Geography",
                float(np.mean([m.roc_auc for m in no_country])),
            ),
            Metric("Brier (out of fold)", overall.brier),
            Metric("top-decile lift", overall.top_decile_lift),
        ],
        tables=[("Fairness (top-decile selection, out-of-fold scores)", _fairness_table(fairness))],
        notes=[
            "Published: no peer-reviewed figure for this Kaggle set; public notebooks report "
            "AUC about 0.85-0.87 with gradient boosting (using Geography and Gender as "
            "features).",
            "Customers in Germany and women churn more in this data, so an accurate model "
            "selects them more often; the gaps are in the fairness table, and the gate decides.",
            f"Calibration plot: ![calibration](img/{plot})",
        ],
    )


_GERMAN_COLUMNS = (
    "checking_status",
    "duration_months",
    "credit_history",
    "purpose",
    "credit_amount",
    "savings",
    "employment_since",
    "installment_rate",
    "personal_status_sex",
    "other_debtors",
    "residence_since",
    "property",
    "age",
    "other_installment_plans",
    "housing",
    "existing_credits",
    "job",
    "dependents",
    "telephone",
    "foreign_worker",
)


def _german_codes(doc: Path) -> dict[str, str]:
    codes: dict[str, str] = {}
    for line in doc.read_text("latin-1").splitlines():
        m = re.match(r"^\s*(A\d+)\s*:\s*(.+?)\s*$", line)
        if m:
            codes[m.group(1)] = re.sub(r"\s+", " ", m.group(2)).strip(" /")
    return codes


def evaluate_german_credit(shared: Path) -> Section | str:
    folder = shared / "german_credit"
    if not (folder / "german.data").exists():
        return "german_credit (german.data absent)"
    codes = _german_codes(folder / "german.doc") if (folder / "german.doc").exists() else {}
    raw = pl.read_csv(
        folder / "german.data",
        separator=" ",
        has_header=False,
        new_columns=[*_GERMAN_COLUMNS, "class"],
    )
    words = raw.with_columns(
        *[
            pl.col(c).replace_strict(codes, default=pl.col(c))
            for c, t in raw.schema.items()
            if t == pl.String
        ],
        pl.when(pl.col("personal_status_sex").is_in(["A92", "A95"]))
        .then(pl.lit("female"))
        .otherwise(pl.lit("male"))
        .alias("sex"),
        pl.when(pl.col("age") < 25)
        .then(pl.lit("under 25"))
        .otherwise(pl.lit("25 and over"))
        .alias("age_band"),
        (pl.col("class") == 2).cast(pl.Int8).alias("bad"),
    )
    spec = TableSpec(
        "bad", drop=("class", "personal_status_sex", "age"), protected=("sex", "age_band")
    )
    y = labels(words, spec)
    folds, oof = cross_validate(words, spec, family="logistic")
    gbm, _ = cross_validate(words, spec, family="gbm")
    base = [
        float(roc_auc_score(y[te], _baseline(words, spec, tr, te)))
        for tr, te in folds_of(words, spec)
    ]
    # german.doc: predicting bad for a good applicant costs 1, good for a bad one costs 5, so
    # refuse when P(bad) > 1 / (1 + 5).
    refuse = oof > 1 / 6
    cost = float((5 * ((~refuse) & (y == 1)).sum() + (refuse & (y == 0)).sum()) / len(y))
    fairness = fairness_report(
        y,
        oof,
        {c: np.array(words[c].to_list(), dtype=object) for c in spec.protected},
        threshold=1 / 6,
    )
    result = train_table(words, spec, family="logistic", protocol="stratified")
    model, enc = result.model, result.encoder
    example = enc.transform(words[int(result.test_index[int(np.argmax(result.p_test))])])
    reasons = model.reasons(example, k=4)[0]
    return Section(
        title="Credit risk with reason codes (German Credit, Statlog)",
        data="`../shared/data/german_credit/german.data`, 1,000 applicants, stratified 5-fold; "
        "the explainable logistic model; sex and age band audited, not features",
        metrics=[
            Metric("ROC-AUC, ours (logistic)", float(np.mean([m.roc_auc for m in folds]))),
            Metric("ROC-AUC, ours (gbm)", float(np.mean([m.roc_auc for m in gbm]))),
            Metric("ROC-AUC, plain LightGBM", float(np.mean(base))),
            Metric(
                "average cost per applicant (cost matrix of german.doc)",
                cost,
                "<= 0.7",
                "0.7 = refuse everyone; 1.5 = accept everyone",
            ),
        ],
        tables=[
            (
                "Reason codes of the applicant scored riskiest on a held-out fold",
                markdown_table(
                    ("factor", "log-odds"), [(r.text, f"{r.contribution:+.2f}") for r in reasons]
                ),
            ),
            ("Fairness (refuse when P(bad) > 1/6)", _fairness_table(fairness)),
        ],
        notes=[
            "Published: the Statlog comparison (Michie, Spiegelhalter & Taylor 1994) reports an "
            "average cost of about 0.54 for discriminant and logistic models with this matrix.",
        ],
    )


def evaluate_ulb(shared: Path) -> Section | str:
    path = shared / "ulb_creditcard_fraud_sample" / "creditcard_sample.csv"
    if not path.exists():
        return f"ulb_creditcard_fraud_sample ({path.name} absent)"
    frame = pl.read_csv(path)
    names = [f"V{i}" for i in range(1, 29)]
    x = np.column_stack(
        [frame.select(names).to_numpy(), np.log1p(frame["Amount"].to_numpy())]
    ).astype(np.float64)
    y = frame["Class"].to_numpy()
    model = AnomalyModel(seed=0).fit(x, [*names, "log_amount"])
    auc = float(roc_auc_score(y, model.predict(x)))
    return Section(
        title="Unsupervised fraud detection (ULB credit-card sample)",
        data=f"`../shared/data/ulb_creditcard_fraud_sample/{path.name}`: all 492 frauds and "
        "1,230 non-frauds of the 284,807 ULB transactions; labels used only to score",
        metrics=[Metric("ROC-AUC, ours (Isolation Forest, no labels)", auc)],
        notes=[
            "Published: Dal Pozzolo et al. (2015), who released the data, report supervised "
            "results; for an unsupervised Isolation Forest on the full set, public comparisons "
            "(not peer-reviewed) commonly show ROC-AUC around 0.95.",
            "The sample holds 28.6% fraud, so the forest's contamination is far above the real "
            "0.17%; ROC-AUC is rank-based and comparable, precision figures would not be.",
        ],
    )


def evaluate_simulated_models(bank: EvalBank, workdir: Path, say: Say) -> list[Section]:
    """Churn AUC and fraud precision / recall against the simulator's truth."""
    store = bank.store
    registry = ModelRegistry(store, workdir / "models")
    history = load_history(store)
    sections = []
    say("models: churn on the simulated bank")
    truth = pl.read_parquet(bank.truth / "churn.parquet")
    results = {}
    for family in ("logistic", "gbm"):
        results[family] = train_customer_model(
            store, registry, Target.churn(), family=family, history=history, created_by="eval"
        )
    r = results["logistic"]
    cutoff = r.split.test.cutoffs[0]
    end = cutoff + timedelta(days=90)
    closing = truth.filter(
        pl.col("closure_date").is_not_null()
        & (pl.col("closure_date").str.to_date() >= cutoff.date())
        & (pl.col("closure_date").str.to_date() < end.date())
    )["customer_id"].to_list()
    metrics = []
    for family, res in results.items():
        y_truth = np.isin(np.array(res.split.test.customer_ids), closing).astype(np.int8)
        m = classifier_metrics(y_truth, res.test_scores)
        metrics.append(Metric(f"churn ROC-AUC vs truth ({family})", m.roc_auc))
        metrics.append(Metric(f"churn top-decile lift vs truth ({family})", m.top_decile_lift))
    metrics.append(
        Metric(
            "churners in the test window (truth)",
            int(np.isin(np.array(r.split.test.customer_ids), closing).sum()),
        )
    )
    fair = r.version.fairness
    sections.append(
        Section(
            title="Churn on the simulated bank",
            data=f"{bank.config.customers:,} simulated customers x {bank.config.months} months "
            f"(seed {bank.config.seed}); {r.split.protocol}; truth = accounts closed within 90 "
            "days",
            metrics=metrics,
            tables=[
                (
                    "Fairness of the logistic model (store's protected attributes)",
                    _fairness_table(fair),
                )
            ]
            if fair
            else [],
            notes=[
                "Labels for training come from the store (closures and dormancy), never from the "
                "truth; the truth only scores the test cutoff."
            ],
        )
    )
    say("models: anomaly on the simulated bank")
    fraud = pl.read_parquet(bank.truth / "fraud.parquet")
    reference_end = history.end - timedelta(days=182)
    anomaly = train_anomaly_model(
        store,
        registry,
        history=history,
        reference_end=reference_end,
        score_since=reference_end,
        created_by="eval",
    )
    ids = anomaly.features["external_id"].fill_null(anomaly.features["id"]).to_numpy()
    is_fraud = np.isin(ids, fraud["transaction_id"].to_numpy())
    alerts = anomaly.alerts
    tp = int((alerts & is_fraud).sum())
    precision = tp / max(int(alerts.sum()), 1)
    recall = tp / max(int(is_fraud.sum()), 1)
    auc = float(roc_auc_score(is_fraud, anomaly.scores)) if is_fraud.any() else None
    sections.append(
        Section(
            title="Fraud on the simulated bank (anomaly model)",
            data=f"card and online debits of the last 6 months ({len(ids):,}, of which "
            f"{int(is_fraud.sum()):,} fraudulent attempts), against statistics of the 6 months "
            "before; fraud ids matched on the export's own ids (`external_id`)",
            metrics=[
                Metric("precision at the operating threshold (0.2% alert rate)", precision),
                Metric("recall at the operating threshold", recall),
                Metric("ROC-AUC", auc),
                Metric("alerts raised", int(alerts.sum())),
            ],
            notes=[
                "Unsupervised: the model never sees a fraud label. Fraud is about 0.05% of "
                "card payments, so even a good detector pays for recall with false alerts."
            ],
        )
    )
    return sections


def evaluate_models(shared: Path, img: Path, say: Say) -> tuple[list[Section], list[str]]:
    sections: list[Section] = []
    skipped: list[str] = []
    runs: list[tuple[str, Callable[[], Section | str]]] = [
        ("bank marketing", lambda: evaluate_bank_marketing(shared, img)),
        ("bank churn", lambda: evaluate_bank_churn(shared, img)),
        ("german credit", lambda: evaluate_german_credit(shared)),
        ("ULB fraud", lambda: evaluate_ulb(shared)),
    ]
    for label, run in runs:
        say(f"models: {label}")
        out = run()
        if isinstance(out, Section):
            sections.append(out)
        else:
            skipped.append(out)
    return sections, skipped
