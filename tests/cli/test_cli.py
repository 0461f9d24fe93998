"""The command line as a user runs it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tactful.cli import app as cli
from tactful.cli.app import app
from tactful.store.engine import head_revision

DATA = Path(__file__).parents[1] / "data"
runner = CliRunner()


@pytest.fixture(autouse=True)
def wide_console(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(cli.console, "width", 200)


def _run(*args: str) -> tuple[int, str]:
    result = runner.invoke(app, list(args), catch_exceptions=False)
    return result.exit_code, result.output


def test_ingest_twice_then_profile(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'cli.db'}"
    files = [
        str(DATA / n)
        for n in (
            "customers.csv",
            "products.csv",
            "accounts.csv",
            "consents.csv",
            "events.jsonl",
            "transactions_sparkasse_de.csv",
        )
    ]
    code, out = _run("ingest", *files, "--db", db, "--report-dir", str(tmp_path / "r"))
    assert code == 3, out  # rejects were reported
    assert "rejects" in out and "summary written" in out
    summary = json.loads((tmp_path / "r" / "summary.json").read_text())
    assert sum(f["inserted"] for f in summary) > 0
    code, _ = _run("ingest", *files, "--db", db, "--report-dir", str(tmp_path / "r2"))
    again = json.loads((tmp_path / "r2" / "summary.json").read_text())
    assert sum(f["inserted"] for f in again) == 0

    code, out = _run("profile", "C-1001", "--db", db)
    assert code == 0, out
    for expected in (
        "Customer C-1001",
        "DE89370400440532013000",
        "Girokonto",
        "Everyday Current Account",
        "07:00 local",
        "marketing: withdrawn",
        "personalization: granted",
    ):
        assert expected in out, expected

    code, out = _run("profile", "C-1001", "--json", "--db", db)
    assert json.loads(out)["customer"]["id"] == "C-1001"


def test_db_commands(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'new.db'}"
    code, out = _run("db", "status", "--db", db)
    assert code == 0 and "revision none" in out
    code, out = _run("db", "upgrade", "--db", db)
    assert code == 0 and f"at revision {head_revision()}" in out
    code, out = _run("db", "status", "--db", db)
    assert "transactions" in out


def test_unknown_customer_is_a_clear_error(tmp_path: Path) -> None:
    result = runner.invoke(app, ["profile", "nobody", "--db", f"sqlite:///{tmp_path / 'x.db'}"])
    assert result.exit_code != 0
    assert "customer 'nobody' is not in the store" in str(result.exception)
