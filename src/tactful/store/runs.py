"""Run bookkeeping shared by imports, enrich runs and insight runs: who owns a run, whether that
owner is still alive, and one lock per batch command.

A process killed with SIGKILL (the OOM killer, a deploy, ``kill -9``) runs no clean-up, so its
run row would say ``running`` forever. Every run row therefore records its owner -- the host
(hostname and PID namespace), the process id and that process's start time -- and a heartbeat
the owner refreshes every ``HEARTBEAT_SECONDS``. The next run to start marks ``crashed`` each
``running`` row whose owner is gone:

* on the owner's own host, at once: the pid is gone, or belongs to a process that started at
  another time (a reused pid);
* from any other host (one PostgreSQL shared by several machines or containers), when the
  heartbeat is older than ``STALE_AFTER``.

A live owner on the same host is never marked, whatever its heartbeat. Rows written before
owners were recorded count as crashed once they are ``STALE_AFTER`` old.

Locks are rows of ``run_locks`` keyed by command (``enrich``, ``insights``), inserted with
``ON CONFLICT DO NOTHING`` on both backends, so two runs at once never meet on a primary key:
the second waits (``wait`` seconds) or raises ``RunInProgressError`` naming the holder. A lock
whose owner died is taken over by the same liveness check, so a killed run never blocks the
next one.
"""

from __future__ import annotations

import os
import socket
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, Table, and_, delete, select, update
from sqlalchemy.dialects import postgresql, sqlite

from tactful.errors import RunInProgressError
from tactful.store import schema

if TYPE_CHECKING:
    from tactful.store.store import Store

HEARTBEAT_SECONDS = 10.0
"""How often a running process refreshes ``heartbeat_at`` on what it owns."""
STALE_AFTER = timedelta(minutes=2)
"""A heartbeat this old, seen from another host, means the owner is gone (12 missed beats)."""
RUN_TABLES: dict[str, Table] = {
    "import": schema.imports,
    "enrich run": schema.enrich_runs,
    "insight run": schema.insight_runs,
}


@cache
def _host_of_pid(pid: int) -> str:
    """This machine's name and PID namespace: pids are comparable only inside one namespace
    (two containers may share a hostname or a SQLite volume, never a PID namespace)."""
    name = socket.gethostname()
    try:
        return f"{name}/{os.readlink('/proc/self/ns/pid')}"[:255]
    except OSError:
        return name[:255]


def _start_ticks(pid: int) -> int | None:
    """When process ``pid`` started (clock ticks since boot, Linux), or None if there is none.

    The start time tells a live owner from a newer process that was given the same pid."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text(encoding="ascii", errors="replace")
    except OSError:
        return None
    fields = stat.rsplit(")", 1)[-1].split()
    if not fields or fields[0] in ("Z", "X"):
        return None  # a zombie has exited: only its parent has not collected it yet
    try:
        return int(fields[19])  # field 22 of proc(5), counted after "pid (comm)"
    except (IndexError, ValueError):
        return None


def _can_see_pids() -> bool:
    return Path("/proc/self/stat").exists()


@dataclass(frozen=True, slots=True)
class Owner:
    """A process that owns a run: where it runs, its pid and the pid's start time."""

    host: str
    pid: int
    started: int | None

    @classmethod
    def me(cls) -> Owner:
        pid = os.getpid()
        return cls(_host_of_pid(pid), pid, _start_ticks(pid))

    def values(self, now: datetime | None = None) -> dict[str, Any]:
        """The owner columns of a run or lock row."""
        return {
            "host": self.host,
            "pid": self.pid,
            "pid_started": self.started,
            "heartbeat_at": now or datetime.now(UTC),
        }

    def describe(self) -> str:
        return f"pid {self.pid} on {self.host.split('/', 1)[0]}"


def is_alive(
    host: str | None,
    pid: int | None,
    started: int | None,
    heartbeat_at: datetime | None,
    *,
    since: datetime,
    now: datetime | None = None,
) -> bool:
    """Whether the owner recorded in a run or lock row may still be running.

    ``since`` is when the row was written (for rows without an owner, from before owners
    were recorded)."""
    now = now or datetime.now(UTC)
    me = Owner.me()
    if host is not None and pid is not None and host == me.host and _can_see_pids():
        ticks = _start_ticks(pid)
        return ticks is not None and (started is None or ticks == started)
    last = heartbeat_at or since
    return now - last < STALE_AFTER


@dataclass(frozen=True, slots=True)
class CrashedRun:
    kind: str
    """``import``, ``enrich run`` or ``insight run``."""
    run_id: int
    owner: str


def mark_crashed(store: Store) -> list[CrashedRun]:
    """Mark ``crashed`` every ``running`` run whose owner is gone; release their locks.

    Called when a run starts, so a killed run is reported as such by the next one."""
    now = datetime.now(UTC)
    found: list[CrashedRun] = []
    for kind, table in RUN_TABLES.items():
        c = table.c
        rows = store.rows(
            select(c.id, c.host, c.pid, c.pid_started, c.heartbeat_at, c.started_at).where(
                c.status == "running"
            )
        )
        dead = [
            r
            for r in rows
            if not is_alive(r[1], r[2], r[3], r[4], since=r[5], now=now)
        ]
        if not dead:
            continue
        with store.transaction() as conn:
            for r in dead:
                # The status condition keeps a run that finished meanwhile as it finished.
                done = conn.execute(
                    update(table)
                    .where(c.id == r[0], c.status == "running")
                    .values(status="crashed", finished_at=now)
                ).rowcount
                if done:
                    found.append(
                        CrashedRun(kind, int(r[0]), f"pid {r[2]} on {(r[1] or '?').split('/')[0]}")
                    )
    _release_dead_locks(store, now)
    return found


