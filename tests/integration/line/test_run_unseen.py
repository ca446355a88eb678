"""A station that leaves mid-batch, a case at its gate: the next run ends by the PLC's count and
packs that case first.

When `station run` dies the conveyor runs on until the PLC's watchdog trips; the items that go
by meanwhile carry the codes left in the printer's queue (voided by the restart) or nothing, and
no station ever decides them. The restarted run must still end when the batch's quantity has
passed the photocell (issue 20: after ten kills the world had made all 600 items, the store had
decided 439, and the run waited for ever on its own count).

The case frame sent to the station that left is lost, and so is the next one: the camera stream
hands frames to the dead connection until a write fails. The PLC shows the case again while no
verdict comes (world.GATE_RETRIGGER_S); at 5 s the restarted run, quiet for its finish_idle_s
(3 s) after the last item, closed the batch with that case still at the gate.
"""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path


def _case_waiting(ev: list[dict]) -> str | None:
    """The label of the case at the case camera, verdict not given yet."""
    label = None
    for e in ev:
        if e["t"] == "case_formed":
            label = e["label"]
        elif e["t"] in ("case_closed", "case_rejected"):
            label = None
    return label


def _events(journal: Path) -> list[dict]:
    out = []
    for line in journal.read_text(encoding="utf-8").splitlines():
        try:
            out.append(json.loads(line))
        except json.JSONDecodeError:
            break  # the world is writing this line
    return out


def test_a_run_after_a_station_left_ends_by_the_plcs_count_and_packs_the_waiting_case(
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
            while not runner.wait(0.005):
                if runner.status().triggered >= 40 and _case_waiting(_events(line.journal)):
                    runner.stop()  # at once: before its verdict on the case at the gate
                    break
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
    waiting = _case_waiting(_events(line.journal))
    assert waiting, "the first run should have left with a case at the gate"
    # The PLC's fail safe when the watchdog tripped: every item between photocell and kicker
    # kicked (no verdict can come for them), so none of them reaches a case.
    ev = _events(line.journal)
    (zone,) = [e["seqs"] for e in ev if e["t"] == "failsafe_kick"]
    assert zone, "items were in flight when the watchdog tripped"
    kicked = {e["m"] for e in ev if e["t"] == "item" and e["s"] in set(zone) and e["m"]}

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
    # The case that waited was decided by the second run, and every case the packer formed got
    # its verdict before the batch closed: none was left at the gate.
    ev = _events(line.journal)
    assert any(e["t"] in ("case_closed", "case_rejected") and e["label"] == waiting for e in ev)
    assert _case_waiting(ev) is None
    formed = sum(e["t"] == "case_formed" for e in ev)
    assert formed == sum(e["t"] in ("case_closed", "case_rejected") for e in ev)
    packed = {m for e in ev if e["t"] in ("case_formed", "case_closed") for m in e["items"]}
    assert not kicked & packed
    got = line.summary()
    assert got["items"] == 150
    assert got["world_mismatches"] == 0, got["mismatch_examples"]
    assert got["duplicates"] == 0
    assert batches.get(engine, batch).state == "completed"


def test_a_case_read_at_the_palletizer_while_no_station_listened_is_read_again(
    devices_line,
) -> None:
    """The palletizer's reader sends a case's read to whoever is connected: with the station
    dead it went to no one, and the palletizer waited for it to be placed for ever (a kill
    campaign's batch closed 18 cases and palletized none). A station back gets it again."""
    import socket
    from urllib.parse import urlsplit

    line = devices_line(lot="GONE2", defects=0.0)
    world, reader = line.world, line.sims.reader
    world._entry.append("CASE-AT-THE-READER")  # a closed case reaches the palletizer
    world._pallet_entry()  # read now: no station connected, the read goes to no one
    url = urlsplit(reader.url)
    with socket.create_connection((url.hostname, url.port), timeout=5) as station:
        assert reader.wait_for_client(5)
        world._reshow_case("station back")  # what the PLC scan does on the first heartbeat
        got = b""
        while b"CASE-AT-THE-READER" not in got:
            chunk = station.recv(1024)
            assert chunk, f"the reader closed the connection; got {got!r}"
            got += chunk
    assert any(e["t"] == "case_reread" for e in _events(line.journal))
