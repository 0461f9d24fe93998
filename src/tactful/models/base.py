"""What every model family shares: validation, calibration, contributions and reason codes.

A family subclasses :class:`Classifier` and implements three private hooks (``_fit``,
``_margin``, ``_contributions``); the public methods do the shared work around them, as River's
estimators do. Contributions are in log-odds ("margin") space and add up, with the family's
bias, to the margin; calibration is a monotone map of the margin fitted on a held-out fold, so
calibrating never reorders customers nor changes which factors drove a score.

A fitted model is stored as data (``to_state`` / ``from_state``: JSON-able settings and NumPy
arrays), never as a pickle, when its family defines the ``_get_state`` / ``_set_state`` hooks
itself; what has no data form (an Isolation Forest's trees) goes in ``ModelState.opaque``, which
the registry stores as a pickle signed with the engine's secret key (``models/artifacts.py``).
"""

from __future__ import annotations

import inspect
import math
from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar, Literal, Self

import numpy as np
from numpy.typing import NDArray

from tactful.errors import ValidationError
from tactful.plugins import Registry

F64 = NDArray[np.float64]
Calibration = Literal["sigmoid", "isotonic", "none"]


@dataclass(frozen=True, slots=True)
class Reason:
    """One factor behind a score, in words a customer-facing employee can read."""

    feature: str
    contribution: float
    """Log-odds this factor added to the score (negative: it lowered it)."""
    text: str


@dataclass(frozen=True, slots=True)
class FeatureInfo:
    """How to say a feature in plain words: ``label`` names it, ``unit`` follows its value."""

    label: str
    unit: str = ""
    indicator: bool = False
    """A yes/no feature: said as "<label>" or "not <label>", not as a number."""

    def phrase(self, value: float, typical: float) -> str:
        if not math.isfinite(value):
            return f"{self.label}: unknown"
        if self.indicator:
            return self.label if value >= 0.5 else f"not {self.label}"
        if value == typical:
            return f"{self.label} {_fmt(value)}{self.unit}, as usual"
        way = "high" if value > typical else "low"
        return f"{self.label} {way}: {_fmt(value)}{self.unit} (typical {_fmt(typical)}{self.unit})"


def _fmt(x: float) -> str:
    """A value as reason codes print it: whole numbers bare, small ones to two decimals, large
    ones rounded (the batch path in ``scoring.reasons_json`` formats the same way)."""
    if abs(x) < 1e12 and x == int(x):
        return str(int(x))
    return str(round(x, 2)) if abs(x) < 100 else str(round(x))


@dataclass
class ModelState:
    """A fitted model as data: JSON-able ``meta`` and NumPy ``arrays`` of numbers or text.

    ``opaque`` holds what has no such form (``None`` for most families); it is stored as a
    signed pickle, so a family that can do without one should.
    """

    meta: dict[str, Any] = field(default_factory=dict)
    arrays: dict[str, NDArray[Any]] = field(default_factory=dict)
    opaque: Any = None


def as_matrix(x: Any, n_features: int | None = None) -> F64:
    arr = np.asarray(x, dtype=np.float64)
    if arr.ndim != 2:
        raise ValidationError(f"features must be a 2-D matrix, got shape {arr.shape}")
    if n_features is not None and arr.shape[1] != n_features:
        raise ValidationError(f"features have {arr.shape[1]} columns, the model {n_features}")
    return arr


