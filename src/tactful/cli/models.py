"""The model layer's commands: ``train``, ``score``, and ``models list|show|promote|drift``."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from tactful.cli.render import plain, progress_bar
from tactful.errors import ConfigError

# The engine is imported inside the commands that use it: `tactful --help` must not pay for
# it (tests/cli/test_startup.py).
if TYPE_CHECKING:
    from tactful.models.fairness import Bands
    from tactful.models.history import History
    from tactful.models.registry import ModelRegistry, ModelVersion
    from tactful.models.tabular import TableRead
    from tactful.store.store import Store

console = Console()
models_app = typer.Typer(no_args_is_help=True, help="The model registry: versions and stages.")

DbUrl = Annotated[
    str | None,
    typer.Option("--db", help="Store URL; default TACTFUL_DATABASE_URL or sqlite:///tactful.db"),
]
ModelDir = Annotated[
    Path | None, typer.Option("--model-dir", help="Artifacts folder; default TACTFUL_MODEL_DIR")
]
ALGORITHMS = ("logistic", "gbm")


def _registry(db: str | None, model_dir: Path | None) -> tuple[Store, ModelRegistry]:
    from tactful.models.registry import ModelRegistry
    from tactful.store.store import Store

    store = Store.open(db)
    return store, ModelRegistry(store, model_dir)


def train_models(
    store: Store,
    registry: ModelRegistry,
    family: str,
    *,
    algorithms: tuple[str, ...] = ALGORITHMS,
    product: str = "savings",
    by: str = "cli",
    history: History | None = None,
) -> list[ModelVersion]:
    """Train ``family`` (churn, propensity or anomaly) on the store with a progress bar."""
    from tactful.models.history import load_history
    from tactful.models.train import train_anomaly_model, train_customer_model
    from tactful.models.training import Target

    if family not in ("churn", "propensity", "anomaly"):
        raise ConfigError(f"--family must be churn, propensity or anomaly, got {family!r}")
    steps = 1 if family == "anomaly" else len(algorithms)
    out: list[ModelVersion] = []
    with progress_bar(console, "models") as progress:
        task = progress.add_task(f"train {family}", total=steps + (history is None))
        if history is None:
            history = load_history(store)
            progress.advance(task)
        if family == "anomaly":
            out.append(train_anomaly_model(store, registry, created_by=by, history=history).version)
            progress.advance(task)
        else:
            target = Target.churn() if family == "churn" else Target.propensity(product)
            for algorithm in algorithms:
                result = train_customer_model(
                    store, registry, target, family=algorithm, created_by=by, history=history
                )
                out.append(result.version)
                progress.advance(task)
    return out


def versions_table(versions: list[ModelVersion], title: str = "Model registry") -> Table:
    """One row per version; narrow enough for an 80-column terminal."""
    table = Table(title=title)
    numeric = {"v", "AUC", "PR-AUC", "Brier", "lift"}
    for col in (
        "model",
        "v",
        "family",
        "stage",
        "AUC",
        "PR-AUC",
        "Brier",
        "lift",
        "fair",
        "promoted",
    ):
        table.add_column(col, justify="right" if col in numeric else "left")
    for v in versions:
        m = v.metrics

        def fig(key: str, m: dict[str, float] = m) -> str:
            return f"{m[key]:.3f}" if key in m else "-"

        fair = "-" if v.fairness is None else ("pass" if v.fairness.passed else "[red]fail")
        promoted = escape(f"{v.promoted_at:%Y-%m-%d} {v.promoted_by}") if v.promoted_at else ""
        table.add_row(
            v.name,
            str(v.version),
            v.family,
            v.stage,
            fig("roc_auc"),
            fig("pr_auc"),
            fig("brier"),
            fig("top_decile_lift"),
            fair,
            promoted,
        )
    return table


def parse_bands(values: list[str] | None) -> dict[str, Bands]:
    """``--bands`` values: ``25,35,45`` or ``auto`` for every numeric protected column, or
    ``age=25,35,45`` / ``age=auto`` for one."""

    out: dict[str, Bands] = {}
    for value in values or []:
        column, _, spec = value.rpartition("=")
        column = column.strip() or "*"
        spec = spec.strip()
        if spec.lower() == "auto":
            out[column] = "auto"
            continue
        try:
            out[column] = tuple(float(x) for x in spec.split(","))
        except ValueError as exc:
            raise ConfigError(
                f"--bands {value!r}: give auto or comma-separated numbers, e.g. 25,35,45,55,65"
            ) from exc
    return out


def train_command(
    family: Annotated[str, typer.Option("--family", help="churn, propensity or anomaly")] = "churn",
    algorithm: Annotated[str, typer.Option("--algorithm", help="logistic, gbm or both")] = "both",
    product: Annotated[
        str, typer.Option(help="Propensity: the account type or product id to predict")
    ] = "savings",
    table: Annotated[
        Path | None, typer.Option("--table", help="Train from a labelled CSV / Parquet table")
    ] = None,
    target: Annotated[str | None, typer.Option("--target", help="The table's label column")] = None,
    positive: Annotated[str | None, typer.Option(help="The label value meaning yes")] = None,
    drop: Annotated[list[str] | None, typer.Option(help="Table columns not to use")] = None,
    protected: Annotated[
        list[str] | None, typer.Option(help="Protected table columns: audited, never features")
    ] = None,
    bands: Annotated[
        list[str] | None,
        typer.Option(
            help="Bands of a numeric protected column: 25,35,45,55,65 or auto (quintiles); "
            "age=... for one column"
        ),
    ] = None,
    protocol: Annotated[
        str, typer.Option(help="Table validation: time, stratified or cv (k-fold)")
    ] = "time",
    folds: Annotated[int, typer.Option(help="Folds of --protocol cv", min=2)] = 5,
    name: Annotated[str | None, typer.Option(help="Registry name (tables)")] = None,
    by: Annotated[str, typer.Option("--by", help="Who trains (recorded)")] = "cli",
    db: DbUrl = None,
    model_dir: ModelDir = None,
) -> None:
    """Train and register candidate models from the store, or from a labelled table."""
    from tactful.models.tabular import TableSpec
    from tactful.models.train import train_table_model

    store, registry = _registry(db, model_dir)
    algorithms = ALGORITHMS if algorithm == "both" else (algorithm,)
    if table is None:
        versions = train_models(
            store, registry, family, algorithms=algorithms, product=product, by=by
        )
    else:
        if not target:
            raise ConfigError("--table needs --target, the label column")
        spec = TableSpec(
            target, positive, tuple(drop or ()), tuple(protected or ()), parse_bands(bands)
        )
        read = _read_table(table)
        versions = [
            train_table_model(
                registry,
                table,
                spec,
                family=alg,
                protocol=protocol,
                folds=folds,
                name=name,
                created_by=by,
                table=read,
            )
            for alg in algorithms
        ]
    console.print(versions_table(versions, "Registered (candidates)"))
    console.print("Promote one with: tactful models promote NAME VERSION --by WHO")


def _read_table(path: Path) -> TableRead:
    """The table, with a warning of how many values were read as missing."""
    from tactful.models.tabular import load_table

    read = load_table(path)
    warning = read.warning()
    if warning:
        console.print(f"[yellow]warning:[/yellow] {path.name}: {escape(warning)}")
    return read


@models_app.command("list")
def list_command(
    name: Annotated[str | None, typer.Argument(help="Only this model")] = None,
    db: DbUrl = None,
    model_dir: ModelDir = None,
) -> None:
    """Every model version with its stage, metrics and fairness verdict."""
    _, registry = _registry(db, model_dir)
    console.print(versions_table(registry.versions(name)))


@models_app.command("show")
def show_command(
    name: str,
    version: Annotated[int | None, typer.Argument()] = None,
    db: DbUrl = None,
    model_dir: ModelDir = None,
) -> None:
    """A version's model card and fairness figures by group (default: the production version,
    or else the latest, said so)."""
    _, registry = _registry(db, model_dir)
    v = registry.get(name, version) if version is not None else _monitored(registry, name)
    console.print(v.model_card)
    console.print(escape(f"artifact {v.artifact_path} sha256 {v.artifact_sha256}"))
    if v.fairness:
        for a in v.fairness.attributes:
            t = Table(title=f"by {a.attribute}")
            for col in ("group", "rows", "selection rate", "AUC"):
                t.add_column(col, justify="left" if col == "group" else "right")
            for g in a.groups:
                t.add_row(
                    g.group,
                    f"{g.rows:,}",
                    f"{g.selection_rate:.3f}",
                    "-" if g.auc is None else f"{g.auc:.3f}",
                )
            console.print(t)


@models_app.command("promote")
def promote_command(
    name: str,
    version: int,
    by: Annotated[str, typer.Option("--by", help="Who promotes (recorded)")],
    min_auc: Annotated[float, typer.Option(help="ROC-AUC floor")] = 0.65,
    min_lift: Annotated[float, typer.Option(help="Top-decile lift floor")] = 1.5,
    max_dpd: Annotated[float, typer.Option(help="Largest demographic parity difference")] = 0.10,
    max_eod: Annotated[float, typer.Option(help="Largest equalized odds difference")] = 0.10,
    db: DbUrl = None,
    model_dir: ModelDir = None,
) -> None:
    """Make a version the production one, if it passes the metric floors and the fairness gate."""
    from tactful.models.fairness import FairnessGate
    from tactful.models.registry import MetricFloors, PromotionRefused

    _, registry = _registry(db, model_dir)
    floors = MetricFloors(min_auc, min_lift, fairness=FairnessGate(max_dpd, max_eod))
    try:
        v = registry.promote(name, version, by=by, floors=floors)
    except PromotionRefused as exc:
        console.print(
            f"[red]refused:[/red] {name} v{version} stays a {registry.get(name, version).stage}"
        )
        for reason in exc.reasons:
            console.print(f"  - {escape(reason)}")
        raise typer.Exit(code=4) from exc
    console.print(f"{v.name} v{v.version} is in production (promoted by {v.promoted_by})")


@models_app.command("drift")
def drift_command(
    name: str,
    table: Annotated[
        Path | None,
        typer.Option("--table", help="A table model: today's rows to compare (CSV / Parquet)"),
    ] = None,
    db: DbUrl = None,
    model_dir: ModelDir = None,
) -> None:
    """PSI of each feature and of the score between the training window and now."""
    from tactful.models.train import drift_now

    store, registry = _registry(db, model_dir)
    mv = _monitored(registry, name)
    rows = None if table is None else _read_table(table).frame
    report = drift_now(store, registry, name, version=mv.version, table=rows)
    t = Table(title=f"Drift of {name} (retrain above PSI {report.threshold})")
    t.add_column("feature")
    t.add_column("PSI", justify="right")
    for feature, value in sorted(report.psi.items(), key=lambda kv: -kv[1]):
        label = escape(feature)
        t.add_row(label, f"[red]{value:.3f}" if value > report.threshold else f"{value:.3f}")
    console.print(t)
    drifted = escape(", ".join(report.drifted))
    console.print("retrain: " + (drifted if report.retrain else "not needed"))


def _monitored(registry: ModelRegistry, name: str) -> ModelVersion:
    """The version to look at when none is named: the production one, or else the latest,
    with a line saying it is not in production (monitoring may look at a candidate; scoring
    may not)."""
    mv = registry.latest(name)
    if mv.stage != "production":
        console.print(
            f"[yellow]{escape(name)}: no version in production; showing v{mv.version} "
            f"({mv.stage})[/yellow]"
        )
    return mv


def _stage_suffix(mv: ModelVersion) -> str:
    """`` (candidate, not promoted)`` after a version that is not the production one."""
    from tactful.models.scoring import stage_note

    note = stage_note(mv.stage)
    return f" [yellow]({note})[/yellow]" if note else ""


def score_command(
    names: Annotated[
        list[str] | None, typer.Argument(help="Models (default: every customer model)")
    ] = None,
    customer: Annotated[
        str | None, typer.Option(help="Score one customer in-process instead")
    ] = None,
    table: Annotated[
        Path | None,
        typer.Option("--table", help="Score the rows of a CSV / Parquet table (with --model)"),
    ] = None,
    model: Annotated[
        str | None, typer.Option("--model", help="--table: the table model to score with")
    ] = None,
    version: Annotated[
        int | None,
        typer.Option(
            "--version", help="--table: a version (default: production; another needs --candidate)"
        ),
    ] = None,
    candidate: Annotated[
        bool,
        typer.Option(
            "--candidate",
            help="Score with a version the gate has not let through: a model with no production "
            "version scores with its latest candidate (or --table --version N), and every score "
            "says 'candidate, not promoted'",
        ),
    ] = False,
    out: Annotated[
        Path | None, typer.Option("--out", help="--table: where to write scores (.csv, .parquet)")
    ] = None,
    keep: Annotated[
        list[str] | None, typer.Option("--id", help="--table: columns to copy beside the scores")
    ] = None,
    db: DbUrl = None,
    model_dir: ModelDir = None,
) -> None:
    """Batch-score consenting customers into the profile with each model's production version,
    or score the rows of a bank's table with a table model (--table FILE --model NAME). Only a
    promoted version scores, unless --candidate says otherwise."""
    from tactful.models.features import FEATURES
    from tactful.models.history import load_history
    from tactful.models.scoring import RealtimeScorer, scorable_features, score_customers
    from tactful.models.training import scoring_time

    if table is not None and (names or customer):
        raise ConfigError("--table scores a table with one --model: drop the model names and "
                          "--customer")
    table_only = {"--model": model, "--version": version, "--out": out, "--id": keep}
    stray = [flag for flag, value in table_only.items() if value is not None]
    if table is None and stray:
        raise ConfigError(f"{', '.join(stray)}: only with --table FILE")
    store, registry = _registry(db, model_dir)
    if table is not None:
        _score_table(registry, table, model, version, candidate, out, keep or [])
        return
    wanted = names or sorted(
        {
            v.name
            for v in registry.versions()
            if v.kind == "classifier" and set(v.features) <= set(FEATURES)
        }
    )
    if not wanted:
        raise ConfigError("no customer model in the registry: run tactful train first")
    chosen = _scoring_versions(registry, wanted, candidate=candidate, named=bool(names))
    history = load_history(store)
    if customer:
        feats, _ = scorable_features(store, history, scoring_time(history))
        for mv in chosen:
            scorer = RealtimeScorer.from_features(registry.load(mv).model, mv, feats)
            s = scorer.score(customer)
            console.print(
                f"{escape(mv.name)} v{mv.version}{_stage_suffix(mv)}: [bold]{s.score:.3f}[/bold]"
            )
            for r in s.reasons:
                console.print(f"  - {escape(r.text)}")
        return
    with progress_bar(console, "models") as progress:
        task = progress.add_task("score", total=len(chosen))
        for mv in chosen:
            result = score_customers(
                store, registry, mv.name, version=mv.version, candidate=candidate, history=history
            )
            progress.advance(task)
            console.print(
                f"{escape(mv.name)} v{mv.version}{_stage_suffix(mv)}: {result.scored:,} "
                f"customers scored, {result.skipped_for_consent:,} left out for consent"
            )


def _scoring_versions(
    registry: ModelRegistry, names: list[str], *, candidate: bool, named: bool
) -> list[ModelVersion]:
    """The version each model scores with, all chosen before anything is written. A model
    named on the command line with no production version stops the command; one taken by
    default is left out with a warning, and the command stops only if none is left."""
    from tactful.models.registry import NoProductionVersion
    from tactful.models.scoring import scoring_version

    chosen: list[ModelVersion] = []
    refused: list[NoProductionVersion] = []
    for name in names:
        try:
            chosen.append(scoring_version(registry, name, candidate=candidate))
        except NoProductionVersion as exc:
            if named:
                raise
            refused.append(exc)
    if refused and not chosen:
        raise refused[0]
    for left_out in refused:
        console.print(f"[yellow]not scored:[/yellow] {escape(str(left_out))}")
    return chosen


def _score_table(
    registry: ModelRegistry,
    table: Path,
    model: str | None,
    version: int | None,
    candidate: bool,
    out: Path | None,
    keep: list[str],
) -> None:
    from tactful.models.scoring import score_table, write_table

    if not model:
        raise ConfigError("--table needs --model, the table model to score with")
    if out is None:
        raise ConfigError("--table needs --out, the .csv or .parquet file to write the scores to")
    scored = score_table(
        registry,
        _read_table(table).frame,
        model,
        version=version,
        candidate=candidate,
        keep=keep,
    )
    write_table(scored.frame, out)
    mv = scored.version
    console.print(
        f"{escape(mv.name)} v{mv.version}{_stage_suffix(mv)}: {scored.frame.height:,} rows "
        f"scored -> {escape(str(out))}"
    )


def scores_table(store: Store, customer_id: str) -> Table | None:
    """The customer's stored scores with their reasons, for ``tactful profile``."""
    from tactful.models.scoring import stored_scores

    rows = stored_scores(store, customer_id)
    if not rows:
        return None
    table = Table(title="Model scores", title_justify="left", expand=True)
    for col in ("model", "v", "score", "why"):
        table.add_column(col, justify="right" if col in {"v", "score"} else "left")
    for row in rows:
        model = f"{row.model} ({row.note})" if row.note else row.model
        table.add_row(*plain(model, row.version, f"{row.score:.3f}", "; ".join(row.reasons) or "-"))
    return table


