"""A full disk under the store: the line stops safely and says so, a command fails with what to
do, nothing is half-written, and once there is space the batch resumes to a consistent store.

SQLite reports a full disk as SQLITE_FULL ("database or disk is full"). `PRAGMA max_page_count`
makes SQLite itself raise exactly that error at a chosen size, so the test needs no small
filesystem (mounting one needs privileges CI may not have).
"""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from sqlalchemy import event
from sqlalchemy.pool import Pool

from station.errors import StationError


@contextmanager
def disk_full_at(target) -> Iterator[dict]:
    """While `limit["pages"]` is set, every store connection checked out of `target` (an
    engine, or the Pool class for all) may not grow the file past that many pages."""
    limit: dict = {"pages": None}

    def cap(dbapi_conn, _record, _proxy) -> None:
        if not isinstance(dbapi_conn, sqlite3.Connection):
            return
        if "default" not in limit:
            limit["default"] = dbapi_conn.execute("PRAGMA max_page_count").fetchone()[0]
        dbapi_conn.execute(f"PRAGMA max_page_count = {limit['pages'] or limit['default']}")

    event.listen(target, "checkout", cap)
    try:
        yield limit
    finally:
        event.remove(target, "checkout", cap)


def _pages(db: Path) -> int:
    with sqlite3.connect(db) as c:
        return c.execute("PRAGMA page_count").fetchone()[0]


def test_a_full_disk_stops_the_line_and_the_batch_resumes_when_there_is_space(
    demo_batch, station_dir: Path, cli
) -> None:
    batch = demo_batch(items=600, rate=2400, defects=0.0, seed=5, lot="DF1")
    db = station_dir / "var" / "station.db"
    seen: dict = {}

    with disk_full_at(batch.engine) as limit:

        def operator(sims, runner, world) -> None:
            def run() -> None:
                time.sleep(1.0)  # mid-batch: items between printer, camera and kicker
                seen["produced_before"] = world.produced
                limit["pages"] = _pages(db)  # the disk is full from here on
                runner.wait(30)
                seen["alarms"] = runner.status().alarms
                seen["finish"] = str(runner.finish_reason)
                deadline = time.monotonic() + 5
                while time.monotonic() < deadline and not sims.plc.line_stop:
                    time.sleep(0.01)
                seen["line_stop"] = sims.plc.line_stop
                seen["light"] = str(sims.plc.stack_light)

            threading.Thread(target=run, daemon=True).start()

        with pytest.raises(StationError) as failed:
            batch.run(on_start=operator)
        said = str(failed.value)
        assert "disk holding the station's store is full" in said and str(db) in said, said
        assert "station demo --resume" in said
        assert seen["finish"] == "faulted"
        assert seen["line_stop"] is True and seen["light"].endswith("red"), seen
        (alarm,) = [a for a in seen["alarms"] if a.device == "store"]
        assert alarm.key == "store_full" and dict(alarm.args)["where"] == str(db)
        assert "free space" in alarm.action

        # Still full: a command fails with what is wrong and what to do, and changes nothing.
        before = _pages(db)
        with disk_full_at(Pool) as everywhere:
            everywhere["pages"] = before
            r = cli("codes", "generate", "--level", "outer", "--count", "20000", "--json")
        assert r.rc == 2, r.out + r.err
        assert "disk holding the station's store is full" in r.err and "free space" in r.err
        assert r.json["ok"] is False and r.json["exit_code"] == 2
        assert "Traceback" not in r.err

        limit["pages"] = None  # IT freed space: the same batch starts again and completes
        summary = batch.run()

    assert seen["produced_before"] > 0
    assert summary["items"] == 600, summary
    assert summary["world_mismatches"] == 0, summary.get("mismatch_examples")
    assert summary["duplicates"] == 0
    # At most the printer's queue (8) at the stop, as after a crash, and once more at batch end.
    assert summary["voids"].get("outer", 0) <= 16
    chk = cli("check", "--json")
    assert chk.rc == 0 and chk.json["ok"], chk.out[-2000:]


def test_station_run_on_a_full_disk_stops_says_why_and_runs_again(
    devices_line, station_dir: Path
) -> None:
    """The production path (`station run` on devices): the run ends with the fault, the batch
    stays open, and the next run finishes it once there is space."""
    from station.line.run import run_production
    from station.store import batches

    line = devices_line(lot="DF2", defects=0.0)
    s, engine, sims, batch = line.settings, line.engine, line.sims, line.batch_id
    db = station_dir / "var" / "station.db"
    with disk_full_at(engine) as limit:

        def fill_up(runner) -> None:
            def run() -> None:
                while runner.status().verified < 20 and not runner.wait(0.01):
                    pass
                limit["pages"] = _pages(db)

            threading.Thread(target=run, daemon=True).start()

        line.start_world()
        first = run_production(engine, s, batch, user="t", on_start=fill_up)
        assert "disk holding the station's store is full" in first.get("fault", ""), first
        assert first["finish"] == "faulted" and not first["closed"]
        assert sims.plc.line_stop  # the conveyor's infeed stopped with the line
        assert batches.get(engine, batch).state == "running"  # could not even be held
        limit["pages"] = None
        second = run_production(engine, s, batch, user="t")
    assert second["closed"] and second["finish"] == "completed", second
    got = line.summary()
    assert got["items"] == 150
    assert got["world_mismatches"] == 0, got["mismatch_examples"]
    assert got["duplicates"] == 0
    assert batches.get(engine, batch).state == "completed"
