"""Run liveness and locks (``store/runs.py``), on SQLite and PostgreSQL: a run whose process
died is marked ``crashed`` by the next start, a run whose process lives never is, and one
batch command runs at a time."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import insert, select, update

from tactful.errors import RunInProgressError
from tactful.ingest.loader import Loader
from tactful.store import runs, schema
from tactful.store.store import Store

DATA = Path(__file__).resolve().parents[1] / "data"


def _status(store: Store, table: str, run_id: int) -> str:
    t = schema.metadata.tables[table]
    return str(store.rows(select(t.c.status).where(t.c.id == run_id))[0][0])


def _kill_9_after_starting_an_import(store_url: str) -> tuple[int, int]:
    """A real process that starts an import and is then killed with SIGKILL: (pid, import id)."""
    code = textwrap.dedent(
        f"""
        import sys, time
        from tactful.store.store import Store
        store = Store.open({store_url!r})
        print(store.start_import(path="big.csv", sha256="0" * 64, fmt="csv"), flush=True)
        time.sleep(600)
        """
    )
    child = subprocess.Popen(
        [sys.executable, "-c", code], stdout=subprocess.PIPE, text=True, env=os.environ.copy()
    )
    assert child.stdout is not None
    import_id = int(child.stdout.readline())
    child.send_signal(signal.SIGKILL)
    child.wait(timeout=30)
    child.stdout.close()
    return child.pid, import_id


def test_an_import_killed_mid_way_is_marked_crashed_by_the_next_ingest(
    store_url: str, tmp_path: Path
) -> None:
    pid, killed = _kill_9_after_starting_an_import(store_url)
    store = Store.open(store_url)
    try:
        assert _status(store, "imports", killed) == "running"  # nobody said otherwise yet
        report = Loader(store, report_dir=tmp_path).ingest([DATA / "customers.csv"])
        assert _status(store, "imports", killed) == "crashed"
        assert [(r.kind, r.run_id) for r in report.crashed] == [("import", killed)]
        assert report.crashed[0].owner.startswith(f"pid {pid} on ")
        assert _status(store, "imports", report.files[0].import_id or 0) == "done"
    finally:
        store.close()


def _running(store: Store, table: str, **owner: object) -> int:
    t = schema.metadata.tables[table]
    values: dict[str, object] = {"started_at": datetime.now(UTC), "status": "running", **owner}
    if table == "imports":
        values |= {"path": "x.csv", "sha256": "0" * 64, "format": "csv"}
    if table == "enrich_runs":
        values |= {"mode": "full"}
    with store.transaction() as conn:
        return int(conn.execute(insert(t).values(**values)).inserted_primary_key[0])  # type: ignore[index]


@pytest.mark.parametrize("table", ["imports", "enrich_runs", "insight_runs"])
def test_who_is_marked_crashed(store: Store, table: str) -> None:
    me = runs.Owner.me()
    now = datetime.now(UTC)
    old = now - runs.STALE_AFTER - timedelta(seconds=1)
    cases = {
        # this very process: alive, whatever its heartbeat says
        "alive, stale heartbeat": (me.values(old), "running"),
        # the same pid started at another time: the owner died and its pid was given again
        "reused pid": ({**me.values(now), "pid_started": (me.started or 0) + 1}, "crashed"),
        # another host: its heartbeat decides
        "other host, fresh": ({**me.values(now), "host": "elsewhere/pid:[1]"}, "running"),
        "other host, stale": ({**me.values(old), "host": "elsewhere/pid:[1]"}, "crashed"),
        # written before owners were recorded
        "no owner, recent": ({}, "running"),
    }
    ids = {name: _running(store, table, **values) for name, (values, _) in cases.items()}
    t = schema.metadata.tables[table]
    with store.transaction() as conn:
        no_owner_old = conn.execute(
            insert(t).values(**{**_defaults(table), "started_at": old, "status": "running"})
        ).inserted_primary_key[0]  # type: ignore[index]
    runs.mark_crashed(store)
    got = {name: _status(store, table, run_id) for name, run_id in ids.items()}
    assert got == {name: expected for name, (_, expected) in cases.items()}
    assert _status(store, table, int(no_owner_old)) == "crashed"


def _defaults(table: str) -> dict[str, object]:
    if table == "imports":
        return {"path": "x.csv", "sha256": "0" * 64, "format": "csv"}
    if table == "enrich_runs":
        return {"mode": "full"}
    return {}


def test_a_finished_run_is_left_as_it_finished(store: Store) -> None:
    dead = {**runs.Owner.me().values(), "pid_started": -1}
    run_id = _running(store, "enrich_runs", **dead)
    with store.transaction() as conn:
        conn.execute(update(schema.enrich_runs).values(status="done"))
    assert runs.mark_crashed(store) == []
    assert _status(store, "enrich_runs", run_id) == "done"


def test_a_second_run_is_told_which_run_holds_the_lock(store: Store) -> None:
    with runs.exclusive(store, "insights") as lock:
        run_id = _running(store, "insight_runs", **runs.Owner.me().values())
        with store.transaction() as conn:
            lock.attach(conn, schema.insight_runs, run_id)
        with pytest.raises(RunInProgressError) as err, runs.exclusive(store, "insights"):
            pass
        host = runs.Owner.me().host.split("/")[0]
        message = str(err.value)
        assert message.startswith(
            f"another insights run is in progress: insight run {run_id} "
            f"(pid {os.getpid()} on {host}, since "
        )
        assert message.endswith(
            " UTC); wait for it to finish, or give --wait SECONDS to queue behind it"
        )
        assert err.value.status_code == 409
    with runs.exclusive(store, "insights"):  # released: the next one gets it
        pass


def test_a_waiting_run_goes_when_the_first_ends(store: Store) -> None:
    order: list[str] = []
    told: list[str] = []
    held = threading.Event()

    def first() -> None:
        with runs.exclusive(store, "enrich"):
            held.set()
            time.sleep(1.0)
            order.append("first done")

    thread = threading.Thread(target=first)
    thread.start()
    held.wait(30)
    with runs.exclusive(store, "enrich", wait=60, poll=0.05, on_wait=told.append):
        order.append("second in")
    thread.join()
    assert order == ["first done", "second in"]
    assert len(told) == 1
    assert told[0].startswith(f"waiting for one still starting (pid {os.getpid()} on ")


def test_a_lock_whose_owner_died_is_taken_over(store: Store) -> None:
    with store.transaction() as conn:
        conn.execute(
            insert(schema.run_locks).values(
                name="enrich", token="dead", acquired_at=datetime.now(UTC),
                **{**runs.Owner.me().values(), "pid_started": -1},
            )
        )
    with runs.exclusive(store, "enrich") as lock:
        assert lock.token != "dead"
    assert store.rows(select(schema.run_locks)) == []


def test_a_zombie_is_not_alive(tmp_path: Path) -> None:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    pid = child.pid
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:  # exited, not yet collected: a zombie
        stat = Path(f"/proc/{pid}/stat").read_text()
        if stat.rsplit(")", 1)[1].split()[0] == "Z":
            break
        time.sleep(0.01)
    me = runs.Owner.me()
    assert not runs.is_alive(me.host, pid, None, datetime.now(UTC), since=datetime.now(UTC))
    child.wait()


def test_the_heartbeat_refreshes_what_this_process_runs(store: Store) -> None:
    old = datetime.now(UTC) - timedelta(hours=1)
    mine = _running(store, "imports", **runs.Owner.me().values(old))
    theirs = _running(store, "imports", **{**runs.Owner.me().values(old), "pid": 1})
    runs.Heartbeat(store).beat()
    t = schema.imports
    beats = dict(store.rows(select(t.c.id, t.c.heartbeat_at)))
    assert beats[mine] > old + timedelta(minutes=59)
    assert beats[theirs] == old