def demo_models(out: Console, store: Store) -> None:
    """The demo's model step: train churn (both families) and the anomaly model, try to
    promote the better churn model through the gate and, only if it passes, score everyone and
    show one customer. A refused model scores no one: the demo says so and stops there."""
    import time

    from tactful.errors import ValidationError
    from tactful.models.history import load_history
    from tactful.models.registry import ModelRegistry, PromotionRefused
    from tactful.models.scoring import RealtimeScorer, scorable_features, score_customers
    from tactful.models.train import drift_now, train_anomaly_model
    from tactful.models.training import scoring_time

    registry = ModelRegistry(store)
    history = load_history(store)
    churn = train_models(store, registry, "churn", by="demo", history=history)
    anomaly = train_anomaly_model(store, registry, created_by="demo", history=history)
    try:
        train_models(store, registry, "propensity", product="savings", by="demo", history=history)
    except ValidationError as exc:
        out.print(f"[yellow]propensity not trained:[/yellow] {escape(str(exc))}")
    out.print(versions_table(registry.versions()))
    out.print(
        f"anomaly v{anomaly.version.version}: {int(anomaly.alerts.sum()):,} alerts among "
        f"{len(anomaly.scores):,} card and online payments of the last 30 days"
    )
    best = max(churn, key=lambda v: v.metrics.get("roc_auc", 0.0))
    out.print(f"validation: {best.validation}")
    try:
        best = registry.promote(best.name, best.version, by="demo")
        out.print(f"promoted {best.name} v{best.version} ({best.family}) to production")
    except PromotionRefused as exc:
        out.print(f"[red]promotion of {best.name} v{best.version} refused:[/red]")
        for reason in exc.reasons:
            out.print(f"  - {escape(reason)}")
        out.print(
            f"[bold]{best.name} v{best.version} scores no one:[/bold] only a promoted model "
            "writes scores into the profiles. A person may promote it (tactful models promote "
            f"{best.name} {best.version} --by WHO) or score with it anyway (tactful score "
            f"{best.name} --candidate), and its scores then say 'candidate, not promoted'."
        )
        drift = drift_now(store, registry, best.name, version=best.version, history=history)
        out.print(
            "drift of the candidate since training: "
            + (", ".join(drift.drifted) or "none above PSI 0.2")
        )
        return
    result = score_customers(store, registry, best.name, history=history)
    out.print(
        f"{result.scored:,} customers scored, {result.skipped_for_consent:,} left out because "
        "they have not granted both profiling and personalization"
    )
    drift = drift_now(store, registry, best.name, history=history)
    out.print("drift since training: " + (", ".join(drift.drifted) or "none above PSI 0.2"))
    feats, _ = scorable_features(store, history, scoring_time(history))
    model = registry.load(best).model
    scorer = RealtimeScorer.from_features(model, best, feats)
    x = feats.select(model.feature_names_).to_numpy()
    top = str(feats["customer_id"][int(model.predict(x).argmax())])
    started = time.perf_counter()
    live = scorer.score(top)
    took = (time.perf_counter() - started) * 1e3
    table = scores_table(store, top)
    if table is not None:
        out.print(escape(f"customer {top}, the most likely to leave:"))
        out.print(table)
    out.print(escape(f"in-process real-time score of {top}: {live.score:.3f} in {took:.2f} ms"))
