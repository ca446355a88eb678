"""One process runs a station's line at a time: two real `station demo` processes on one folder,
the second refused at start naming the first; a lock left by a killed process is taken over."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy import select

from station.config import load_settings
from station.line.runlock import Holder, LineBusy, RunLock, holder_of, is_stale
from station.store.db import make_engine
from station.store.models import Meta

ROOT = Path(__file__).resolve().parents[3]
STATION = str(Path(sys.executable).with_name("station"))
ENV = {**os.environ, "PYTHONPATH": str(ROOT)}  # this checkout's station, not the installed one


def _station(cfg: Path, *args: str, timeout: float = 300) -> subprocess.CompletedProcess:
    return subprocess.run([STATION, "--config", str(cfg), *args], capture_output=True,
                          text=True, timeout=timeout, env=ENV)  # fmt: skip


def _lock_row(cfg: Path) -> str | None:
    s = load_settings(cfg)
    engine = make_engine(s.database_url)
    try:
        with engine.connect() as conn:
            t = Meta.__table__
            return conn.execute(select(t.c.value).where(t.c.key.like("run_lock:%"))).scalar()
    except Exception:  # the store is being made by the first process
        return None
    finally:
        engine.dispose()


def test_a_second_demo_on_the_same_folder_is_refused_naming_the_first(station_dir: Path) -> None:
    cfg = station_dir / "config.toml"
    first = subprocess.Popen(
        [STATION, "--config", str(cfg), "demo", "--items", "3000", "--rate", "600"],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, env=ENV,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 120
        while (row := _lock_row(cfg)) is None:
            assert first.poll() is None, first.stderr.read()
            assert time.monotonic() < deadline, "the first demo never took the lock"
            time.sleep(0.2)
        assert json.loads(row)["pid"] == first.pid
        second = _station(cfg, "demo", "--items", "10", "--json", timeout=120)
        assert second.returncode == 2, second.stdout + second.stderr
        assert f"pid {first.pid}" in second.stderr and "demo --items 3000" in second.stderr
        assert "another process runs a batch" in second.stderr
        assert json.loads(second.stdout.strip().splitlines()[-1])["exit_code"] == 2
        run = _station(cfg, "run", "--headless", timeout=120)  # `station run` is refused too
        assert run.returncode == 2 and f"pid {first.pid}" in run.stderr, run.stderr
        assert first.poll() is None  # the first went on undisturbed
    finally:
        first.send_signal(signal.SIGKILL)  # a crash: the lock row stays behind
        first.wait(30)
        if first.stderr is not None:
            first.stderr.close()
    assert json.loads(_lock_row(cfg) or "{}").get("pid") == first.pid
    # A restart on the same host sees the process is gone and takes the lock over, with a note.
    again = _station(cfg, "demo", "--items", "5", "--batches", "2", "--json")
    assert "took over a stale run lock" in again.stderr and f"pid {first.pid}" in again.stderr
    assert again.returncode == 0, again.stdout[-2000:] + again.stderr[-2000:]
    assert _lock_row(cfg) is None  # released at the end


def test_staleness_is_judged_by_pid_start_time_and_host(station_dir: Path) -> None:
    me = os.getpid()
    assert not is_stale(Holder(me, os.uname().nodename, "x", "now", 0.0))
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    assert is_stale(Holder(child.pid, os.uname().nodename, "x", "now"))
    # A pid alive again but started at another time is another process.
    assert is_stale(Holder(me, os.uname().nodename, "x", "now", 12345.0))
    assert not is_stale(Holder(child.pid, "another-host", "x", "now"))


def test_a_lock_from_another_host_needs_take_lock(station_dir: Path) -> None:
    s = load_settings(station_dir / "config.toml")
    engine = make_engine(s.database_url)
    try:
        other = RunLock(engine, s.station.id, command="station run (line PC 2)")
        other._value = json.dumps(
            {"pid": 1, "host": "line-pc-2", "command": "station run",
             "since": "2026-12-07T10:00:00+00:00", "started": 1.0}
        )  # fmt: skip
        other.acquire()
        with pytest.raises(Exception, match="pid 1 on host line-pc-2") as err:
            RunLock(engine, s.station.id).acquire()
        assert err.value.exit_code == 2 and "--take-lock" in str(err.value)
        mine = RunLock(engine, s.station.id, take=True)
        mine.acquire()
        assert "line-pc-2" in (mine.note or "")
        with engine.connect() as conn:
            assert holder_of(conn, s.station.id).pid == os.getpid()
        mine.release()
        with engine.connect() as conn:
            assert holder_of(conn, s.station.id) is None
    finally:
        engine.dispose()


def test_check_flags_a_container_whose_children_two_runs_linked(station_dir: Path, cli) -> None:
    from station.batch.check import check_batches
    from station.codes import pools
    from station.line.store import LineStore
    from station.store import batches
    from station.store.lifecycle import State

    s = load_settings(station_dir / "config.toml")
    engine = make_engine(s.database_url)
    try:
        for level, n in (("outer", 4), ("case", 1)):
            pools.generate(engine, s, level, n, "random", user="t")
        b = batches.create(engine, s, product="WATER-550", lot="SPLIT", quantity=4, user="t")
        store = LineStore(engine, b.id, b.product_sku, "t")
        [case] = store.reserve("case", 1)
        outers = store.reserve("outer", 4)
        for row in [case, *outers]:
            store.move(row, State.PRINTED)
            store.move(row, State.VERIFIED)
        store.flush()
        for half in (outers[:2], outers[2:]):  # a run killed with the case open, then a restart
            with RunLock(engine, s.station.id):
                for row in half:
                    store.link(case, row)
                store.flush()
        store.container(case, "normal", 4)
        store.flush()
        [got] = check_batches(engine, b.id)["batches"]
        assert got["ok"], got["problems"]
        [warning] = got["warnings"]
        assert f"container {case.code}: children linked by 2 runs" in warning
        assert f"pid {os.getpid()}" in warning
    finally:
        engine.dispose()
    r = cli("check", "--batch", b.id)
    assert r.rc == 0 and f"! container {case.code}" in r.out


def test_the_lock_on_sqlite_and_postgresql(db_url: str) -> None:
    """Refused while held; on PostgreSQL a holder whose session died is stale whatever its host
    (its advisory lock died with it), on SQLite a holder on this host whose pid is gone."""
    engine = make_engine(db_url)
    other = make_engine(db_url)  # another process's connections
    try:
        first = RunLock(other, "LINE-1", command="station run --batch B1")
        first.acquire()
        with pytest.raises(LineBusy, match=f"pid {os.getpid()} on host .*station run --batch B1"):
            RunLock(engine, "LINE-1").acquire()
        RunLock(engine, "LINE-2").release()  # another line is free (nothing held: no-op)
        with RunLock(engine, "LINE-2") as line2:
            assert line2.note is None
        # The first holder dies without releasing: its connections close (PostgreSQL) or its
        # pid is gone (SQLite: recorded as a finished child's pid).
        if first._pg is not None:
            first._pg.close()
        else:
            child = subprocess.Popen([sys.executable, "-c", "pass"])
            child.wait()
            with engine.begin() as conn:
                t = Meta.__table__
                dead = {**json.loads(first._value), "pid": child.pid}
                conn.execute(t.update().where(t.c.key == "run_lock:LINE-1")
                             .values(value=json.dumps(dead)))  # fmt: skip
        other.dispose()
        after = RunLock(engine, "LINE-1")
        deadline = time.monotonic() + 30
        while True:  # the server ends the dead session's backend (and its lock) on its own time
            try:
                after.acquire()
                break
            except LineBusy:
                assert time.monotonic() < deadline, "the dead holder's lock was never released"
                time.sleep(0.1)
        assert "took over a stale run lock" in (after.note or "")
        after.release()

    finally:
        engine.dispose()
        other.dispose()


def test_take_lock_on_postgresql_ends_a_session_whose_host_vanished(pg_url: str) -> None:
    engine = make_engine(pg_url)
    held = make_engine(pg_url)  # a line PC that vanished: its session stays open on the server
    try:
        ghost = RunLock(held, "LINE-9", command="station run (line PC 9)")
        ghost.acquire()
        with pytest.raises(LineBusy, match="station run \\(line PC 9\\)"):
            RunLock(engine, "LINE-9").acquire()
        taker = RunLock(engine, "LINE-9", take=True)
        taker.acquire()
        assert "took over a stale run lock" in (taker.note or "")
        with engine.connect() as conn:
            assert holder_of(conn, "LINE-9").backend != json.loads(ghost._value)["backend"]
        taker.release()
    finally:
        if ghost._pg is not None:  # its session was ended by the taker: close the dead socket
            ghost._pg.invalidate()
            ghost._pg.close()
        engine.dispose()
        held.dispose()
