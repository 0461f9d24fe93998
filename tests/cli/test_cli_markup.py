"""Data is printed as data: Rich markup in a description, a title or a name is not interpreted.

Before, a transaction described ``[/bold] x`` made ``tactful profile`` crash with Rich's
MarkupError ("closing tag '[/bold]' ... doesn't match any open tag"), and a title holding
``[red]...`` restyled the screen.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import insert, select, update
from typer.testing import CliRunner

from tactful.cli import app as cli
from tactful.cli import insights as insights_cli
from tactful.cli.app import app
from tactful.store import schema
from tactful.store.store import Store

DATA = Path(__file__).parents[1] / "data"
HOSTILE = ["[/bold] x", "[red]not red[/red]", "[link=https://evil.example]bank[/link]"]


@pytest.fixture(autouse=True)
def wide_console(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(cli.console, "width", 250)
    monkeypatch.setattr(insights_cli.console, "width", 250)


@pytest.fixture
def db(tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    files = ["customers.csv", "accounts.csv", "consents.csv", "transactions_sparkasse_de.csv"]
    CliRunner().invoke(
        app,
        [
            "ingest",
            *(str(DATA / f) for f in files),
            "--db",
            url,
            "--report-dir",
            str(tmp_path / "r"),
        ],
    )
    store = Store.open(url)
    t, a = schema.transactions, schema.accounts
    accounts = [r[0] for r in store.rows(select(a.c.id).where(a.c.customer_id == "C-1001"))]
    ids = [
        r[0]
        for r in store.rows(
            select(t.c.id).where(t.c.account_id.in_(accounts)).order_by(t.c.booked_at.desc())
        )
    ][:3]
    assert ids, "the fixture data has no transaction of C-1001"
    account = accounts[0]
    now = datetime.now(UTC)
    with store.transaction() as conn:
        for tid, text in zip(ids, HOSTILE, strict=False):
            conn.execute(update(t).where(t.c.id == tid).values(description=text))
        conn.execute(update(a).where(a.c.id == account).values(name="[/] account"))
        conn.execute(
            insert(schema.insights).values(
                insight_id="ins-markup",
                customer_id="C-1001",
                detector="spending_spike",
                family="spending",
                subject="s",
                period="2025-01",
                state="live",
                relevance=0.9,
                urgency="high",
                facts={},
                locale="en",
                title=HOSTILE[0],
                message=HOSTILE[1],
                call_to_action=HOSTILE[2],
                action="none",
                explanation="[/dim] because",
                consent_purpose="personalization",
                min_level="basic",
                as_of=date.today(),
                produced_at=now,
                expires_at=now + timedelta(days=30),
                cooldown_until=now + timedelta(days=30),
                state_changed_at=now,
            )
        )
    store.close()
    return url


def _run(*args: str) -> str:
    result = CliRunner().invoke(app, list(args), catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result.output


def test_profile_prints_descriptions_and_names_as_they_are(db: str) -> None:
    out = _run("profile", "C-1001", "--db", db)
    assert HOSTILE[0] in out  # the description: the command crashed on it
    for text in ["[/] account"]:
        assert text in out, text


def test_insights_prints_titles_and_messages_as_they_are(db: str) -> None:
    out = _run("insights", "C-1001", "--db", db)
    for text in [*HOSTILE, "[/dim] because"]:
        assert text in out, text
