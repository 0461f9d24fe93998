"""Unusual transactions: fraud, or a change in a customer's financial situation.

Each outgoing transaction is described against the customer's own past (per-customer statistics
from the reference window: how far its amount is from their usual ticket, a merchant or category
they never used, a night-time payment, a burst of payments within the hour, a decline), and an
Isolation Forest over those descriptions scores how isolated it is. The score is the share of
reference transactions less anomalous than it, so 0.999 reads "more unusual than 99.9% of what
this bank normally sees", and the operating threshold is an alert rate, not a magic number.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any, Final, Self

import numpy as np
import polars as pl
from numpy.typing import NDArray

from tactful.errors import ValidationError
from tactful.models.base import F64, FeatureInfo, Model, ModelState, as_matrix, families

TXN_FEATURES: Final = (
    "amount_z",
    "new_merchant",
    "new_category",
    "night",
    "burst_1h",
    "declined",
    "online",
)
TXN_FEATURE_INFO: Final = {
    "amount_z": FeatureInfo("amount against the customer's usual ticket", " sd"),
    "new_merchant": FeatureInfo("a merchant the customer never paid before", indicator=True),
    "new_category": FeatureInfo("a kind of spending new for the customer", indicator=True),
    "night": FeatureInfo("made between midnight and 5 a.m. local time", indicator=True),
    "burst_1h": FeatureInfo("card payments by the customer within the same hour"),
    "declined": FeatureInfo("declined by the bank", indicator=True),
    "online": FeatureInfo("an online payment", indicator=True),
}


def transaction_features(
    transactions: pl.DataFrame, timezones: pl.DataFrame, reference_end: datetime
) -> pl.DataFrame:
    """``TXN_FEATURES`` for every card or online debit, against statistics of the customer's
    debits booked before ``reference_end``.

    ``transactions`` has the columns of ``history.TXN_SCHEMA``; ``timezones`` maps customer_id
    to an IANA zone (for the local hour).
    """
    debits = transactions.filter(
        (pl.col("amount_minor") < 0) & pl.col("channel").is_in(["card", "online"])
    ).with_columns(
        pl.col("amount_minor").abs().cast(pl.Float64).log1p().alias("_log_amount"),
        pl.col("merchant").fill_null("?"),
        pl.col("category").fill_null("?"),
    )
    ref = debits.filter(pl.col("booked_at") < reference_end)
    stats = ref.group_by("customer_id").agg(
        pl.col("_log_amount").mean().alias("_mu"),
        pl.col("_log_amount").std().fill_null(0.0).alias("_sd"),
    )
    merchants = (
        ref.select("customer_id", "merchant")
        .unique()
        .with_columns(pl.lit(0.0).alias("new_merchant"))
    )
    categories = (
        ref.select("customer_id", "category")
        .unique()
        .with_columns(pl.lit(0.0).alias("new_category"))
    )
    frames = []
    for (zone,), part in debits.join(timezones, on="customer_id", how="left").group_by("timezone"):
        tz = str(zone) if zone else "UTC"
        frames.append(
            part.with_columns(
                pl.col("booked_at").dt.convert_time_zone(tz).dt.hour().alias("_hour")
            ).drop("timezone")
        )
    if not frames:
        return pl.DataFrame(
            schema={
                "id": pl.String,
                "external_id": pl.String,
                "customer_id": pl.String,
                "booked_at": pl.Datetime("us", "UTC"),
                **{f: pl.Float64 for f in TXN_FEATURES},
            }
        )
    out = pl.concat(frames).sort("customer_id", "booked_at")
    out = out.with_columns(
        pl.col("booked_at").dt.truncate("1h").alias("_hour_bucket"),
    ).with_columns(pl.len().over("customer_id", "_hour_bucket").cast(pl.Float64).alias("burst_1h"))
    out = (
        out.join(stats, on="customer_id", how="left")
        .join(merchants, on=["customer_id", "merchant"], how="left")
        .join(categories, on=["customer_id", "category"], how="left")
    )
    return out.select(
        "id",
        "external_id",
        "customer_id",
        "booked_at",
        ((pl.col("_log_amount") - pl.col("_mu")) / pl.max_horizontal(pl.col("_sd"), pl.lit(0.25)))
        .fill_null(0.0)
        .alias("amount_z"),
        pl.col("new_merchant").fill_null(1.0),
        pl.col("new_category").fill_null(1.0),
        (pl.col("_hour") < 5).cast(pl.Float64).alias("night"),
        pl.col("burst_1h"),
        (pl.col("status") == "declined").cast(pl.Float64).alias("declined"),
        (pl.col("channel") == "online").cast(pl.Float64).alias("online"),
    ).sort("booked_at", "id")


@families.register("isolation_forest")
class AnomalyModel(Model):
    """Isolation Forest whose score is a percentile of the reference scores.

    >>> import numpy as np
    >>> x = np.random.default_rng(0).normal(size=(2000, 2))
    >>> m = AnomalyModel(seed=0).fit(x, ["a", "b"])
    >>> bool(m.predict(np.array([[8.0, 8.0]]))[0] > 0.99)
    True
    """

    family = "isolation_forest"
    kind = "anomaly"

    def __init__(
        self, *, trees: int = 200, max_samples: int = 512, alert_rate: float = 0.002, seed: int = 0
    ) -> None:
        self.trees = trees
        self.max_samples = max_samples
        self.alert_rate = alert_rate
        self.seed = seed

    def fit(
        self,
        x: Any,
        feature_names: Sequence[str],
        feature_info: Mapping[str, FeatureInfo] | None = None,
    ) -> Self:
        # heavy libraries on first use: importing tactful.models must stay cheap (issue 21)
        from sklearn.ensemble import IsolationForest

        mat = as_matrix(x)
        if mat.shape[0] < 10:
            raise ValidationError(f"the anomaly model needs at least 10 rows, got {mat.shape[0]}")
        if not 0 < self.alert_rate < 1:
            raise ValidationError(f"alert_rate must be in (0, 1): {self.alert_rate}")
        mat = np.where(np.isfinite(mat), mat, 0.0)
        self._set_features(mat, feature_names, feature_info)
        self.forest_ = IsolationForest(
            n_estimators=self.trees,
            max_samples=min(self.max_samples, mat.shape[0]),
            random_state=self.seed,
            n_jobs=1,
        ).fit(mat)
        raw = -self.forest_.score_samples(mat)
        self.reference_ = np.sort(raw)
        self.center_ = np.median(mat, axis=0)
        mad = np.median(np.abs(mat - self.center_), axis=0)
        spread = np.std(mat, axis=0)
        self.spread_ = np.where(mad > 0, 1.4826 * mad, np.where(spread > 0, spread, 1.0))
        self.threshold_ = 1.0 - self.alert_rate
        return self

    def _get_state(self, state: ModelState) -> None:
        """Everything as arrays but the forest, which has no data form here: it travels as
        ``opaque``, a pickle the registry signs (``models/artifacts.py``)."""
        for name in ("reference_", "center_", "spread_"):
            state.arrays[name] = np.asarray(getattr(self, name), dtype=np.float64)
        state.meta["threshold"] = self.threshold_
        state.opaque = self.forest_

    def _set_state(self, state: ModelState) -> None:
        from sklearn.ensemble import IsolationForest

        for name in ("reference_", "center_", "spread_"):
            setattr(self, name, np.asarray(state.arrays[name], dtype=np.float64))
        self.threshold_ = float(state.meta["threshold"])
        if not isinstance(state.opaque, IsolationForest):
            raise ValidationError("the anomaly model's state holds no Isolation Forest")
        self.forest_ = state.opaque

    def raw_score(self, x: Any) -> F64:
        mat = as_matrix(x, len(self.feature_names_))
        return np.asarray(-self.forest_.score_samples(np.where(np.isfinite(mat), mat, 0.0)))

    def predict(self, x: Any) -> F64:
        raw = self.raw_score(x)
        ranks = np.searchsorted(self.reference_, raw, side="left")
        return np.asarray(ranks / len(self.reference_), dtype=np.float64)

    def alerts(self, x: Any) -> NDArray[np.bool_]:
        """Rows at or above the operating threshold (the ``alert_rate`` most unusual)."""
        return self.predict(x) >= self.threshold_

    def contributions(self, x: Any) -> F64:
        """How far each feature sits from the bank's usual value, in robust deviations: the
        forest itself gives no additive split, so the reasons name the features most out of
        line."""
        mat = as_matrix(x, len(self.feature_names_))
        return np.abs(np.where(np.isfinite(mat), mat, 0.0) - self.center_) / self.spread_
