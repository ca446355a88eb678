"""`station run` frozen, then killed while a case waits at the case camera, then started again,
against `station sim --world` (two processes, real sockets; issue 13 points 5 and 6).

- The world is the PLC program too: when the station's heartbeat stops, the conveyor stops
  within SimPLC.station_timeout_ms (build: plc.heartbeat_timeout_ms × 5), so no item passes the
  printer once its queue is empty; when a station heartbeats again the conveyor moves again.
- The case that waited at the gate when the station died is shown to the new station's camera
  again (its frame went to the dead process), and packing goes on to the end of the batch.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from station.build import on_free_ports
from station.config import load_settings
from station.sim.demo import summarize
from station.store import batches
from station.store.db import make_engine

ROOT = Path(__file__).resolve().parents[3]
STATION = str(Path(sys.executable).with_name("station"))
ENV = {**os.environ, "PYTHONPATH": str(ROOT)}  # this checkout's station, not the installed one
ITEMS, RATE = 150, 300  # items per minute: 5 a second


def _station(cfg: Path, *args: str, timeout: float = 120) -> subprocess.CompletedProcess:
    return subprocess.run([STATION, "--config", str(cfg), *args], capture_output=True,
                          text=True, timeout=timeout, env=ENV)  # fmt: skip


def _events(journal: Path) -> list[dict]:
    if not journal.exists():
        return []
    out = []
    for line in journal.read_text(encoding="utf-8").splitlines():
        try:
            out.append(json.loads(line))
        except json.JSONDecodeError:
            break  # the world is writing this line
    return out


def _wait(what: str, cond, timeout: float = 120.0, proc=None) -> None:
    deadline = time.monotonic() + timeout
    while not cond():
        assert proc is None or proc.poll() is None, f"{what}: the process ended"
        assert time.monotonic() < deadline, f"timed out waiting: {what}"
        time.sleep(0.05)


def _case_waiting(ev: list[dict]) -> bool:
    """A case formed and shown to the camera, neither closed nor rejected yet."""
    waiting = False
    for e in ev:
        if e["t"] == "case_formed":
            waiting = True
        elif e["t"] in ("case_closed", "case_rejected"):
            waiting = False
    return waiting


def test_a_killed_station_stops_the_conveyor_and_its_restart_packs_on(station_dir: Path) -> None:
    cfg = station_dir / "config.toml"
    text = on_free_ports(cfg.read_text(encoding="utf-8"))
    # A 1 s station watchdog (200 ms × 5) and 16 codes queued in the printer: 1.5 s of items at
    # most pass before the conveyor stops (watchdog + heartbeat period), all of them printed.
    text = text.replace("heartbeat_timeout_ms = 2000", "heartbeat_timeout_ms = 200")
    text = text.replace("depth = 8", "depth = 16")
    cfg.write_text(text, encoding="utf-8")
    for level, n, scheme in (("inner", 260, "random"), ("outer", 260, "random"),
                             ("case", 30, "random"), ("pallet", 6, "sscc")):  # fmt: skip
        assert _station(cfg, "codes", "generate", "--level", level, "--count", str(n),
                        "--scheme", scheme).returncode == 0  # fmt: skip
    r = _station(cfg, "batch", "create", "--product", "WATER-550", "--lot", "KILL1",
                 "--quantity", str(ITEMS), "--json")  # fmt: skip
    batch = json.loads(r.stdout.strip().splitlines()[-1])["id"]
    caps = station_dir / "caps.txt"
    assert _station(cfg, "codes", "export", "--level", "inner", "--out", str(caps)).returncode == 0
    journal = station_dir / "world.jsonl"
    sim_log = (station_dir / "sim.log").open("w")
    sim = subprocess.Popen(
        [STATION, "--config", str(cfg), "sim", "--world", str(ITEMS), "--rate", str(RATE),
         "--defects", "0", "--seed", "3", "--caps", str(caps), "--journal", str(journal),
         "--seconds", "400"],
        stdout=subprocess.PIPE, stderr=sim_log, text=True, env=ENV,
    )  # fmt: skip
    first_log = (station_dir / "run1.log").open("w")
    first = None
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            line = sim.stdout.readline()
            if "simulators up" in line or not line:
                break
        assert sim.poll() is None, (station_dir / "sim.log").read_text(errors="replace")
        first = subprocess.Popen(
            [STATION, "--config", str(cfg), "run", "--headless", "--batch", batch],
            stdout=first_log, stderr=first_log, env=ENV,
        )  # fmt: skip
        # Freeze the station the moment a case is at the gate (its frame on the way).
        _wait("a case at the case camera", lambda: _case_waiting(_events(journal)), proc=first)
        first.send_signal(signal.SIGSTOP)
        _wait("the conveyor stopped for the lost heartbeat",
              lambda: any(e["t"] == "conveyor" and e["why"] == "heartbeat"
                          for e in _events(journal)), timeout=60)  # fmt: skip
        time.sleep(3)  # the conveyor stays stopped (the world would have made 15 items by now)
        ev = _events(journal)
        stop_at = next(i for i, e in enumerate(ev) if e["t"] == "conveyor" and not e["on"])
        assert [e for e in ev[stop_at:] if e["t"] == "item"] == []
        assert ev[stop_at]["items"] < ITEMS
        assert all(e.get("p") for e in ev if e["t"] == "item"), "an item passed unprinted"
        assert _case_waiting(ev), "the case should still wait at the gate"
        first.send_signal(signal.SIGKILL)  # the kill during case inspection
        first.wait(30)
        # A new station: heartbeat again, the conveyor moves, the waiting case is shown again.
        again = _station(cfg, "run", "--headless", "--batch", batch, "--json", timeout=300)
    finally:
        if first is not None and first.poll() is None:
            first.kill()
            first.wait(30)
        sim.terminate()
        sim.wait(timeout=30)
        sim.stdout.close()
        sim_log.close()
        first_log.close()
    assert again.returncode == 0, again.stdout[-3000:] + again.stderr[-3000:]
    got = json.loads(again.stdout.strip().splitlines()[-1])
    assert got["closed"] and got["finish"] == "completed", got
    ev = _events(journal)
    assert any(e["t"] == "case_reshown" and e["why"] == "station back" for e in ev)
    resumed = [e for e in ev if e["t"] == "conveyor" and e["on"]]
    assert resumed and resumed[-1]["items"] < ITEMS  # it moved again after the stop
    assert sum(e["t"] == "item" for e in ev) == ITEMS
    assert all(e.get("p") for e in ev if e["t"] == "item"), "an item passed unprinted"
    settings = load_settings(cfg)
    engine = make_engine(settings.database_url)
    try:
        s = summarize(engine, batch, journal)
        assert batches.get(engine, batch).state == "completed"
    finally:
        engine.dispose()
    assert s["world_mismatches"] == 0, s["mismatch_examples"]
    assert s["duplicates"] == 0
    # Packing went on after the restart: the world's cases (all but the first at most) are the
    # store's (world_mismatches 0 above), and the verified items are packed but for the last few.
    cases = s["containers"]["case"]
    assert cases.get("normal", 0) >= s["verified"] // 24 - 1, (s["verified"], cases)
    assert s["links"] >= s["verified"] - 24 - 23, s
    # Only the fail-safe rejects of a restart: items whose decision died with the station.
    assert set(s["rejected_by_reason"]) <= {"late_decision", "void_code", "rejected_code"}, s
    chk = _station(cfg, "check", "--batch", batch, "--json")
    assert chk.returncode == 0, chk.stdout[-2000:]
