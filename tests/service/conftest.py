"""A small simulated bank for the service tests, built once per session through the product's
own path (simulate, ingest, enrich, insights) and copied for each test that changes it."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select

from tactful.batch.enrich import run_enrich
from tactful.batch.insights import run_insights
from tactful.config import Settings
from tactful.ingest.loader import Loader
from tactful.service.keys import create_key
from tactful.service.records import Scope
from tactful.simulate import SimulationConfig, simulate
from tactful.store import schema
from tactful.store.store import Store

CONFIG = SimulationConfig(customers=30, months=3, seed=5, start=date(2025, 1, 1))


def build(store: Store, exports: Path, reports: Path) -> None:
    Loader(store, report_dir=reports).ingest(
        [p for p in sorted(exports.iterdir()) if p.is_file()])
    run_enrich(store)
    run_insights(store)


@pytest.fixture(scope="session")
def exports(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("service-exports")
    simulate(CONFIG, out, "parquet")
    return out


@pytest.fixture(scope="session")
def bank_file(exports: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("service-bank")
    store = Store.open(f"sqlite:///{out / 'bank.db'}")
    build(store, exports, out / "reports")
    store.close()
    return out / "bank.db"


@pytest.fixture
def bank(bank_file: Path, tmp_path: Path) -> Iterator[Store]:
    """A copy of the bank on SQLite, this test's to change."""
    copy = tmp_path / "bank.db"
    shutil.copy(bank_file, copy)
    store = Store.open(f"sqlite:///{copy}")
    try:
        yield store
    finally:
        store.close()


def customers(store: Store) -> list[str]:
    return sorted(str(r[0]) for r in store.rows(select(schema.customers.c.id)))


@dataclass
class Api:
    """An app over a copy of the bank (the data's clock), its client and one key per scope;
    ``mine`` is the customer the app key is bound to, ``other`` someone else."""

    app: FastAPI
    client: TestClient
    store: Store
    admin: str
    ingest: str
    app_key: str
    mine: str
    other: str

    def as_(self, token: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {token}"}


def make_api(store: Store, **settings: object) -> Api:
    from tactful.api.app import create_app

    ids = customers(store)
    app = create_app(store, Settings(api_clock="data", **settings))  # type: ignore[arg-type]
    return Api(app, TestClient(app, raise_server_exceptions=False), store,
               create_key(store, scope=Scope.ADMIN).token,
               create_key(store, scope=Scope.INGEST).token,
               create_key(store, scope=Scope.APP, customer_id=ids[0]).token, ids[0], ids[1])


@pytest.fixture
def api(bank: Store) -> Api:
    return make_api(bank)


@pytest.fixture(scope="module")
def pg_bank_url(pg_server: str, exports: Path,
                tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The same bank on a PostgreSQL database of its own, dropped afterwards."""
    import uuid

    import psycopg

    name = f"tactful_test_{uuid.uuid4().hex[:12]}"
    dsn = pg_server.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    url = f"{pg_server.rsplit('/', 1)[0]}/{name}"
    try:
        store = Store.open(url)
        build(store, exports, tmp_path_factory.mktemp("pg-reports"))
        store.close()
        yield url
    finally:
        with psycopg.connect(dsn, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
