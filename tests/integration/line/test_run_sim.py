"""`station sim --world` and `station run --headless` as two processes for a whole batch.

The production path over real sockets: triggers, kicks, the case gate and the palletizer over
Modbus TCP, codes to the inkjet over TCP, frames from the cameras as tagged HTTP streams, labels
over TCP to the ZPL printers, case reads from the reader. The world lives in the sim process and
journals what physically happened; afterwards the store is compared with it.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from sim_world import run_against_world

from station.build import on_free_ports
from station.config import load_settings
from station.sim.demo import summarize
from station.sim.world import DEFECT_REASONS
from station.store.db import make_engine

STATION = str(Path(sys.executable).with_name("station"))


def _station(cfg: Path, *args: str, timeout: float = 120) -> subprocess.CompletedProcess:
    return subprocess.run(
        [STATION, "--config", str(cfg), *args], capture_output=True, text=True, timeout=timeout
    )


@pytest.mark.slow
def test_station_run_against_station_sim_for_a_whole_batch(station_dir: Path) -> None:
    cfg = station_dir / "config.toml"
    cfg.write_text(on_free_ports(cfg.read_text(encoding="utf-8")), encoding="utf-8")
    items = 600
    for level, n, scheme in (
        ("inner", 700, "random"),
        ("outer", 700, "random"),
        ("case", 60, "random"),
        ("pallet", 10, "sscc"),
    ):
        r = _station(cfg, "codes", "generate", "--level", level, "--count", str(n),
                     "--scheme", scheme)  # fmt: skip
        assert r.returncode == 0, r.stderr
    r = _station(cfg, "batch", "create", "--product", "WATER-550", "--lot", "RUN1",
                 "--quantity", str(items), "--json")  # fmt: skip
    batch = json.loads(r.stdout.strip().splitlines()[-1])["id"]
    caps = station_dir / "caps.txt"  # the cap maker's file: the same codes the station imported
    assert _station(cfg, "codes", "export", "--level", "inner", "--out", str(caps)).returncode == 0
    journal = station_dir / "world.jsonl"
    run, sim_rc, sim_log = run_against_world(cfg, batch, items, journal, "--caps", str(caps))
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    assert sim_rc == 0, sim_log[-2000:]
    got = json.loads(run.stdout.strip().splitlines()[-1])
    assert got["batch"] == batch and got["closed"] and got["finish"] == "completed"
    assert got["triggered"] == items
    # A late decision is the fail-safe (the item is kicked); on a quiet machine there are none,
    # a loaded CI box may see one or two. They must be counted as late_decision rejects.
    assert got["late"] <= items // 200
    assert got["rejected_by_reason"].get("late_decision", 0) == got["late"]
    assert got["verified"] + got["rejected"] >= items  # items, plus case rejects
    # (a foreign item pushes one good item out of a case: the exact count is checked below)
    assert got["cases"] >= (items - got["rejected"]) // 24 - 1 and got["pallets"] >= 1

    settings = load_settings(cfg)
    s = summarize(make_engine(settings.database_url), batch, journal)
    assert s["items"] == items
    assert s["world_mismatches"] == 0, s["mismatch_examples"]
    assert s["duplicates"] == 0
    assert s["links"] > items // 2
    injected = s["defects_injected"]
    assert sum(injected.values()) > 0
    for kind, reason in DEFECT_REASONS.items():
        if injected.get(kind):
            assert s["rejected_by_reason"].get(reason, 0) > 0, (kind, reason, s)
    # Every verified item is in a case (but those a foreign item pushed off the line): full cases,
    # and the last one partial unless the count came out even.
    cases = s["containers"]["case"]
    packed = s["verified"] - injected.get("case_foreign", 0)
    assert cases["normal"] == packed // 24, (packed, cases)
    assert cases.get("partial", 0) == (1 if packed % 24 else 0), (packed, cases)
    assert s["containers"]["pallet"].get("partial", 0) == 1
    chk = _station(cfg, "check", "--batch", batch, "--json")
    assert chk.returncode == 0, chk.stdout[-2000:]


def test_run_refuses_the_in_process_sim_camera_with_the_fix(station_dir: Path) -> None:
    cfg = station_dir / "config.toml"
    text = cfg.read_text(encoding="utf-8").replace("http://127.0.0.1:19107/frames", "sim")
    cfg.write_text(text, encoding="utf-8")
    _station(cfg, "batch", "create", "--product", "WATER-550", "--lot", "X", "--quantity", "5")
    r = _station(cfg, "run", "--headless")
    assert r.returncode == 2
    assert "devices.verify_camera.source is 'sim'" in r.stdout + r.stderr
    assert "station sim" in r.stdout + r.stderr


def test_run_without_devices_stops_with_the_device_and_port(station_dir: Path) -> None:
    cfg = station_dir / "config.toml"
    cfg.write_text(
        on_free_ports(cfg.read_text(encoding="utf-8")), encoding="utf-8"
    )  # nobody listens
    _station(cfg, "batch", "create", "--product", "WATER-550", "--lot", "X", "--quantity", "5")
    r = _station(cfg, "run", "--headless", timeout=60)
    assert r.returncode in (1, 2)
    out = r.stdout + r.stderr
    assert "verify_camera" in out and "cannot open the frame stream" in out


def test_the_ui_controller_runs_a_batch_on_configured_devices(devices_line) -> None:
    """What `station run` opens on a screen: LineController(simulate=False), devices only."""
    from station.line.controller import LineController
    from station.store import batches

    line = devices_line(lot="UI1", defects=0.03)
    s, engine, sims = line.settings, line.engine, line.sims
    done: list = []
    ctl = LineController(s, engine, "t", simulate=False)
    ctl.events.batch_finished.connect(done.append)
    failed: list = []
    ctl.events.command_failed.connect(lambda cmd, msg: failed.append(msg))
    # The last run on this PLC ended paused (or faulted): its line stop is still on. The new run
    # must lift it, or the conveyor never moves.
    from drivers.plc.factory import open_plc

    last = open_plc(s.devices.plc.url, register_map=s.devices.plc.register_map or None)
    last.connect()
    last.set_line_stop(True)
    last.close()
    assert sims.plc.line_stop
    line.start_world()
    ctl.start(line.batch_id)
    assert ctl.wait(120), "the batch did not finish"
    assert not failed, failed
    (summary,) = done
    assert summary["closed"] and summary["triggered"] == 150 and summary["late"] == 0
    got = line.summary()
    assert got["world_mismatches"] == 0, got["mismatch_examples"]
    assert got["duplicates"] == 0
    assert batches.get(engine, line.batch_id).state == "completed"
