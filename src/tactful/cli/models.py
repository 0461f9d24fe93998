"""The model layer's commands: ``train``, ``score``, and ``models list|show|promote|drift``."""

from __future__ import annotations

from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from tactful.cli.render import plain, progress_bar
from tactful.errors import ConfigError

# The application layer is imported inside the commands that use it: `tactful --help` must not
# pay for the engine behind it (tests/cli/test_startup.py).
if TYPE_CHECKING:
    from collections.abc import Callable, Iterator

    from tactful.service.context import Store
    from tactful.service.models import (
        Bands,
        BatchResult,
        ModelRegistry,
        ModelVersion,
        TableRead,
        Tracker,
    )

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


@contextmanager
def _registry(db: str | None, model_dir: Path | None) -> Iterator[tuple[Store, ModelRegistry]]:
    from tactful.service.context import session
    from tactful.service.models import registry

    with session(db) as store:
        yield store, registry(store, model_dir=model_dir)


@contextmanager
def _tracked(out: Console) -> Iterator[Tracker]:
    """One progress bar; each task the application layer starts is a line of it."""
    with progress_bar(out, "models") as progress:

        def track(label: str, steps: int) -> Callable[[], object]:
            task = progress.add_task(label, total=steps)
            return lambda: progress.advance(task)

        yield track


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
    family: Annotated[str, typer.Option(
        "--family", help="churn, propensity, anomaly, or a warning's risk: shortfall, income_late"
    )] = "churn",
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
    from tactful.service.models import train, train_table

    algorithms = ALGORITHMS if algorithm == "both" else (algorithm,)
    with _registry(db, model_dir) as (store, registry):
        if table is None:
            with _tracked(console) as track:
                versions = train(store, registry, family=family, algorithms=algorithms,
                                 product=product, by=by, track=track)
        else:
            if not target:
                raise ConfigError("--table needs --target, the label column")
            versions = train_table(
                registry, path=table, table=_read_table(table), target=target,
                positive=positive, drop=drop or (), protected=protected or (),
                bands=parse_bands(bands), algorithms=algorithms, protocol=protocol,
                folds=folds, name=name, by=by,
            )
    console.print(versions_table(versions, "Registered (candidates)"))
    console.print("Promote one with: tactful models promote NAME VERSION --by WHO")


def _read_table(path: Path) -> TableRead:
    """The table, with a warning of how many values were read as missing."""
    from tactful.service.models import read_table

    read = read_table(path)
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
    with _registry(db, model_dir) as (_, registry):
        versions = registry.versions(name)
    console.print(versions_table(versions))