class Model(ABC):
    """A fitted scorer over a fixed feature list."""

    family: ClassVar[str]
    kind: ClassVar[Literal["classifier", "anomaly"]]
    feature_names_: tuple[str, ...]
    feature_info_: dict[str, FeatureInfo]
    typical_: F64

    @abstractmethod
    def predict(self, x: Any) -> F64:
        """One score in [0, 1] per row (a probability for classifiers)."""

    @abstractmethod
    def contributions(self, x: Any) -> F64:
        """(rows, features): how much each feature pushed each row's score up or down."""

    def get_params(self) -> dict[str, Any]:
        """The constructor's keyword arguments as set (scikit-learn's convention)."""
        signature = inspect.signature(type(self).__init__)
        return {
            name: getattr(self, name)
            for name, p in signature.parameters.items()
            if p.kind is inspect.Parameter.KEYWORD_ONLY
        }

    def to_state(self) -> ModelState | None:
        """The fitted model as data, or ``None`` when its family has no data form (it defines
        no ``_get_state`` of its own: an inherited hook would silently miss its attributes)."""
        hooks = type(self).__dict__
        if "_get_state" not in hooks or "_set_state" not in hooks:
            return None
        state = ModelState(
            meta={
                "params": self.get_params(),
                "feature_names": list(self.feature_names_),
                "feature_info": {
                    name: [info.label, info.unit, info.indicator]
                    for name, info in self.feature_info_.items()
                },
            },
            arrays={"typical": np.asarray(self.typical_, dtype=np.float64)},
        )
        self._get_state(state)
        return state

    @classmethod
    def from_state(cls, state: ModelState) -> Self:
        """The model ``to_state`` described, ready to score."""
        model = cls(**state.meta["params"])
        model.feature_names_ = tuple(str(n) for n in state.meta["feature_names"])
        model.feature_info_ = {
            str(name): FeatureInfo(str(label), str(unit), bool(indicator))
            for name, (label, unit, indicator) in state.meta["feature_info"].items()
        }
        model.typical_ = np.asarray(state.arrays["typical"], dtype=np.float64)
        model._set_state(state)
        return model

    def _get_state(self, state: ModelState) -> None:  # noqa: B027 -- optional hook
        """Add the family's fitted attributes to ``state`` (the shared ones are there)."""

    def _set_state(self, state: ModelState) -> None:  # noqa: B027 -- optional hook
        """Restore the family's fitted attributes from ``state``."""

    def reasons(self, x: Any, k: int = 3, *, direction: int = 1) -> list[list[Reason]]:
        """The ``k`` factors that pushed each row's score most in ``direction`` (+1: up)."""
        return [
            [Reason(f, c, t) for f, c, t in row]
            for row in self.reason_rows(x, k, direction=direction)
        ]

    def reason_rows(
        self, x: Any, k: int = 3, *, direction: int = 1, contributions: F64 | None = None
    ) -> list[list[tuple[str, float, str]]]:
        """``reasons`` as plain tuples (feature, contribution, text): the batch path, which
        formats a few hundred thousand of them, skips the objects."""
        mat = as_matrix(x, len(self.feature_names_))
        contrib = (self.contributions(mat) if contributions is None else contributions) * direction
        k = min(k, mat.shape[1])
        top = (
            np.argpartition(-contrib, k - 1, axis=1)[:, :k]
            if k < mat.shape[1]
            else np.tile(np.arange(mat.shape[1]), (mat.shape[0], 1))
        )
        rows = np.arange(mat.shape[0])[:, None]
        top_c = contrib[rows, top]
        order = np.argsort(-top_c, axis=1, kind="stable")
        top = top[rows, order]
        top_c = top_c[rows, order]
        top_v = mat[rows, top]
        infos = [
            self.feature_info_.get(n, FeatureInfo(n.replace("_", " "))) for n in self.feature_names_
        ]
        names = self.feature_names_
        typical = self.typical_.tolist()
        out: list[list[tuple[str, float, str]]] = []
        for idx, cs, vs in zip(top.tolist(), top_c.tolist(), top_v.tolist(), strict=True):
            out.append(
                [
                    (names[j], c * direction, infos[j].phrase(v, typical[j]))
                    for j, c, v in zip(idx, cs, vs, strict=True)
                    if c > 0
                ]
            )
        return out

    def _set_features(
        self, x: F64, names: Sequence[str], info: Mapping[str, FeatureInfo] | None
    ) -> None:
        if len(names) != x.shape[1]:
            raise ValidationError(f"{len(names)} feature names for {x.shape[1]} columns")
        if len(set(names)) != len(names):
            raise ValidationError("feature names must be unique")
        self.feature_names_ = tuple(names)
        self.feature_info_ = dict(info or {})
        with np.errstate(all="ignore"):
            med = np.nanmedian(np.where(np.isfinite(x), x, np.nan), axis=0)
        self.typical_ = np.where(np.isfinite(med), med, 0.0)


