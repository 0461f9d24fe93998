"""Scoring: in batches into the profile (``customer_scores``), or one customer in-process.

Batch scoring computes every customer's features as of now, drops those who refused profiling
or personalization (``history.refused_customers``), and writes score and reasons in one
transaction. Only the production version scores by default: it alone passed the promotion gate
(metric floors and fairness). A candidate scores only when asked for (``candidate=True``,
``--candidate``), and every score it writes carries its stage, so wherever the score is shown it
says "candidate, not promoted".

The real-time scorer holds the features of every customer as one preloaded matrix, so scoring a
customer is a row lookup and a dot product (or one tree walk), well under a millisecond.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import NamedTuple

import numpy as np
import polars as pl
from numpy.typing import NDArray
from sqlalchemy import delete, select

from tactful.errors import NotFoundError, ValidationError
from tactful.models.base import FeatureInfo, Model, Reason, as_matrix
from tactful.models.features import FEATURES, customer_features
from tactful.models.history import History, load_history, refused_customers
from tactful.models.logistic import LogisticModel
from tactful.models.registry import ModelRegistry, ModelVersion, NoProductionVersion, Stage
from tactful.models.training import scoring_time
from tactful.spreadsheet import spreadsheet_safe_frame
from tactful.store import schema
from tactful.store.bulk import write_frame
from tactful.store.store import Store
from tactful.trust.privacy import mask

F64 = NDArray[np.float64]

_NOTES: dict[str, str] = {
    "production": "",
    "candidate": "candidate, not promoted",
    "archived": "archived, not in production",
}


def stage_note(stage: str) -> str:
    """What a score says of the version that made it: nothing for the production version,
    "candidate, not promoted" for a version the gate has not let through.

    >>> stage_note("candidate")
    'candidate, not promoted'
    >>> stage_note("production")
    ''
    """
    return _NOTES.get(stage, f"{stage}, not promoted")


@dataclass(frozen=True, slots=True)
class Score:
    customer_id: str
    model: str
    version: int
    score: float
    reasons: tuple[Reason, ...]


def _fmt_expr(value: pl.Expr) -> pl.Expr:
    """``base._fmt`` as a Polars expression."""
    whole = value == value.round(0)
    return (
        pl.when(whole & (value.abs() < 1e12))
        .then(value.cast(pl.Int64).cast(pl.String))
        .when(value.abs() < 100)
        .then(value.round(2).cast(pl.String))
        .otherwise(value.round(0).cast(pl.Int64).cast(pl.String))
    )


def reasons_json(model: Model, x: F64, k: int = 3) -> list[str]:
    """The top ``k`` reasons of each row as the JSON stored in ``customer_scores.reasons``:
    ``[{"feature", "contribution", "text"}, ...]``, the same texts as ``Model.reasons``.

    Formatted column-wise in Polars rather than row by row in Python: the reasons, not the
    scores, are most of the cost of a batch.
    """
    mat = as_matrix(x, len(model.feature_names_))
    contrib = model.contributions(mat)
    k = min(k, mat.shape[1])
    top = np.argsort(-contrib, axis=1, kind="stable")[:, :k]
    rows = np.arange(mat.shape[0])[:, None]
    names = list(model.feature_names_)
    infos = [model.feature_info_.get(n, FeatureInfo(n.replace("_", " "))) for n in names]
    esc = [json.dumps(i.label)[1:-1] for i in infos]
    units = [json.dumps(i.unit)[1:-1] for i in infos]
    keys = [json.dumps(n) for n in names]
    indicator = [i.indicator for i in infos]
    frame = pl.DataFrame(
        {
            **{f"j{s}": top[:, s] for s in range(k)},
            **{f"c{s}": contrib[rows, top][:, s] for s in range(k)},
            **{f"v{s}": mat[rows, top][:, s] for s in range(k)},
            **{f"t{s}": model.typical_[top[:, s]] for s in range(k)},
        }
    )
    parts = []
    for s in range(k):
        j = pl.col(f"j{s}")
        v, t, c = pl.col(f"v{s}"), pl.col(f"t{s}"), pl.col(f"c{s}")
        label = j.replace_strict(list(range(len(names))), esc, return_dtype=pl.String)
        unit = j.replace_strict(list(range(len(names))), units, return_dtype=pl.String)
        key = j.replace_strict(list(range(len(names))), keys, return_dtype=pl.String)
        is_ind = j.replace_strict(list(range(len(names))), indicator, return_dtype=pl.Boolean)
        text = (
            pl.when(~v.is_finite())
            .then(pl.concat_str([label, pl.lit(": unknown")]))
            .when(is_ind)
            .then(pl.when(v >= 0.5).then(label).otherwise(pl.concat_str([pl.lit("not "), label])))
            .when(v == t)
            .then(pl.concat_str([label, pl.lit(" "), _fmt_expr(v), unit, pl.lit(", as usual")]))
            .otherwise(
                pl.concat_str(
                    [
                        label,
                        pl.when(v > t).then(pl.lit(" high: ")).otherwise(pl.lit(" low: ")),
                        _fmt_expr(v),
                        unit,
                        pl.lit(" (typical "),
                        _fmt_expr(t),
                        unit,
                        pl.lit(")"),
                    ]
                )
            )
        )
        item = pl.concat_str(
            [
                pl.lit('{"feature": '),
                key,
                pl.lit(', "contribution": '),
                c.round(4).cast(pl.String),
                pl.lit(', "text": "'),
                text,
                pl.lit('"}'),
            ]
        )
        parts.append(pl.when(c > 0).then(item).otherwise(pl.lit(None, dtype=pl.String)))
    joined = frame.select(
        pl.concat_str(
            [pl.lit("["), pl.concat_list(parts).list.drop_nulls().list.join(", "), pl.lit("]")]
        ).alias("reasons")
    )
    return joined["reasons"].to_list()


def score_matrix(
    model: Model, x: F64, customer_ids: Sequence[str], version: ModelVersion, *, k: int = 3
) -> pl.DataFrame:
    """A frame shaped like ``customer_scores`` for the rows of ``x``."""
    if len(customer_ids) != x.shape[0]:
        raise ValidationError(f"{len(customer_ids)} customer ids for {x.shape[0]} rows")
    return pl.DataFrame(
        {
            "customer_id": list(customer_ids),
            "model_name": [version.name] * len(customer_ids),
            "model_version": [version.version] * len(customer_ids),
            "model_stage": [version.stage] * len(customer_ids),
            "score": model.predict(x),
            "reasons": reasons_json(model, x, k),
            "scored_at": [datetime.now(UTC)] * len(customer_ids),
        },
        schema_overrides={"scored_at": pl.Datetime("us", "UTC")},
    )


def write_scores(store: Store, frame: pl.DataFrame, *, replace_all: bool = False) -> int:
    """Replace these customers' scores by these models in one transaction (delete, then one
    bulk insert: cheaper than an upsert, and JSON has no equality to compare on PostgreSQL).

    ``replace_all`` drops every earlier score of the models first, so a customer who is no
    longer scored (consent withdrawn, accounts closed) keeps no stale score.
    """
    table = schema.customer_scores
    with store.transaction() as conn:
        for (name,), part in frame.group_by("model_name"):
            if replace_all:
                conn.execute(delete(table).where(table.c.model_name == name))
                continue
            ids = part["customer_id"].to_list()
            for start in range(0, len(ids), 5_000):
                conn.execute(
                    delete(table).where(
                        (table.c.model_name == name)
                        & table.c.customer_id.in_(ids[start : start + 5_000])
                    )
                )
        write_frame(conn, table, frame, upsert=False)
    return frame.height


def scorable_features(store: Store, history: History, at: datetime) -> tuple[pl.DataFrame, int]:
    """Features at ``at`` of every customer who may be scored, and how many were left out."""
    refused = refused_customers(store)
    feats = customer_features(history, at)
    kept = feats.filter(~pl.col("customer_id").is_in(sorted(refused)))
    return kept, feats.height - kept.height


@dataclass(frozen=True, slots=True)
class BatchResult:
    version: ModelVersion
    scored: int
    skipped_for_consent: int
    at: datetime


def score_customers(
    store: Store,
    registry: ModelRegistry,
    name: str,
    *,
    version: int | None = None,
    candidate: bool = False,
    at: datetime | None = None,
    history: History | None = None,
) -> BatchResult:
    """Score every consenting customer with model ``name`` as of ``at`` (default: midnight
    after the last day in the store) and write the scores with the version's stage. The version
    is the production one; any other only with ``candidate`` (``scoring_version``)."""
    mv = scoring_version(registry, name, version, candidate=candidate)
    if mv.kind != "classifier":
        raise ValidationError(
            f"{name} is an {mv.kind} model: it scores transactions, not customers"
        )
    missing = sorted(set(mv.features) - set(FEATURES))
    if missing:
        raise ValidationError(
            f"{name} v{mv.version} was trained on a table, not on the profile (its features "
            f"{missing[:3]} are not customer features): score that table instead"
        )
    model = registry.load(mv).model
    history = history or load_history(store)
    when = at or scoring_time(history)
    feats, skipped = scorable_features(store, history, when)
    x = feats.select(model.feature_names_).to_numpy().astype(np.float64)
    frame = score_matrix(model, x, feats["customer_id"].to_list(), mv)
    write_scores(store, frame, replace_all=True)
    return BatchResult(mv, frame.height, skipped, when)


def scoring_version(
    registry: ModelRegistry, name: str, version: int | None = None, *, candidate: bool = False
) -> ModelVersion:
    """The version to score with: the production one. Any other only with ``candidate``, since
    only a production version passed the gate: then ``version`` if given, else the latest
    candidate when none is in production (never an archived one by default).

    Without ``candidate`` no production version is ``NoProductionVersion``, the one message
    that names the candidates and how to promote one."""
    if version is None:
        try:
            return registry.get(name)
        except NoProductionVersion as exc:
            if not candidate or not exc.candidates:
                raise
            return registry.get(name, exc.candidates[-1])
    mv = registry.get(name, version)
    if mv.stage != "production" and not candidate:
        raise ValidationError(
            f"{name} v{mv.version} is a{'n' if mv.stage == 'archived' else ''} {mv.stage}, not "
            "the production version: score with it only with --candidate (its scores then say "
            f"'{stage_note(mv.stage)}')"
        )
    return mv


@dataclass(frozen=True, slots=True)
class TableScores:
    version: ModelVersion
    frame: pl.DataFrame
    """One row per table row: ``row`` (its 1-based number), the table's identifier columns,
    ``model_name``, ``model_version``, ``model_stage``, ``score`` and ``reason_1`` to
    ``reason_k`` (empty when fewer factors pushed the score up)."""


def score_table(
    registry: ModelRegistry,
    frame: pl.DataFrame,
    name: str,
    *,
    version: int | None = None,
    candidate: bool = False,
    keep: Sequence[str] = (),
    k: int = 3,
) -> TableScores:
    """Score every row of ``frame`` with a model trained on a table of the same layout (the
    label column may be absent), keeping its identifier columns and ``keep``."""
    mv = scoring_version(registry, name, version, candidate=candidate)
    if mv.kind != "classifier":
        raise ValidationError(f"{name} is an {mv.kind} model: it scores transactions, not rows")
    artifact = registry.load(mv)
    encoder = artifact.encoder
    if encoder is None:
        raise ValidationError(
            f"{name} v{mv.version} was trained on the store's customers, not on a table: "
            f"score it with tactful score {name}"
        )
    absent = [c for c in keep if c not in frame.columns]
    if absent:
        raise ValidationError(f"columns {absent} are not in the table")
    ids = [c for c in encoder.dropped_ if c in frame.columns and c not in keep]
    x = encoder.transform(frame)
    model = artifact.model
    rows = model.reason_rows(x, k)
    out = pl.DataFrame(
        {
            "row": np.arange(1, frame.height + 1, dtype=np.int64),
            **{c: frame[c] for c in [*keep, *ids]},
            "model_name": [mv.name] * frame.height,
            "model_version": [mv.version] * frame.height,
            "model_stage": [mv.stage] * frame.height,
            "score": model.predict(x),
            **{
                f"reason_{i + 1}": [r[i][2] if i < len(r) else None for r in rows]
                for i in range(k)
            },
        },
        schema_overrides={f"reason_{i + 1}": pl.String for i in range(k)},
    )
    return TableScores(mv, out)


def write_table(frame: pl.DataFrame, path: Path) -> None:
    """Write scores as CSV or Parquet, by the file's extension; a CSV's text cells are made
    spreadsheet-safe (ids and reasons come from the bank's data), Parquet keeps them exact."""
    name = path.name.lower()
    if name.endswith(".parquet"):
        frame.write_parquet(path)
    elif name.endswith(".csv"):
        spreadsheet_safe_frame(frame).write_csv(path)
    else:
        raise ValidationError(f"output {path}: expected .csv or .parquet")


class RealtimeScorer:
    """One customer's score in-process, from features preloaded as one matrix.

    Refresh by building a new scorer (features change when the profile does); scoring itself
    touches no database.
    """

    def __init__(
        self, model: Model, version: ModelVersion, customer_ids: Sequence[str], x: F64
    ) -> None:
        if x.shape != (len(customer_ids), len(model.feature_names_)):
            raise ValidationError("real-time scorer: one feature row per customer expected")
        self.model = model
        self.version = version
        self._row = {cid: i for i, cid in enumerate(customer_ids)}
        self._x = np.ascontiguousarray(x, dtype=np.float64)
        self._linear = isinstance(model, LogisticModel)

    @classmethod
    def from_features(
        cls, model: Model, version: ModelVersion, features: pl.DataFrame
    ) -> RealtimeScorer:
        x = features.select(model.feature_names_).to_numpy().astype(np.float64)
        return cls(model, version, features["customer_id"].to_list(), x)

    def score(self, customer_id: str, *, k: int = 3) -> Score:
        row = self._row.get(customer_id)
        if row is None:
            raise NotFoundError(f"customer {mask(customer_id)} has no features to score")
        x = self._x[row : row + 1]
        p = float(self.model.predict(x)[0])
        return Score(
            customer_id,
            self.version.name,
            self.version.version,
            p,
            tuple(self.model.reasons(x, k)[0]),
        )


class StoredScore(NamedTuple):
    """One customer's stored score by one model, as the profile shows it."""

    model: str
    version: int
    score: float
    reasons: list[str]
    stage: Stage

    @property
    def note(self) -> str:
        """``stage_note`` of the version that made the score ("" for production)."""
        return stage_note(self.stage)


def stored_scores(store: Store, customer_id: str) -> list[StoredScore]:
    """Every stored score of one customer with its reasons and stage, for the profile."""
    s = schema.customer_scores
    rows = store.rows(
        select(s.c.model_name, s.c.model_version, s.c.score, s.c.reasons, s.c.model_stage)
        .where(s.c.customer_id == customer_id)
        .order_by(s.c.model_name)
    )
    return [
        StoredScore(
            str(r[0]), int(r[1]), float(r[2]), [str(x["text"]) for x in (r[3] or [])], r[4]
        )
        for r in rows
    ]


__all__ = [
    "FEATURES",
    "BatchResult",
    "RealtimeScorer",
    "Score",
    "StoredScore",
    "TableScores",
    "score_customers",
    "score_matrix",
    "score_table",
    "scoring_version",
    "stage_note",
    "stored_scores",
    "write_scores",
]
