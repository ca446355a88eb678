"""One process runs a line at a time: a lock per station in its store, taken at start.

`station demo` and `station run` take it before touching a batch; a second process on the same
store (SQLite) or line (PostgreSQL) is refused at start naming the one that runs (pid, host,
command, since). The lock is a row `run_lock:<station id>` in the store's `meta` table:

- SQLite: the row's primary key decides who inserted first. A row whose process is gone (same
  host, pid not alive, or alive but started at another time: a reused pid) is stale, after a
  crash or a kill -9, and is taken over with a note. A row from another host cannot be checked
  from here: it refuses, and says how to clear it (`station run --take-lock`).
- PostgreSQL: a session advisory lock keyed by the station id decides; it dies with the holder's
  connection, so a row left by a dead holder is always stale whatever its host. The row says who
  holds it, and the server process of its session: `--take-lock` ends that session (a host
  that vanished without closing its connections) and takes the lock.

Portable: no fcntl or msvcrt; liveness through psutil (a dependency already).
"""

from __future__ import annotations

import json
import os
import socket
import sys
import time
import zlib
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path

import psutil
from sqlalchemy import Engine, delete, func, insert, select
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError

from station.errors import StationError
from station.store import audit
from station.store.models import Meta

_meta = Meta.__table__


class LineBusy(StationError):
    """Another process runs a batch on this station's store (exit 2: nothing was started)."""


@dataclass(frozen=True)
class Holder:
    """Who holds a station's run lock."""

    pid: int
    host: str
    command: str
    since: str
    started: float = 0.0  # the process's start time (psutil), to tell a reused pid
    backend: int = 0  # PostgreSQL: the server process of the session holding the advisory lock

    def describe(self) -> str:
        """`pid 123 on host line1 since 2026-…: station demo …`."""
        return f"pid {self.pid} on host {self.host} since {self.since}: {self.command}"


def _process_started(pid: int) -> float | None:
    try:
        return psutil.Process(pid).create_time()
    except (psutil.NoSuchProcess, psutil.AccessDenied, psutil.ZombieProcess):
        return None


def is_stale(h: Holder, host: str | None = None) -> bool:
    """True when `h` is known dead: same host and its pid is gone, or now another process."""
    if h.host != (host or socket.gethostname()):
        return False  # cannot look at another host's processes
    if not psutil.pid_exists(h.pid):
        return True
    started = _process_started(h.pid)
    if started is None:  # gone since, or a zombie
        return not psutil.pid_exists(h.pid) or _is_zombie(h.pid)
    return bool(h.started) and abs(started - h.started) > 1.0


def _is_zombie(pid: int) -> bool:
    try:
        return psutil.Process(pid).status() == psutil.STATUS_ZOMBIE
    except psutil.Error:
        return True


def is_this_process(h: Holder) -> bool:
    """Does `h` name the calling process (this host, this pid, this process's start)?"""
    me = this_process()
    return (h.host, h.pid) == (me.host, me.pid) and abs(h.started - me.started) <= 1.0


def this_process(command: str | None = None) -> Holder:
    """A Holder describing the calling process."""
    cmd = command or " ".join([Path(sys.argv[0]).name, *sys.argv[1:]])
    return Holder(
        pid=os.getpid(),
        host=socket.gethostname(),
        command=cmd[:300],
        since=datetime.now(UTC).isoformat(timespec="seconds"),
        started=_process_started(os.getpid()) or 0.0,
    )


def _key(station_id: str) -> str:
    return f"run_lock:{station_id}"[:64]


def _raw_row(conn: Connection, station_id: str) -> str | None:
    return conn.execute(select(_meta.c.value).where(_meta.c.key == _key(station_id))).scalar()


def _parse(raw: str) -> Holder:
    try:
        return Holder(**json.loads(raw))
    except (ValueError, TypeError):
        return Holder(0, "?", f"unreadable lock row {raw[:80]!r}", "?")


def holder_of(conn: Connection, station_id: str) -> Holder | None:
    """The current holder recorded for `station_id`, if any."""
    raw = _raw_row(conn, station_id)
    return None if raw is None else _parse(raw)


