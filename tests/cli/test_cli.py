"""The command line as a user runs it."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import insert
from typer.testing import CliRunner

from tactful.cli import app as cli
from tactful.cli import understand
from tactful.cli.app import app
from tactful.store import schema
from tactful.store.engine import head_revision
from tactful.store.store import Store

DATA = Path(__file__).parents[1] / "data"
runner = CliRunner()


@pytest.fixture(autouse=True)
def wide_console(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(cli.console, "width", 200)
    monkeypatch.setattr(understand.console, "width", 200)


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
    assert "customer … is not in the store" in str(result.exception)


def test_understanding_commands(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'u.db'}"
    names = ("customers.csv", "accounts.csv", "transactions_sparkasse_de.csv")
    files = [str(DATA / n) for n in names]
    code, out = _run("ingest", *files, "--enrich", "--db", db, "--report-dir", str(tmp_path / "r"))
    assert "full enrichment of" in out, out
    code, out = _run("enrich", "--db", db)
    assert code == 0 and "incremental enrichment of 0 customers" in out, out

    code, out = _run("categories", "--sensitive")
    assert "ENTERTAINMENT_CASINOS_AND_GAMBLING" in out and "FOOD_AND_DRINK_COFFEE" not in out

    code, out = _run(
        "rules", "add", "--id", "landlord", "--when", "description contains MIETE",
        "--category", "RENT_AND_UTILITIES_RENT", "--db", db,
    )
    assert code == 0 and "saved as version 1" in out, out
    code, out = _run("rules", "list", "--db", db)
    assert "landlord" in out and "RENT_AND_UTILITIES_RENT" in out
    code, out = _run("enrich", "--db", db)
    assert "full enrichment" in out  # a rules change re-applies everywhere
    rules_file = tmp_path / "rules.toml"
    rules_file.write_text(
        '[[rules]]\nid = "gym"\ncategory_detailed = "PERSONAL_CARE_GYMS_AND_FITNESS_CENTERS"\n'
        '[[rules.conditions]]\nfield = "description"\noperator = "contains"\nvalue = "FITNESS"\n'
    )
    code, out = _run("rules", "import", str(rules_file), "--db", db)
    assert code == 0 and "1 rule(s) imported" in out, out
    code, out = _run("rules", "delete", "landlord", "--db", db)
    assert "retired (version 2)" in out
    code, out = _run("rules", "history", "--db", db)
    assert out.count("landlord") == 2

    result = runner.invoke(app, ["rules", "add", "--id", "bad", "--when", "amout gt 5",
                                 "--category", "RENT_AND_UTILITIES_RENT", "--db", db])
    assert result.exit_code != 0
    assert "rule 'bad': field 'conditions[0].field': unknown feature 'amout'" in str(
        result.exception)


def test_a_rule_the_regex_engine_cannot_run_is_refused_and_a_stored_one_is_skipped(
    tmp_path: Path,
) -> None:
    db = f"sqlite:///{tmp_path / 'regex.db'}"
    names = ("customers.csv", "accounts.csv", "transactions_sparkasse_de.csv")
    _run("ingest", *[str(DATA / n) for n in names], "--db", db, "--report-dir", str(tmp_path))
    result = runner.invoke(app, ["rules", "add", "--id", "lookahead", "--when",
                                 "description regex (?=X)", "--category",
                                 "RENT_AND_UTILITIES_RENT", "--db", db])
    assert result.exit_code != 0
    assert str(result.exception) == (
        "rule 'lookahead': field 'conditions[0].value': regex '(?=X)' does not compile: "
        "look-around, including look-ahead and look-behind, is not supported"
    )
    rules_file = tmp_path / "rules.toml"
    rules_file.write_text('[[rules]]\nid = "twice"\ncategory_detailed = "RENT_AND_UTILITIES_RENT"\n'
                          '[[rules.conditions]]\nfield = "description"\noperator = "regex"\n'
                          "value = '(MIETE) \\1'\n")
    result = runner.invoke(app, ["rules", "import", str(rules_file), "--db", db])
    assert str(result.exception) == (  # the file, the rule and the field
        f"{rules_file}: rule 'twice': field 'conditions[0].value': regex '(MIETE) \\\\1' does "
        "not compile: backreferences are not supported")

    store = Store.open(db)  # as an older version, which checked with Python's re, stored it
    with store.transaction() as conn:
        conn.execute(insert(schema.category_rules).values(
            rule_id="lookahead", version=1, deleted=False, created_by="older version",
            created_at=datetime(2025, 1, 1, tzinfo=UTC), definition={
                "id": "lookahead", "category_detailed": "RENT_AND_UTILITIES_RENT",
                "conditions": [{"field": "description", "operator": "regex", "value": "(?=X)"}]}))
    store.close()
    code, out = _run("enrich", "--db", db)
    assert code == 0 and "full enrichment of" in out, out
    assert (
        "warning: rule 'lookahead' skipped: field 'conditions[0].value': regex '(?=X)' does "
        "not compile: look-around, including look-ahead and look-behind, is not supported; the "
        "other rules apply"
    ) in out


@pytest.mark.parametrize(("flags", "logged"), [([], False), (["--access-log"], True)])
def test_serve_writes_no_access_log_unless_asked(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, flags: list[str], logged: bool) -> None:
    """A line per request costs every request CPU; /metrics counts them anyway."""
    import uvicorn

    seen: dict[str, object] = {}
    monkeypatch.setattr(uvicorn, "run", lambda *args, **kwargs: seen.update(kwargs))
    for name in ("TACTFUL_DATABASE_URL", "TACTFUL_API_CLOCK", "TACTFUL_API_DELIVER"):
        monkeypatch.delenv(name, raising=False)
    result = runner.invoke(app, ["serve", "--db", f"sqlite:///{tmp_path / 'bank.db'}", *flags],
                           catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert seen["access_log"] is logged
    assert seen["log_level"] == ("info" if logged else "warning")
