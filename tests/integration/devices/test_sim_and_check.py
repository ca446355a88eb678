"""`station sim` serves every simulator on its port; `station devices check` reaches them all."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

from station.build import on_free_ports

STATION = str(Path(sys.executable).with_name("station"))


def test_sim_then_devices_check_over_real_sockets(station_dir: Path) -> None:
    cfg = station_dir / "config.toml"
    cfg.write_text(on_free_ports(cfg.read_text(encoding="utf-8")), encoding="utf-8")
    sim = subprocess.Popen(
        [STATION, "--config", str(cfg), "sim", "--seconds", "60"],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        lines = []
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            line = sim.stdout.readline()
            lines.append(line)
            if "simulators up" in line:
                break
        assert any("plc" in ln and "modbus-tcp://" in ln for ln in lines), lines
        r = subprocess.run(
            [STATION, "devices", "check", "--json", "--config", str(cfg)],
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert r.returncode == 0, r.stdout + r.stderr
        res = json.loads(r.stdout.strip().splitlines()[-1])
        names = {d["device"] for d in res["devices"]}
        assert {"plc", "inkjet", "case_labeler", "pallet_labeler", "reader"} <= names
        assert {"ticket", "scanner"} <= names  # every configured device, one line each
        assert {"verify_camera", "case_camera"} <= names  # the frame streams answer too
        assert all(d["ok"] for d in res["devices"])
    finally:
        sim.terminate()
        sim.communicate(timeout=30)  # waits, and closes the pipe (else ResourceWarning)
    # With the simulators gone every device is reported unreachable, naming its port.
    r = subprocess.run(
        [STATION, "devices", "check", "--config", str(cfg)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert r.returncode == 1
    assert "ERR plc" in r.stdout and "127.0.0.1" in r.stdout
    assert "ERR ticket" in r.stdout and "ERR scanner" in r.stdout, r.stdout
