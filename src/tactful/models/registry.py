"""The model registry: versions, stages, metrics, fairness, model cards, artifacts with checksums.

Metadata lives in the store (``models`` table); the fitted model is a file under the model
directory whose SHA-256 is recorded at registration and verified before every load, so an
artifact changed on disk is refused rather than silently scored with. Promotion to production
passes through a gate: metric floors and the fairness gate, each failure named.

Artifacts are data, not pickles (``models/artifacts.py``): whoever can write the table and the
model directory can change a model's scores but cannot run code in the engine. The one exception,
an Isolation Forest's trees (or a bank family without a data form), is a pickle signed with the
engine's secret key and checked before loading. Version files of Tactful 0.1 (``.pkl``) are
refused with a message to retrain.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

from sqlalchemy import func, insert, select, update

from tactful.config import get_settings
from tactful.errors import ArtifactRefused, NotFoundError, StoreError, ValidationError
from tactful.models import artifacts
from tactful.models.artifacts import Artifact as Artifact
from tactful.models.base import Classifier, Model
from tactful.models.fairness import FairnessGate, FairnessReport
from tactful.models.metrics import TOP_DECILE
from tactful.store import schema
from tactful.store.store import Store

Stage = Literal["candidate", "production", "archived"]
STAGES: tuple[Stage, ...] = ("candidate", "production", "archived")
_m = schema.models


class PromotionRefused(ValidationError):
    """A promotion the gate refused; ``reasons`` lists every failed check."""

    def __init__(self, name: str, version: int, reasons: list[str]) -> None:
        self.reasons = reasons
        super().__init__(f"{name} v{version} not promoted: " + "; ".join(reasons))


class NoProductionVersion(NotFoundError):
    """A model asked for by name has no production version. The one message for it everywhere:
    it names the candidates and the command that promotes one."""

    def __init__(self, name: str, versions: list[ModelVersion]) -> None:
        self.name = name
        self.candidates = [v.version for v in versions if v.stage == "candidate"]
        listed = ", ".join(f"v{n}" for n in self.candidates) or "none"
        super().__init__(
            f"{name} has no version in production (candidates: {listed}); only a promoted "
            f"version passed the gate. Promote one with: tactful models promote {name} VERSION "
            "--by WHO (or score with a candidate explicitly: --candidate, and its scores say "
            "'candidate, not promoted')"
        )


def lift_floor(floor: float, base_rate: float | None) -> float:
    """The top-decile lift a model of ``base_rate`` must show for a gate set at ``floor``.

    A lift floor is written for rare targets (churn, a product's uptake), where a perfect
    ranking lifts the top decile tenfold. For a common target no ranking can lift it above
    ``1 / base_rate`` -- 1.28 where 78% of expected payments are late by the label's
    definition -- and a fixed 1.5 would refuse every model, however well it ranks. So the
    floor asks for the same share of the attainable gain: ``1 + (floor - 1) x (attainable - 1)
    / 9``, which is ``floor`` itself wherever the base rate is 10% or less. Without a base
    rate the floor stands as written.

    >>> lift_floor(1.5, 0.05), lift_floor(1.5, 0.1), lift_floor(1.5, None)
    (1.5, 1.5, 1.5)
    >>> round(lift_floor(1.5, 0.78), 3), round(lift_floor(1.5, 0.5), 3)
    (1.016, 1.056)
    """
    if not base_rate or base_rate <= TOP_DECILE:
        return floor
    attainable = 1.0 / base_rate
    return 1.0 + (floor - 1.0) * (attainable - 1.0) / (1.0 / TOP_DECILE - 1.0)


@dataclass(frozen=True, slots=True)
class MetricFloors:
    """The least a classifier must show on its test set to reach production."""

    min_roc_auc: float = 0.65
    min_top_decile_lift: float = 1.5
    max_brier: float | None = None
    fairness: FairnessGate = field(default_factory=FairnessGate)
    require_fairness_report: bool = True


@dataclass(frozen=True)
class ModelVersion:
    id: int
    name: str
    version: int
    family: str
    kind: str
    target: str
    stage: Stage
    metrics: dict[str, float]
    fairness: FairnessReport | None
    data_start: datetime | None
    data_end: datetime | None
    validation: str
    features: list[str]
    model_card: str
    artifact_path: Path
    artifact_sha256: str
    created_at: datetime
    created_by: str
    promoted_at: datetime | None
    promoted_by: str | None


def default_model_dir(store: Store) -> Path:
    configured = get_settings().model_dir
    if configured is not None:
        return configured
    db = store.engine.url.database
    if store.dialect == "sqlite" and db and db != ":memory:":
        return Path(db).resolve().parent / "models"
    return Path("models").resolve()


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _version(row: Any) -> ModelVersion:
    m = row._mapping
    return ModelVersion(
        id=int(m["id"]),
        name=m["name"],
        version=int(m["version"]),
        family=m["family"],
        kind=m["kind"],
        target=m["target"],
        stage=m["stage"],
        metrics={k: float(v) for k, v in (m["metrics"] or {}).items()},
        fairness=FairnessReport.from_dict(m["fairness"]) if m["fairness"] else None,
        data_start=m["data_start"],
        data_end=m["data_end"],
        validation=m["validation"],
        features=list(m["features"]),
        model_card=m["model_card"],
        artifact_path=Path(m["artifact_path"]),
        artifact_sha256=m["artifact_sha256"],
        created_at=m["created_at"],
        created_by=m["created_by"],
        promoted_at=m["promoted_at"],
        promoted_by=m["promoted_by"],
    )


class ModelRegistry:
    """Versions of every model, in the store, with their artifacts in ``model_dir``."""

    def __init__(self, store: Store, model_dir: Path | None = None) -> None:
        self.store = store
        self.model_dir = model_dir or default_model_dir(store)

    def register(
        self,
        name: str,
        artifact: Artifact,
        *,
        target: str,
        metrics: dict[str, float],
        fairness: FairnessReport | None,
        data_window: tuple[datetime, datetime] | None,
        validation: str,
        model_card: str,
        created_by: str,
    ) -> ModelVersion:
        """Write the artifact, record its checksum and metadata as the next candidate version."""
        if not name or not name.replace("-", "").replace("_", "").isalnum():
            raise ValidationError(f"model name {name!r}: use letters, digits, - and _")
        self.model_dir.mkdir(parents=True, exist_ok=True)
        with self.store.transaction() as conn:
            latest = conn.execute(select(func.max(_m.c.version)).where(_m.c.name == name))
            version = int(latest.scalar() or 0) + 1
            path = self.model_dir / f"{name}-v{version}.npz"
            tmp = path.with_suffix(".tmp")
            tmp.write_bytes(artifacts.dump(artifact))
            os.replace(tmp, path)
            digest = sha256_of(path)
            key = conn.execute(
                insert(_m).values(
                    name=name,
                    version=version,
                    family=artifact.model.family,
                    kind=artifact.model.kind,
                    target=target,
                    stage="candidate",
                    metrics=metrics,
                    fairness=fairness.as_dict() if fairness else None,
                    data_start=data_window[0] if data_window else None,
                    data_end=data_window[1] if data_window else None,
                    validation=validation,
                    features=list(artifact.model.feature_names_),
                    model_card=model_card,
                    artifact_path=str(path),
                    artifact_sha256=digest,
                    created_at=datetime.now(UTC),
                    created_by=created_by,
                )
            ).inserted_primary_key
            assert key is not None  # noqa: S101 -- narrows a type; holds by construction
        return self.get(name, version)

    def versions(self, name: str | None = None) -> list[ModelVersion]:
        query = select(_m).order_by(_m.c.name, _m.c.version)
        if name:
            query = query.where(_m.c.name == name)
        return [_version(r) for r in self.store.rows(query)]

    def get(self, name: str, version: int | None = None) -> ModelVersion:
        """A version by number; without one, the production version, never another: only a
        promoted version passed the gate, so nothing falls back to a candidate by default
        (``NoProductionVersion``). Monitoring, which may look at a candidate, uses ``latest``."""
        versions = self._named(name)
        if version is not None:
            for v in versions:
                if v.version == version:
                    return v
            raise NotFoundError(f"model {name!r} has no version {version}")
        production = [v for v in versions if v.stage == "production"]
        if not production:
            raise NoProductionVersion(name, versions)
        return production[-1]

    def latest(self, name: str) -> ModelVersion:
        """The production version, or else the latest one: for monitoring (drift, the model
        card), never for scoring; the caller says when it is not the production one."""
        versions = self._named(name)
        production = [v for v in versions if v.stage == "production"]
        return production[-1] if production else versions[-1]

    def _named(self, name: str) -> list[ModelVersion]:
        versions = self.versions(name)
        if not versions:
            raise NotFoundError(f"no model named {name!r} in the registry")
        return versions

    def load(self, version: ModelVersion) -> Artifact:
        """The artifact, after checking its SHA-256 against the one registered; never unpickles
        anything unsigned (``ArtifactRefused``, which names the version and says to retrain)."""
        path = version.artifact_path
        what = f"artifact of {version.name} v{version.version} at {path}"
        if not path.exists():
            raise StoreError(f"artifact of {version.name} v{version.version} missing: {path}")
        blob = path.read_bytes()
        digest = hashlib.sha256(blob).hexdigest()
        if digest != version.artifact_sha256:
            raise ArtifactRefused(
                f"{what} has checksum "
                f"{digest[:12]}..., registered {version.artifact_sha256[:12]}...: refused"
            )
        return artifacts.load(blob, what=what)

    def gate(self, version: ModelVersion, floors: MetricFloors) -> list[str]:
        """Every reason ``version`` may not go to production (empty: it may)."""
        reasons: list[str] = []
        if version.stage == "archived":
            reasons.append("it is archived")
        if version.kind != "classifier":
            return reasons
        auc = version.metrics.get("roc_auc")
        if auc is None or auc < floors.min_roc_auc:
            reasons.append(
                f"ROC-AUC {auc if auc is None else round(auc, 3)} < {floors.min_roc_auc}"
            )
        lift = version.metrics.get("top_decile_lift")
        base = version.metrics.get("base_rate")
        need = lift_floor(floors.min_top_decile_lift, base)
        if lift is None or lift < need:
            shown = lift if lift is None else round(lift, 2)
            scaled = (
                f" (the floor {floors.min_top_decile_lift} scaled to the base rate {base:.2f}, "
                f"where no ranking lifts the top decile above {1 / base:.2f})"
                if base and need < floors.min_top_decile_lift else ""
            )
            reasons.append(f"top-decile lift {shown} < {round(need, 3):g}{scaled}")
        brier = version.metrics.get("brier")
        if floors.max_brier is not None and (brier is None or brier > floors.max_brier):
            reasons.append(f"Brier {brier} > {floors.max_brier}")
        if version.fairness is None:
            if floors.require_fairness_report:
                reasons.append("no fairness report (protected attributes unavailable)")
        else:
            report = FairnessReport(
                version.fairness.threshold, version.fairness.attributes, floors.fairness
            )
            reasons += ["fairness gate: " + f for f in report.failures()]
        return reasons

    def promote(
        self, name: str, version: int, *, by: str, floors: MetricFloors | None = None
    ) -> ModelVersion:
        """Make ``version`` the production one (the previous one is archived), or refuse."""
        if not by.strip():
            raise ValidationError("promote needs who promotes (--by)")
        target = self.get(name, version)
        reasons = self.gate(target, floors or MetricFloors())
        if reasons:
            raise PromotionRefused(name, version, reasons)
        now = datetime.now(UTC)
        with self.store.transaction() as conn:
            conn.execute(
                update(_m)
                .where((_m.c.name == name) & (_m.c.stage == "production"))
                .values(stage="archived")
            )
            conn.execute(
                update(_m)
                .where(_m.c.id == target.id)
                .values(stage="production", promoted_at=now, promoted_by=by)
            )
        return self.get(name, version)


def is_classifier(model: Model) -> bool:
    return isinstance(model, Classifier)
