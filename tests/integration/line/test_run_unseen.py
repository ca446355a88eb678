"""Items that pass while no station runs are the batch's items: the run ends by the PLC's count.

When `station run` dies the conveyor runs on until the PLC's watchdog trips; the items that go
by meanwhile carry the codes left in the printer's queue (voided by the restart) or nothing, and
no station ever decides them. The restarted run must still end when the batch's quantity has
passed the photocell (issue 20: after ten kills the world had made all 600 items, the store had
decided 439, and the run waited for ever on its own count).
"""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path


def _events(journal: Path) -> list[dict]:
    out = []
    for line in journal.read_text(encoding="utf-8").splitlines():
        try:
            out.append(json.loads(line))
        except json.JSONDecodeError:
            break  # the world is writing this line
    return out


def test_a_run_ends_by_the_plcs_count_when_items_passed_while_no_station_ran(
    devices_line, station_dir: Path
) -> None:
    from station.line.run import run_production
    from station.line.runnotes import RUN_KEY, meta_key, read_note
    from station.store import batches

    cfg = station_dir / "config.toml"
    # The PLC's watchdog trips 1 s (200 ms × 5) after the station's last heartbeat: 20 items
    # at 1,200/min go by first, more than the printer's queue of 8 codes.
    text = cfg.read_text(encoding="utf-8")
    cfg.write_text(text.replace("heartbeat_timeout_ms = 2000", "heartbeat_timeout_ms = 200"))
    line = devices_line(lot="GONE1", defects=0.0)
    s, engine, batch, world = line.settings, line.engine, line.batch_id, line.world
    leave = threading.Event()

    def walk_away(runner) -> None:
        def run() -> None:
            while runner.status().triggered < 40 and not runner.wait(0.01):
                pass
            leave.set()

        threading.Thread(target=run, daemon=True).start()

    line.start_world()
    first = run_production(engine, s, batch, user="t", stop=leave, on_start=walk_away)
    assert not first["closed"] and first["plc_items"] == first["triggered"], first
    deadline = time.monotonic() + 30
    while not any(e["t"] == "conveyor" and e["why"] == "heartbeat" for e in _events(line.journal)):
        assert time.monotonic() < deadline, "the conveyor did not stop for the lost heartbeat"
        time.sleep(0.05)
    unseen = world.produced - first["triggered"]
    assert unseen > 8, unseen  # more than the printer's queue: some went by unprinted

    guard = threading.Event()  # a run that waits for ever is stopped, and the test fails
    timer = threading.Timer(120, guard.set)
    timer.start()
    try:
        second = run_production(engine, s, batch, user="t", stop=guard)
    finally:
        timer.cancel()
    assert second["closed"] and second["finish"] == "completed", second
    assert second["unseen_at_start"] == unseen, second
    assert second["plc_items"] == 150 == world.produced
    # Its live figures, as dashboards and bench/soak.py read them, end with the run's own.
    live = read_note(engine, meta_key(RUN_KEY, batch))
    assert live["plc_items"] == 150 and live["verified"] == second["verified"], live
    assert live["late"] == second["late"] and live["latency_ms"] == second["latency_ms"]
    got = line.summary()
    assert got["items"] == 150
    assert got["world_mismatches"] == 0, got["mismatch_examples"]
    assert got["duplicates"] == 0
    assert batches.get(engine, batch).state == "completed"