class RunLock:
    """The run lock of one station: `with RunLock(engine, station_id): …` or acquire/release.

    `note` says what was done on the way in (a stale lock taken over), for the operator.
    """

    def __init__(
        self, engine: Engine, station_id: str, *, command: str | None = None, take: bool = False
    ) -> None:
        self.engine = engine
        self.station_id = station_id
        self.me = this_process(command)
        self.take = take  # take over whatever holds it (the operator checked it is gone)
        self.note: str | None = None
        self._pg: Connection | None = None
        self._value = json.dumps(asdict(self.me), ensure_ascii=False)

    def __enter__(self) -> RunLock:
        self.acquire()
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()

    def acquire(self) -> None:
        """Take the lock or raise LineBusy naming the holder."""
        if self.engine.dialect.name == "postgresql":
            self._acquire_pg()
        else:
            self._acquire_row()
        with self.engine.begin() as conn:
            reason = self.note or self.me.command
            audit.record(conn, "system", [audit.Change("run.lock", self.station_id, None,
                                                        str(self.me.pid), reason)])  # fmt: skip

    def _busy(self, h: Holder) -> LineBusy:
        return LineBusy(
            f"station {self.station_id}: another process runs a batch on this store: "
            f"{h.describe()}. Wait for it to end or stop it; if it is gone (another host, a "
            "crash there), start again with --take-lock"
        )

    def _acquire_row(self) -> None:
        for _ in range(5):
            try:
                with self.engine.begin() as conn:
                    conn.execute(insert(_meta).values(key=_key(self.station_id), value=self._value))
                return
            except IntegrityError:
                pass
            with self.engine.begin() as conn:
                raw = _raw_row(conn, self.station_id)
                if raw is None:
                    continue  # released meanwhile: try again
                h = _parse(raw)
                if not (self.take or is_stale(h)):
                    raise self._busy(h)
                gone = conn.execute(
                    delete(_meta).where(_meta.c.key == _key(self.station_id), _meta.c.value == raw)
                ).rowcount
                if not gone:
                    continue  # someone else took it over first: look again
                conn.execute(insert(_meta).values(key=_key(self.station_id), value=self._value))
            why = "taken over on request" if self.take else "its process is gone"
            self.note = f"took over a stale run lock ({h.describe()}; {why})"
            return
        raise LineBusy(f"station {self.station_id}: the run lock keeps changing hands; try again")

    def _acquire_pg(self) -> None:
        key = zlib.crc32(_key(self.station_id).encode()) - 2**31
        conn = self.engine.connect()
        got = conn.execute(select(func.pg_try_advisory_lock(key))).scalar()
        conn.commit()
        if not got:
            with self.engine.connect() as c:
                h = holder_of(c, self.station_id)
            if self.take and h is not None and h.backend:
                # The holder's session outlived its process (a host gone without closing its
                # connections): end that session on the server, then take the lock.
                with self.engine.connect() as c:
                    c.execute(select(func.pg_terminate_backend(h.backend)))
                    c.commit()
                for _ in range(50):
                    got = conn.execute(select(func.pg_try_advisory_lock(key))).scalar()
                    conn.commit()
                    if got:
                        break
                    time.sleep(0.1)
            if not got:
                conn.close()
                raise self._busy(h or Holder(0, "?", "(holder not recorded yet)", "?"))
        backend = conn.execute(select(func.pg_backend_pid())).scalar()
        conn.commit()
        self._value = json.dumps({**json.loads(self._value), "backend": backend})
        self._pg, self._pg_key = conn, key
        with self.engine.begin() as c:
            h = holder_of(c, self.station_id)
            c.execute(delete(_meta).where(_meta.c.key == _key(self.station_id)))
            c.execute(insert(_meta).values(key=_key(self.station_id), value=self._value))
        if h is not None:
            self.note = f"took over a stale run lock ({h.describe()}; its session is gone)"

    def release(self) -> None:
        """Give the lock back (only if this process still holds it)."""
        try:
            with self.engine.begin() as conn:
                conn.execute(
                    delete(_meta).where(
                        _meta.c.key == _key(self.station_id), _meta.c.value == self._value
                    )
                )
                # No audit entry for the release: `run.lock` marks where a run begins, which is all
                # `station check` needs, and an entry written after a plant link's last report
                # would leave the line with something unreported.
        finally:
            if self._pg is not None:
                try:
                    self._pg.execute(select(func.pg_advisory_unlock(self._pg_key)))
                    self._pg.commit()
                finally:
                    self._pg.close()
                    self._pg = None
