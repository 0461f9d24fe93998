"""Shared fixtures: a fresh store per test on every backend.

PostgreSQL tests create their own database and drop it afterwards. They skip, saying so, only
when no server answers -- and never under CI (``CI=true``), where a missing server is a failure.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from tactful.store.store import Store

DATA = Path(__file__).parent / "data"
SHARED_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"
PG_ADMIN_URL = os.environ.get(
    "TACTFUL_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)


@pytest.fixture(autouse=True)
def _own_secret_key_file(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every test signs with a key of its own, never the one in the user's home."""
    monkeypatch.delenv("TACTFUL_SECRET_KEY", raising=False)
    key_dir = tmp_path_factory.mktemp("secret")
    monkeypatch.setenv("TACTFUL_SECRET_KEY_FILE", str(key_dir / "secret.key"))


def _pg_available() -> str | None:
    """None if the server answers, else why not."""
    try:
        import psycopg
    except ImportError as exc:
        return f"psycopg is not installed ({exc})"
    dsn = PG_ADMIN_URL.replace("postgresql+psycopg://", "postgresql://")
    try:
        with psycopg.connect(dsn, connect_timeout=3):
            return None
    except psycopg.OperationalError as exc:
        return f"no PostgreSQL server answers at {PG_ADMIN_URL}: {exc}".strip()


@pytest.fixture(scope="session")
def pg_server() -> str:
    reason = _pg_available()
    if reason:
        if os.environ.get("CI"):
            pytest.fail(f"CI must run the PostgreSQL store tests, but {reason}")
        pytest.skip(reason)
    return PG_ADMIN_URL


def _pg_database(admin_url: str) -> Iterator[str]:
    import psycopg

    name = f"tactful_test_{uuid.uuid4().hex[:12]}"
    dsn = admin_url.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    base = admin_url.rsplit("/", 1)[0]
    try:
        yield f"{base}/{name}"
    finally:
        with psycopg.connect(dsn, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A URL of an empty database on each backend."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'tactful.db'}"
        return
    admin = request.getfixturevalue("pg_server")
    yield from _pg_database(admin)


@pytest.fixture
def store(store_url: str) -> Iterator[Store]:
    s = Store.open(store_url)
    try:
        yield s
    finally:
        s.close()


@pytest.fixture
def sqlite_store(tmp_path: Path) -> Iterator[Store]:
    s = Store.open(f"sqlite:///{tmp_path / 'tactful.db'}")
    try:
        yield s
    finally:
        s.close()