class Classifier(Model):
    """A calibrated binary classifier with additive per-row contributions.

    ``fit`` holds out the last ``calibration_share`` of the rows -- pass them in time order --
    to fit the calibration map (and, for boosting, to stop early), so the probabilities are
    checked on data the model did not learn from, as a time-based validation would.
    """

    kind = "classifier"

    def __init__(
        self, *, calibration: Calibration = "sigmoid", calibration_share: float = 0.2, seed: int = 0
    ) -> None:
        self.calibration = calibration
        self.calibration_share = calibration_share
        self.seed = seed

    def fit(
        self,
        x: Any,
        y: Any,
        feature_names: Sequence[str],
        feature_info: Mapping[str, FeatureInfo] | None = None,
    ) -> Self:
        # heavy libraries on first use: importing tactful.models must stay cheap (issue 21)
        from sklearn.isotonic import IsotonicRegression
        from sklearn.linear_model import LogisticRegression

        mat = as_matrix(x)
        labels = np.asarray(y).astype(np.int8).ravel()
        if labels.shape[0] != mat.shape[0]:
            raise ValidationError(f"{mat.shape[0]} rows of features but {labels.shape[0]} labels")
        if not set(np.unique(labels)) <= {0, 1}:
            raise ValidationError("labels must be 0 or 1")
        if self.calibration not in ("sigmoid", "isotonic", "none"):
            raise ValidationError(
                f"calibration must be sigmoid, isotonic or none: {self.calibration}"
            )
        if not 0 <= self.calibration_share < 1:
            raise ValidationError(f"calibration_share must be in [0, 1): {self.calibration_share}")
        self._set_features(mat, feature_names, feature_info)
        n_cal = int(len(labels) * self.calibration_share) if self.calibration != "none" else 0
        fit_x, fit_y = mat[: len(labels) - n_cal], labels[: len(labels) - n_cal]
        cal_x, cal_y = mat[len(labels) - n_cal :], labels[len(labels) - n_cal :]
        for part, what in ((fit_y, "training"), (cal_y, "calibration")):
            if (len(part) or what == "training") and len(np.unique(part)) < 2:
                raise ValidationError(
                    f"the {what} rows need both classes (positives and negatives)"
                )
        self._fit(fit_x, fit_y, cal_x if n_cal else None, cal_y if n_cal else None)
        self._calibrator: LogisticRegression | IsotonicRegression | None = None
        self._platt: tuple[float, float] | None = None  # the sigmoid's (a, b) for predict_one
        if n_cal:
            margin = self._calibration_margin(cal_x)
            if self.calibration == "sigmoid":
                platt = LogisticRegression(C=1e4, max_iter=1000)
                self._calibrator = platt.fit(margin.reshape(-1, 1), cal_y)
                self._platt = (float(platt.coef_[0, 0]), float(platt.intercept_[0]))
            else:
                iso = IsotonicRegression(out_of_bounds="clip", y_min=1e-4, y_max=1 - 1e-4)
                self._calibrator = iso.fit(margin, cal_y)
        return self

    def margin(self, x: Any) -> F64:
        return self._margin(as_matrix(x, len(self.feature_names_)))

    def predict(self, x: Any) -> F64:
        return self.calibrate(self.margin(x))

    def predict_one(self, x: Any) -> float:
        """``predict`` of one row (a vector of the features) without the batch machinery:
        the margin from the family's one-row path, then the calibration map. Equal to
        ``predict(x[None])[0]`` (tested); what the real-time path calls per event."""
        row = np.asarray(x, dtype=np.float64)
        if row.shape != (len(self.feature_names_),):
            raise ValidationError(
                f"one row of {len(self.feature_names_)} features expected, got shape {row.shape}")
        margin = self._margin_one(row)
        platt: tuple[float, float] | None = getattr(self, "_platt", None)
        if platt is None:
            return float(self.calibrate(np.array([margin]))[0])
        a, b = platt
        return float(1.0 / (1.0 + np.exp(-(a * margin + b))))

    def _margin_one(self, row: F64) -> float:
        """One row's margin; a family with a faster one-row path overrides it."""
        return float(self._margin(row[None, :])[0])

    def calibrate(self, margin: F64) -> F64:
        """Probability from the raw margin (a monotone map)."""
        from sklearn.isotonic import IsotonicRegression
        from sklearn.linear_model import LogisticRegression

        if isinstance(self._calibrator, LogisticRegression):
            a = float(self._calibrator.coef_[0, 0])
            b = float(self._calibrator.intercept_[0])
            return 1.0 / (1.0 + np.exp(-(a * margin + b)))
        if isinstance(self._calibrator, IsotonicRegression):
            return np.asarray(self._calibrator.predict(margin), dtype=np.float64)
        return 1.0 / (1.0 + np.exp(-margin))

    def contributions(self, x: Any) -> F64:
        return self._contributions(as_matrix(x, len(self.feature_names_)))

    def _get_state(self, state: ModelState) -> None:
        from sklearn.isotonic import IsotonicRegression
        from sklearn.linear_model import LogisticRegression

        calibrator = self._calibrator
        if isinstance(calibrator, LogisticRegression):
            state.meta["calibrator"] = {
                "kind": "sigmoid",
                "a": float(calibrator.coef_[0, 0]),
                "b": float(calibrator.intercept_[0]),
            }
        elif isinstance(calibrator, IsotonicRegression):
            state.meta["calibrator"] = {
                "kind": "isotonic",
                "x_min": float(calibrator.X_min_),
                "x_max": float(calibrator.X_max_),
                "increasing": bool(calibrator.increasing_),
                "y_min": calibrator.y_min,
                "y_max": calibrator.y_max,
            }
            state.arrays["isotonic_x"] = np.asarray(calibrator.X_thresholds_)
            state.arrays["isotonic_y"] = np.asarray(calibrator.y_thresholds_)
        else:
            state.meta["calibrator"] = {"kind": "none"}

    def _set_state(self, state: ModelState) -> None:
        import sklearn
        from sklearn.isotonic import IsotonicRegression
        from sklearn.linear_model import LogisticRegression

        spec = state.meta["calibrator"]
        self._calibrator = None
        self._platt = None
        if spec["kind"] == "sigmoid":
            platt = LogisticRegression(C=1e4, max_iter=1000)
            platt.coef_ = np.array([[float(spec["a"])]])
            platt.intercept_ = np.array([float(spec["b"])])
            platt.classes_ = np.array([0, 1])
            self._calibrator = platt
            self._platt = (float(spec["a"]), float(spec["b"]))
        elif spec["kind"] == "isotonic":
            iso = IsotonicRegression(out_of_bounds="clip", y_min=spec["y_min"], y_max=spec["y_max"])
            # IsotonicRegression's own unpickling hook rebuilds its interpolation from these.
            iso.__setstate__(
                {
                    **iso.__dict__,
                    "X_min_": float(spec["x_min"]),
                    "X_max_": float(spec["x_max"]),
                    "increasing_": bool(spec["increasing"]),
                    "X_thresholds_": state.arrays["isotonic_x"],
                    "y_thresholds_": state.arrays["isotonic_y"],
                    "_sklearn_version": sklearn.__version__,
                }
            )
            self._calibrator = iso

    @abstractmethod
    def _fit(self, x: F64, y: NDArray[np.int8], cal_x: F64 | None, cal_y: Any) -> None: ...

    @abstractmethod
    def _margin(self, x: F64) -> F64: ...

    def _calibration_margin(self, x: F64) -> F64:
        """The margin of the model as it was before seeing the calibration fold."""
        return self._margin(x)

    @abstractmethod
    def _contributions(self, x: F64) -> F64: ...


families: Registry[type[Model]] = Registry("models")
"""Every model family by short name; banks add theirs through the ``tactful.models`` entry
point group or a dotted path."""
