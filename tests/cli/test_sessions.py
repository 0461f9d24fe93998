"""Every command closes the store it opened (``service.context.session``), whether it ends
well, with an error, or with an exit code of its own; before, each command opened a store and
left its engine and connection pool to the garbage collector."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from tactful.cli.app import app
from tactful.store.store import Store

runner = CliRunner()


@pytest.fixture
def stores(monkeypatch: pytest.MonkeyPatch) -> tuple[list[Store], list[Store]]:
    """The stores opened and the stores closed while the test runs."""
    opened: list[Store] = []
    closed: list[Store] = []
    real_open = Store.open.__func__  # type: ignore[attr-defined]
    real_close = Store.close

    def tracked_open(cls: type[Store], url: str | None = None, **kw: object) -> Store:
        store: Store = real_open(cls, url, **kw)
        opened.append(store)
        return store

    def tracked_close(self: Store) -> None:
        closed.append(self)
        real_close(self)

    monkeypatch.setattr(Store, "open", classmethod(tracked_open))
    monkeypatch.setattr(Store, "close", tracked_close)
    return opened, closed


@pytest.mark.parametrize(("args", "code"), [
    (["db", "status"], 0),
    (["insights", "C1"], 0),
    (["rules", "list"], 0),
    (["outcomes", "from-events"], 0),
    (["experiments", "status"], 0),
    (["keys", "list"], 0),
    (["explain", "no-such-decision"], None),  # a TactfulError: the command fails
    (["models", "show", "no-such-model"], None),
    (["decide", "C1", "--all"], 2),  # a usage error raised inside the session
])
def test_a_command_closes_the_store_it_opened(
    args: list[str], code: int | None, tmp_path: Path,
    stores: tuple[list[Store], list[Store]],
) -> None:
    db = f"sqlite:///{tmp_path / 'cli.db'}"
    result = runner.invoke(app, [*args, "--db", db])
    if code is not None:
        assert result.exit_code == code, result.output
    else:
        assert result.exit_code != 0
    opened, closed = stores
    assert opened
    assert [id(s) for s in closed] == [id(s) for s in opened]
