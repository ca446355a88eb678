"""Pallet commands between processes (station/store/commands.py): taken once, answered, expired
when nobody took them in time, and a CLI facing a line that takes nothing changes nothing."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select, update

from station.config import load_settings
from station.store import audit, commands
from station.store.db import make_engine
from station.store.models import LineCommand

ROOT = Path(__file__).resolve().parents[3]
_cmds = LineCommand.__table__


@pytest.fixture
def store(station_dir: Path):
    s = load_settings(station_dir / "config.toml")
    engine = make_engine(s.database_url)
    yield s, engine
    engine.dispose()


def test_a_command_is_taken_once_and_its_outcome_reaches_the_caller(store) -> None:
    _s, engine = store
    cid = commands.queue(engine, "S1", "hold", {"reason": "shift end"}, "lead")
    assert commands.pending(engine, "S1") and not commands.pending(engine, "S2")

    def line() -> None:  # the runner's side, in another thread
        (cmd,) = commands.take(engine, "S1")
        assert (cmd.command, cmd.args, cmd.user) == ("hold", {"reason": "shift end"}, "lead")
        assert commands.take(engine, "S1") == []  # taken once
        commands.finish(engine, cmd.id, ok=True, result={"pallet": "P1"})

    t = threading.Thread(target=line)
    t.start()
    assert commands.wait(engine, cid, take_s=5) == {"pallet": "P1"}
    t.join()
    cid = commands.queue(engine, "S1", "merge", {}, "lead")
    (cmd,) = commands.take(engine, "S1")
    commands.finish(engine, cmd.id, ok=False, result={"error": "over capacity", "exit": 2})
    with pytest.raises(commands.CommandFailed, match="over capacity") as err:
        commands.wait(engine, cid, take_s=5)
    assert err.value.exit_code == 2


def test_an_old_command_nobody_took_is_expired_never_run_late(store) -> None:
    _s, engine = store
    old = commands.queue(engine, "S1", "clear", {}, "lead")
    with engine.begin() as conn:  # queued by a CLI that died a minute ago
        conn.execute(
            update(_cmds)
            .where(_cmds.c.id == old)
            .values(created_at=audit.now() - timedelta(seconds=60))
        )
    new = commands.queue(engine, "S1", "hold", {}, "lead")
    assert [c.id for c in commands.take(engine, "S1")] == [new]
    with engine.connect() as conn:
        state = conn.execute(select(_cmds.c.state).where(_cmds.c.id == old)).scalar_one()
    assert state == "expired"
    with pytest.raises(commands.NotTaken, match="too late"):
        commands.wait(engine, old, take_s=1)


HOLD_THE_LINE = """
import sys, time
from station.config import load_settings
from station.line.runlock import RunLock
from station.store.db import make_engine
s = load_settings(sys.argv[1])
RunLock(make_engine(s.database_url), s.station.id, command="a screen, no batch").acquire()
print("locked", flush=True)
time.sleep(120)
"""


def test_the_cli_tells_a_line_that_takes_nothing_and_changes_nothing(station_dir, cli) -> None:
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLD_THE_LINE, str(station_dir / "config.toml")],
        stdout=subprocess.PIPE, text=True, env={**os.environ, "PYTHONPATH": str(ROOT)},
    )  # fmt: skip
    try:
        assert holder.stdout.readline().strip() == "locked"
        t0 = time.monotonic()
        r = cli("pallet", "hold", "--json")
        waited = time.monotonic() - t0
    finally:
        holder.kill()
        holder.communicate(timeout=30)
    assert r.rc == 1, r.err
    assert "did not take the command" in r.err and "a screen, no batch" in r.err
    assert "Nothing was changed" in r.err
    assert 4 < waited < 30
    s = load_settings(station_dir / "config.toml")
    engine = make_engine(s.database_url)
    with engine.connect() as conn:
        rows = conn.execute(select(_cmds.c.command, _cmds.c.state)).all()
    engine.dispose()
    assert [tuple(r) for r in rows] == [("hold", "cancelled")]