def _release_dead_locks(store: Store, now: datetime) -> None:
    locks = schema.run_locks
    c = locks.c
    rows = store.rows(select(c.name, c.token, c.host, c.pid, c.pid_started, c.heartbeat_at,
                             c.acquired_at))
    dead = [r for r in rows if not is_alive(r[2], r[3], r[4], r[5], since=r[6], now=now)]
    if dead:
        with store.transaction() as conn:
            for r in dead:
                conn.execute(delete(locks).where(and_(c.name == r[0], c.token == r[1])))


class Heartbeat:
    """Refreshes ``heartbeat_at`` on every running row and lock this process owns, from a
    daemon thread, until closed. One per run; several in one process only beat more often.

    Only another host reads the heartbeat (the owner's own host checks the pid), so a beat
    that fails -- a busy SQLite writer, a dropped connection -- is simply tried again."""

    def __init__(self, store: Store, *, interval: float = HEARTBEAT_SECONDS) -> None:
        self.store = store
        self.interval = interval
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="tactful-heartbeat", daemon=True)

    def __enter__(self) -> Heartbeat:
        self._thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def beat(self) -> None:
        me = Owner.me()
        now = datetime.now(UTC)
        with self.store.transaction() as conn:
            for table in (*RUN_TABLES.values(), schema.run_locks):
                mine = and_(table.c.host == me.host, table.c.pid == me.pid)
                if "status" in table.c:
                    mine = and_(mine, table.c.status == "running")
                conn.execute(update(table).where(mine).values(heartbeat_at=now))

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            try:
                self.beat()
            except Exception:  # noqa: S112 -- a missed beat is simply retried at the next one
                continue


@dataclass(slots=True)
class RunLock:
    """A held lock: ``attach`` names the run it protects, for whoever waits on it."""

    store: Store
    name: str
    token: str

    def attach(self, conn: Connection, table: Table, run_id: int) -> None:
        """Record (inside the run row's own transaction) which run holds the lock."""
        locks = schema.run_locks
        conn.execute(
            update(locks)
            .where(locks.c.name == self.name, locks.c.token == self.token)
            .values(run_table=table.name, run_id=run_id)
        )


def _insert_if_absent(conn: Connection, values: dict[str, Any]) -> bool:
    dialect = conn.dialect.name
    ins = (postgresql.insert if dialect == "postgresql" else sqlite.insert)(schema.run_locks)
    stmt = (
        ins.values(**values)
        .on_conflict_do_nothing(index_elements=["name"])
        .returning(schema.run_locks.c.token)  # rowcount is not reliable here on psycopg
    )
    return conn.execute(stmt).first() is not None


def _holder(store: Store, name: str) -> Any:
    c = schema.run_locks.c
    rows = store.rows(select(schema.run_locks).where(c.name == name))
    return rows[0] if rows else None


def describe_holder(row: Any) -> str:
    """``enrich run 7 (pid 4242 on host-a, since 09:12:03 UTC)`` for a lock row."""
    kinds = {t.name: k for k, t in RUN_TABLES.items()}
    run = (
        f"{kinds.get(row.run_table, row.run_table)} {row.run_id}"
        if row.run_id is not None
        else "one still starting"
    )
    host = (row.host or "?").split("/", 1)[0]
    return f"{run} (pid {row.pid} on {host}, since {row.acquired_at:%Y-%m-%d %H:%M:%S} UTC)"


@contextmanager
def exclusive(
    store: Store,
    name: str,
    *,
    wait: float = 0.0,
    poll: float = 0.5,
    on_wait: Callable[[str], None] | None = None,
) -> Iterator[RunLock]:
    """Hold the ``name`` lock for the block: one ``tactful enrich`` (or insight run) at a time.

    When a live run holds it, wait up to ``wait`` seconds (``on_wait`` is told once whom we
    wait for), then raise ``RunInProgressError`` naming that run. A lock whose owner died is
    taken over at once."""
    me = Owner.me()
    token = uuid.uuid4().hex
    deadline = time.monotonic() + wait
    told = False
    while True:
        now = datetime.now(UTC)
        with store.transaction() as conn:
            got = _insert_if_absent(
                conn, {"name": name, "token": token, "acquired_at": now, **me.values(now)}
            )
        if got:
            break
        holder = _holder(store, name)
        if holder is None:
            continue  # released between our insert and our look: try again
        alive = is_alive(holder.host, holder.pid, holder.pid_started, holder.heartbeat_at,
                         since=holder.acquired_at, now=now)
        if not alive:
            c = schema.run_locks.c
            with store.transaction() as conn:
                conn.execute(delete(schema.run_locks).where(c.name == name,
                                                            c.token == holder.token))
            continue
        if time.monotonic() >= deadline:
            raise RunInProgressError(
                f"another {name} run is in progress: {describe_holder(holder)}; "
                "wait for it to finish, or give --wait SECONDS to queue behind it"
            )
        if on_wait and not told:
            on_wait(f"waiting for {describe_holder(holder)}")
            told = True
        time.sleep(max(0.0, min(poll, deadline - time.monotonic())))
    try:
        yield RunLock(store, name, token)
    finally:
        c = schema.run_locks.c
        with store.transaction() as conn:
            conn.execute(delete(schema.run_locks).where(c.name == name, c.token == token))
