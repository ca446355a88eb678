"""The line on a Siemens S7 or a MELSEC PLC: examples/plc-s7.toml and plc-mc.toml through the demo
(python-snap7's own S7 server, our MC 3E server, the simulated world), `station sim` serving the
S7 simulator to `station devices test plc`, and a bad address refused at load naming its key."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from station.build import _port, on_free_ports
from station.config import load_settings
from station.errors import ConfigError

ROOT = Path(__file__).resolve().parents[3]
STATION = str(Path(sys.executable).with_name("station"))
ENV = {**os.environ, "PYTHONPATH": str(ROOT)}  # the subprocess runs this checkout's code


def example_station(tmp: Path, name: str) -> Path:
    """examples/<name>.toml as a separate station in `tmp`, its devices on free ports."""
    text = (ROOT / "examples" / f"{name}.toml").read_text(encoding="utf-8")
    text = text.replace(f"sqlite:///../var/{name}/station.db", "sqlite:///var/station.db")
    text = text.replace(f'data_dir = "../var/{name}"', 'data_dir = "var"')
    cfg = tmp / "config.toml"
    cfg.write_text(on_free_ports(text), encoding="utf-8")
    return cfg


def _station(cfg: Path, *args: str, timeout: float = 300) -> subprocess.CompletedProcess:
    return subprocess.run(
        [STATION, "--config", str(cfg), *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env=ENV,
    )


@pytest.mark.parametrize("name", ["plc-s7", "plc-mc"])
def test_demo_on_an_s7_or_mc_plc_matches_the_world(tmp_path: Path, name: str) -> None:
    cfg = example_station(tmp_path, name)
    r = _station(cfg, "demo", "--items", "200", "--json")
    assert r.returncode == 0, r.stdout[-2000:] + r.stderr[-2000:]
    got = json.loads(r.stdout.strip().splitlines()[-1])
    assert got["items"] == 200
    assert got["world_mismatches"] == 0, got["mismatch_examples"]
    assert got["duplicates"] == 0
    assert got["rejected"] > 0 and got["links"] > 100  # rejects kicked, cases closed
    assert got["containers"]["case"].get("normal", 0) >= 5  # the case gate went through the PLC


def test_station_sim_serves_the_s7_plc_to_devices_test(tmp_path: Path) -> None:
    cfg = example_station(tmp_path, "plc-s7")
    sim = subprocess.Popen(
        [STATION, "--config", str(cfg), "sim", "--seconds", "120", "--conveyor", "600"],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        env=ENV,
    )
    try:
        lines = []
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            line = sim.stdout.readline()
            lines.append(line)
            if "simulators up" in line or not line:
                break
        assert any(ln.startswith("plc") and "s7://127.0.0.1:" in ln for ln in lines), lines
        r = _station(cfg, "devices", "test", "plc", "--json", timeout=120)
        assert r.returncode == 0, r.stdout + r.stderr
        got = json.loads(r.stdout.strip().splitlines()[-1])
        assert got["ok"] and "stack light green, amber, red, off" in got["status"], got
        assert "reject ring" in got["status"]  # S7 ring mode: no test kick
        # The conveyor runs: a second look through the S7 driver sees the counter grow.
        from drivers.plc.factory import open_line_plc

        s = load_settings(cfg)
        plc = open_line_plc("s7", s.devices.plc.url, address_map=s.devices.plc.register_map)
        with plc:
            first = plc.trigger_count
            deadline = time.monotonic() + 30
            while plc.trigger_count <= first and time.monotonic() < deadline:
                plc.poll_triggers()
                time.sleep(0.1)
            assert plc.trigger_count > first
    finally:
        sim.terminate()
        sim.wait(timeout=30)
        sim.stdout.close()
    assert sim.returncode == 0


@pytest.mark.parametrize(
    ("name", "old", "new", "said"),
    [
        ("plc-s7", '"DB10.DBW4"', '"DB10.DBW5"', "rejects_done='DB10.DBW5'"),
        ("plc-s7", '"DB10.DBX80.0"', '"MW80"', "line_stop_bit='MW80'"),
        ("plc-mc", '"D141"', '"X10"', "stack_light='X10'"),
        ("plc-mc", 'protocol = "mc"', 'protocol = "s7"', "devices.plc.url"),
    ],
)
def test_a_bad_plc_address_fails_the_load_naming_the_key(
    tmp_path: Path, name: str, old: str, new: str, said: str
) -> None:
    cfg = example_station(tmp_path, name)
    text = cfg.read_text(encoding="utf-8")
    assert old in text
    cfg.write_text(text.replace(old, new, 1), encoding="utf-8")
    with pytest.raises(ConfigError) as err:
        load_settings(cfg)
    assert "devices.plc" in str(err.value) and said in str(err.value), err.value


def test_config_check_exit_2_names_the_s7_key(tmp_path: Path) -> None:
    cfg = example_station(tmp_path, "plc-s7")
    cfg.write_text(cfg.read_text(encoding="utf-8").replace('"DB10.DBW0"', '"DB10.DBB0"', 1))
    r = _station(cfg, "config", "check", timeout=120)
    assert r.returncode == 2
    assert "key 'devices.plc.register_map'" in r.stderr and "trigger_counter" in r.stderr
    assert "Traceback" not in r.stderr


def test_simulator_port_from_a_url_with_a_query() -> None:
    assert _port("s7://127.0.0.1:19102?rack=0&slot=1", True) == ("127.0.0.1", 19102)
    assert _port("mc://127.0.0.1:5007", True) == ("127.0.0.1", 5007)
    assert _port("s7://127.0.0.1?rack=0&slot=2", True) == ("127.0.0.1", 0)  # no port: a free one
    assert _port("modbus-rtu:///dev/ttyUSB1?baudrate=115200", True) == ("127.0.0.1", 0)
    assert _port("s7://127.0.0.1:19102?rack=0&slot=1", False) == ("127.0.0.1", 0)
