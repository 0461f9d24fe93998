"""The model layer's store edge on SQLite and PostgreSQL: history, consent, batch scoring."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import numpy as np
import polars as pl

from tactful.models.features import FEATURES, customer_features
from tactful.models.history import load_history, refused_customers
from tactful.models.logistic import LogisticModel
from tactful.models.registry import Artifact, ModelRegistry
from tactful.models.scoring import score_customers, stored_scores
from tactful.store import schema
from tactful.store.store import Store

T0 = datetime(2025, 1, 1, tzinfo=UTC)
IDS = ["C1", "C2", "C3"]


def _fill(store: Store) -> None:
    customers = pl.DataFrame(
        {
            "id": IDS,
            "region": ["EU"] * 3,
            "locale": ["de-DE"] * 3,
            "timezone": ["Europe/Berlin"] * 3,
        }
    )
    accounts = pl.DataFrame(
        {
            "id": [f"A{c}" for c in IDS],
            "customer_id": IDS,
            "type": ["checking"] * 3,
            "currency": ["EUR"] * 3,
            "opened_on": [date(2020, 1, 1)] * 3,
        }
    )
    n = 40
    txns = pl.DataFrame(
        {
            "id": [f"T{c}{i}" for c in IDS for i in range(n)],
            "account_id": [f"A{c}" for c in IDS for _ in range(n)],
            "booked_at": [T0 + timedelta(days=3 * i) for _ in IDS for i in range(n)],
            "amount_minor": [-1_000 * (k + 1) for k, _ in enumerate(IDS) for _ in range(n)],
            "currency": ["EUR"] * (3 * n),
            "channel": ["card"] * (3 * n),
            "category": ["FOOD_AND_DRINK"] * (3 * n),
        },
        schema_overrides={"booked_at": pl.Datetime("us", "UTC")},
    )
    events = pl.DataFrame(
        {
            "id": ["E1", "E2"],
            "customer_id": ["C1", "C1"],
            "kind": ["login", "page_view"],
            "occurred_at": [T0 + timedelta(days=100)] * 2,
        },
        schema_overrides={"occurred_at": pl.Datetime("us", "UTC")},
    )
    consents = pl.DataFrame(
        {
            "customer_id": ["C1", "C1", "C2", "C2", "C2", "C3", "C3", "C3"],
            "purpose": ["profiling", "personalization", "profiling", "personalization",
                        "profiling", "marketing", "profiling", "personalization"],
            "at": [T0, T0, T0, T0, T0 + timedelta(days=10), T0, T0, T0],
            "status": ["granted", "granted", "granted", "granted", "withdrawn", "denied",
                       "granted", "granted"],
        },
        schema_overrides={"at": pl.Datetime("us", "UTC")},
    )
    with store.transaction() as conn:
        for table, frame in (
            ("customers", customers),
            ("accounts", accounts),
            ("transactions", txns),
            ("events", events),
            ("consents", consents),
        ):
            store.write(conn, table, frame)


def test_history_reads_typed_aware_frames(store: Store) -> None:
    _fill(store)
    h = load_history(store)
    assert h.transactions.height == 120 and h.logins.height == 1
    assert h.transactions.schema["booked_at"] == pl.Datetime("us", "UTC")
    assert h.end == T0 + timedelta(days=117)
    f = customer_features(h, T0 + timedelta(days=101))
    assert f.columns == ["customer_id", *FEATURES]
    assert f.filter(pl.col("customer_id") == "C1")["logins_30d"][0] == 1.0


def test_a_withdrawn_profiling_consent_stops_scoring(store: Store, tmp_path: Path) -> None:
    _fill(store)
    assert refused_customers(store) == {"C2"}  # C3 denied marketing only
    registry = ModelRegistry(store, tmp_path / "models")
    rng = np.random.default_rng(0)
    x = rng.normal(size=(300, len(FEATURES)))
    y = (x[:, FEATURES.index("outflow_30d")] > 0).astype(np.int8)
    model = LogisticModel().fit(x, y, FEATURES)
    version = registry.register(
        "churn",
        Artifact(model, x[:10], model.predict(x[:10])),
        target="t",
        metrics={},
        fairness=None,
        data_window=None,
        validation="v",
        model_card="c",
        created_by="test",
    )
    result = score_customers(store, registry, "churn", version=version.version, candidate=True)
    assert (result.scored, result.skipped_for_consent) == (2, 1)
    assert stored_scores(store, "C2") == []
    assert stored_scores(store, "C1")[0][0] == "churn"
    with store.transaction() as conn:  # a customer the bank loaded no consent for
        conn.execute(schema.customers.insert().values(
            id="C4", region="EU", locale="de_DE", timezone="Europe/Berlin"))
    assert refused_customers(store) == {"C2", "C4"}
