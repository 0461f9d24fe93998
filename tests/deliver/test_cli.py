"""``tactful deliver --once`` from the command line, into the in-app feed."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import select
from typer.testing import CliRunner

from tactful.cli.app import app
from tactful.store import schema
from tactful.store.store import Store

from .conftest import NOW, add_customer, add_decision


def test_deliver_once_sends_what_is_due_and_says_so(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    store = Store.open(url)
    add_customer(store, "CUS-000100")
    add_decision(store, "CUS-000100", channel="in_app", send_at=NOW)
    result = CliRunner().invoke(app, ["deliver", "--once", "--db", url, "--batch", "5"])
    assert result.exit_code == 0, result.output
    assert "1 enqueued, 1 claimed: 1 sent" in " ".join(result.output.split())
    assert len(store.rows(select(schema.feed.c.idempotency_key))) == 1
    store.close()