@models_app.command("show")
def show_command(
    name: str,
    version: Annotated[int | None, typer.Argument()] = None,
    db: DbUrl = None,
    model_dir: ModelDir = None,
) -> None:
    """A version's model card and fairness figures by group (default: the production version,
    or else the latest, said so)."""
    with _registry(db, model_dir) as (_, registry):
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
    from tactful.service.models import PromotionRefused, promote

    with _registry(db, model_dir) as (_, registry):
        try:
            v = promote(registry, name=name, version=version, by=by, min_auc=min_auc,
                        min_lift=min_lift, max_dpd=max_dpd, max_eod=max_eod)
        except PromotionRefused as exc:
            console.print(
                f"[red]refused:[/red] {name} v{version} stays a "
                f"{registry.get(name, version).stage}"
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
    from tactful.service.models import drift

    with _registry(db, model_dir) as (store, registry):
        mv = _monitored(registry, name)
        rows = None if table is None else _read_table(table).frame
        report = drift(store, registry, name=name, version=mv.version, rows=rows)
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
    from tactful.service.models import monitored

    mv = monitored(registry, name)
    if mv.stage != "production":
        console.print(
            f"[yellow]{escape(name)}: no version in production; showing v{mv.version} "
            f"({mv.stage})[/yellow]"
        )
    return mv


def _stage_suffix(mv: ModelVersion) -> str:
    """`` (candidate, not promoted)`` after a version that is not the production one."""
    from tactful.service.models import stage_note

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
    from tactful.service.models import choose_versions, score_customers, score_one

    if table is not None and (names or customer):
        raise ConfigError("--table scores a table with one --model: drop the model names and "
                          "--customer")
    table_only = {"--model": model, "--version": version, "--out": out, "--id": keep}
    stray = [flag for flag, value in table_only.items() if value is not None]
    if table is None and stray:
        raise ConfigError(f"{', '.join(stray)}: only with --table FILE")
    with _registry(db, model_dir) as (store, registry):
        if table is not None:
            _score_table(registry, table, model, version, candidate, out, keep or [])
            return
        chosen = choose_versions(registry, names=names or None, candidate=candidate)
        for left_out in chosen.left_out:
            console.print(f"[yellow]not scored:[/yellow] {escape(left_out)}")
        if customer:
            for mv, s in score_one(store, registry, versions=chosen.versions,
                                   customer_id=customer):
                console.print(
                    f"{escape(mv.name)} v{mv.version}{_stage_suffix(mv)}: "
                    f"[bold]{s.score:.3f}[/bold]"
                )
                for r in s.reasons:
                    console.print(f"  - {escape(r.text)}")
            return
        with progress_bar(console, "models") as progress:
            task = progress.add_task("score", total=len(chosen.versions))

            def scored(result: BatchResult) -> None:
                progress.advance(task)
                mv = result.version
                console.print(
                    f"{escape(mv.name)} v{mv.version}{_stage_suffix(mv)}: {result.scored:,} "
                    f"customers scored, {result.skipped_for_consent:,} left out for consent"
                )

            score_customers(store, registry, versions=chosen.versions, candidate=candidate,
                            on_scored=scored)


def _score_table(
    registry: ModelRegistry,
    table: Path,
    model: str | None,
    version: int | None,
    candidate: bool,
    out: Path | None,
    keep: list[str],
) -> None:
    from tactful.service.models import score_table

    if not model:
        raise ConfigError("--table needs --model, the table model to score with")
    if out is None:
        raise ConfigError("--table needs --out, the .csv or .parquet file to write the scores to")
    scored = score_table(registry, table=_read_table(table), model=model, out=out,
                         version=version, candidate=candidate, keep=keep)
    mv = scored.version
    console.print(
        f"{escape(mv.name)} v{mv.version}{_stage_suffix(mv)}: {scored.frame.height:,} rows "
        f"scored -> {escape(str(out))}"
    )


def scores_table(store: Store, customer_id: str) -> Table | None:
    """The customer's stored scores with their reasons, for ``tactful profile``."""
    from tactful.service.models import stored_scores

    rows = stored_scores(store, customer_id=customer_id)
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
    """The demo's model step (``tactful.service.models.demo_models``), told: a refused model
    scores no one, and the demo says so and stops there."""
    from tactful.service.models import demo_models as run

    with _tracked(out) as track:
        step = run(store, track=track)
    if step.propensity_error is not None:
        out.print(f"[yellow]propensity not trained:[/yellow] {escape(step.propensity_error)}")
    out.print(versions_table(step.versions))
    out.print(
        f"anomaly v{step.anomaly.version}: {step.anomaly_alerts:,} alerts among "
        f"{step.anomaly_payments:,} card and online payments of the last 30 days"
    )
    best = step.best
    out.print(f"validation: {step.validation}")
    if step.refused:
        out.print(f"[red]promotion of {best.name} v{best.version} refused:[/red]")
        for reason in step.refused:
            out.print(f"  - {escape(reason)}")
        out.print(
            f"[bold]{best.name} v{best.version} scores no one:[/bold] only a promoted model "
            "writes scores into the profiles. A person may promote it (tactful models promote "
            f"{best.name} {best.version} --by WHO) or score with it anyway (tactful score "
            f"{best.name} --candidate), and its scores then say 'candidate, not promoted'."
        )
        out.print(
            "drift of the candidate since training: "
            + (", ".join(step.drifted) or "none above PSI 0.2")
        )
        return
    out.print(f"promoted {best.name} v{best.version} ({best.family}) to production")
    if step.scored is not None:
        out.print(
            f"{step.scored.scored:,} customers scored, {step.scored.skipped_for_consent:,} left "
            "out because they have not granted both profiling and personalization"
        )
    out.print("drift since training: " + (", ".join(step.drifted) or "none above PSI 0.2"))
    if step.top is None:
        return
    table = scores_table(store, step.top)
    if table is not None:
        out.print(escape(f"customer {step.top}, the most likely to leave:"))
        out.print(table)
    out.print(escape(f"in-process real-time score of {step.top}: {step.top_score:.3f} in "
                     f"{step.top_ms:.2f} ms"))
