"""Fairness of a model across protected groups, and the gate a promotion must pass.

Computed with fairlearn: demographic parity difference (gap in selection rate between the most
and least selected groups), equalized odds difference (the larger of the gaps in true- and
false-positive rate), and per group the AUC and the selection rate. "Selected" means scored at
or above the operating threshold. Protected attributes are never model inputs; they are read
through ``Store.protected_attributes`` (a logged access) only to audit.

A numeric attribute (an age in years) is audited in bands, not one value at a time: 56 ages of
a few dozen rows each are 56 groups whose gaps are noise. The bands are given (``25, 35, 45``:
under 25, 25 to under 35, ...) or cut at the attribute's quintiles (``"auto"``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from itertools import pairwise
from typing import Any, Final, Literal

import numpy as np
from numpy.typing import NDArray

from tactful.errors import ValidationError

F64 = NDArray[np.float64]
Bands = tuple[float, ...] | Literal["auto"]
AUTO_BANDS: Final = 5
"""``"auto"`` cuts a numeric attribute at its quintiles."""
MAX_UNBANDED_VALUES: Final = 10
"""A numeric attribute with at most this many distinct values (a 0/1 flag, a region code) is
audited value by value; one with more is banded (at its quintiles unless bands are given)."""


def _edge(x: float) -> str:
    return str(int(x)) if x == int(x) else f"{x:g}"


def band_edges(values: Sequence[Any] | NDArray[Any], bands: Bands | None) -> tuple[float, ...]:
    """The inner edges to band ``values`` at: the ``bands`` given (strictly increasing), or the
    quintiles for ``"auto"`` and for ``None`` when the values have more than
    ``MAX_UNBANDED_VALUES`` distinct values; ``()`` means audit value by value.

    >>> band_edges([18, 30, 41, 52, 67, 80] * 10, "auto")
    (30.0, 41.0, 52.0, 67.0)
    >>> band_edges([0, 1, 1, 0], None)
    ()
    """
    x = np.asarray([v for v in values if v is not None], dtype=np.float64)
    x = x[np.isfinite(x)]
    if bands is not None and bands != "auto":
        edges = tuple(float(b) for b in bands)
        if not edges or any(a >= b for a, b in pairwise(edges)):
            raise ValidationError(f"bands must be strictly increasing numbers, got {list(bands)}")
        return edges
    if x.size == 0 or (bands is None and np.unique(x).size <= MAX_UNBANDED_VALUES):
        return ()
    cuts = np.quantile(x, np.linspace(0, 1, AUTO_BANDS + 1)[1:-1])
    if np.all(x == np.round(x)):
        cuts = np.round(cuts)
    return tuple(float(c) for c in np.unique(cuts) if c > x.min())


def band_labels(values: Sequence[Any] | NDArray[Any], edges: Sequence[float]) -> list[str | None]:
    """Each value's band in words ("under 25", "25 to under 35", "65 and over"); None stays
    None (unknown).

    >>> band_labels([19, 25, 70, None], (25, 35, 65))
    ['under 25', '25 to under 35', '65 and over', None]
    """
    names = (
        [f"under {_edge(edges[0])}"]
        + [f"{_edge(a)} to under {_edge(b)}" for a, b in pairwise(edges)]
        + [f"{_edge(edges[-1])} and over"]
    )
    out: list[str | None] = []
    for v in values:
        if v is None or v != v:
            out.append(None)
        else:
            out.append(names[int(np.searchsorted(edges, float(v), side="right"))])
    return out


@dataclass(frozen=True, slots=True)
class GroupFigures:
    group: str
    rows: int
    selection_rate: float
    auc: float | None
    """None when the group holds only one class."""


@dataclass(frozen=True, slots=True)
class AttributeReport:
    attribute: str
    demographic_parity_difference: float
    equalized_odds_difference: float
    groups: tuple[GroupFigures, ...]
    bands: tuple[float, ...] = ()
    """The inner band edges a numeric attribute was audited in (empty: value by value)."""


@dataclass(frozen=True, slots=True)
class FairnessGate:
    """Largest gaps a model may show on any protected attribute to be promoted."""

    max_demographic_parity_difference: float = 0.10
    max_equalized_odds_difference: float = 0.10
    min_group_rows: int = 30
    """Groups smaller than this are reported but left out of the demographic parity gap."""
    min_group_positives: int = 10
    """Groups with fewer positives (or negatives) than this are left out of the equalized odds
    gap: a true-positive rate over three positives is noise, not evidence of unfairness."""


@dataclass(frozen=True, slots=True)
class FairnessReport:
    threshold: float
    attributes: tuple[AttributeReport, ...]
    gate: FairnessGate = field(default_factory=FairnessGate)

    def failures(self) -> list[str]:
        """Why the gate fails, one sentence per breach (empty when it passes)."""
        out = []
        g = self.gate
        for a in self.attributes:
            if a.demographic_parity_difference > g.max_demographic_parity_difference:
                out.append(
                    f"demographic parity difference by {a.attribute} is "
                    f"{a.demographic_parity_difference:.3f} > {g.max_demographic_parity_difference}"
                )
            if a.equalized_odds_difference > g.max_equalized_odds_difference:
                out.append(
                    f"equalized odds difference by {a.attribute} is "
                    f"{a.equalized_odds_difference:.3f} > {g.max_equalized_odds_difference}"
                )
        return out

    @property
    def passed(self) -> bool:
        return not self.failures()

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> FairnessReport:
        attrs = tuple(
            AttributeReport(
                a["attribute"],
                a["demographic_parity_difference"],
                a["equalized_odds_difference"],
                tuple(GroupFigures(**g) for g in a["groups"]),
                tuple(float(b) for b in a.get("bands") or ()),
            )
            for a in data["attributes"]
        )
        return cls(float(data["threshold"]), attrs, FairnessGate(**data["gate"]))


def _auc(y: NDArray[Any], p: NDArray[Any]) -> float:
    # heavy libraries on first use: importing tactful.models must stay cheap (issue 21)
    from sklearn.metrics import roc_auc_score

    return float(roc_auc_score(y, p)) if len(np.unique(y)) == 2 else float("nan")


def fairness_report(
    y: NDArray[Any],
    scores: F64,
    groups: Mapping[str, NDArray[Any]],
    *,
    threshold: float | None = None,
    gate: FairnessGate | None = None,
    bands: Mapping[str, Sequence[float]] | None = None,
) -> FairnessReport:
    """Fairness figures for each protected attribute in ``groups`` (name -> group per row).

    ``threshold`` defaults to the score that selects the top decile, the usual campaign cut.
    Rows whose group is unknown (null) are left out of that attribute's figures. An attribute
    named in ``bands`` holds numbers and is audited in the bands cut at those edges
    (``band_edges`` chooses them).
    """
    from fairlearn.metrics import (
        MetricFrame,
        demographic_parity_difference,
        equalized_odds_difference,
        selection_rate,
    )

    gate = gate or FairnessGate()
    y_arr = np.asarray(y).astype(np.int8)
    p = np.asarray(scores, dtype=np.float64)
    if y_arr.shape != p.shape:
        raise ValidationError("fairness: labels and scores differ in length")
    cut = float(np.quantile(p, 0.9)) if threshold is None else threshold
    selected = (p >= cut).astype(np.int8)
    reports = []
    for name, values in groups.items():
        edges = tuple(float(b) for b in (bands or {}).get(name, ()))
        g = np.asarray(band_labels(list(values), edges) if edges else values, dtype=object)
        if g.shape != y_arr.shape:
            raise ValidationError(f"fairness: attribute {name!r} has {g.shape[0]} rows")
        known = np.array([v is not None and v == v for v in g], dtype=bool)
        g_known = g[known].astype(str)
        sizes = {
            str(k): int(v) for k, v in zip(*np.unique(g_known, return_counts=True), strict=True)
        }
        yk, sk, pk, gk = y_arr[known], selected[known], p[known], g_known
        big = np.isin(gk, [k for k, v in sizes.items() if v >= gate.min_group_rows])
        pos = {str(k): int(yk[gk == k].sum()) for k in sizes}
        rated = np.isin(
            gk,
            [k for k, v in sizes.items() if min(pos[k], v - pos[k]) >= gate.min_group_positives],
        )
        frame = MetricFrame(
            metrics={"selection_rate": selection_rate},
            y_true=yk,
            y_pred=sk,
            sensitive_features=gk,
        )
        by_group = frame.by_group["selection_rate"]
        order = band_labels([edges[0] - 1, *edges], edges) if edges else []
        figures = tuple(
            GroupFigures(
                group=str(k),
                rows=sizes[str(k)],
                selection_rate=float(by_group[k]),
                auc=None if np.isnan(a := _auc(yk[gk == k], pk[gk == k])) else a,
            )
            for k in sorted(sizes, key=lambda k: (order.index(k) if k in order else -1, k))
        )
        dpd = eod = 0.0
        if len(np.unique(gk[big])) >= 2:
            dpd = float(demographic_parity_difference(yk[big], sk[big], sensitive_features=gk[big]))
        if len(np.unique(gk[rated])) >= 2:
            eod = float(
                equalized_odds_difference(yk[rated], sk[rated], sensitive_features=gk[rated])
            )
        reports.append(AttributeReport(name, dpd, eod, figures, edges))
    return FairnessReport(cut, tuple(reports), gate)
