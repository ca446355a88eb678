"""`station serve` under a supervisor (what systemd's Restart=always does; systemd itself is not in
the sandbox): kill -9 mid-batch, the supervisor starts it again, the new serve resumes the batch
and completes it, and `station check` finds the store consistent. The devices are `station
sim --world`'s simulators, as for `station run` (tests/integration/line/test_run_sim.py)."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from station.build import on_free_ports

ROOT = Path(__file__).resolve().parents[3]
STATION = str(Path(sys.executable).with_name("station"))
ENV = {**os.environ, "PYTHONPATH": str(ROOT)}
ITEMS = 300


def _station(cfg: Path, *args: str, timeout: float = 120) -> subprocess.CompletedProcess:
    return subprocess.run(
        [STATION, "--config", str(cfg), *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env=ENV,
    )


class Supervisor:
    """Restart=always in a loop: start `station serve`, start it again whenever it dies."""

    def __init__(self, cfg: Path, log: Path) -> None:
        self.cfg, self.log = cfg, log
        self.proc: subprocess.Popen | None = None
        self.starts = 0
        self.summaries: list[dict] = []
        self.done = threading.Event()
        self.cond = threading.Condition()
        self.thread = threading.Thread(target=self._loop, daemon=True)

    def _loop(self) -> None:
        while not self.done.is_set():
            with self.log.open("a") as err:
                proc = subprocess.Popen(
                    [STATION, "--config", str(self.cfg), "serve", "--poll", "0.5", "--retry", "2"],
                    stdout=subprocess.PIPE,
                    stderr=err,
                    text=True,
                    env=ENV,
                )
            with self.cond:
                self.proc, self.starts = proc, self.starts + 1
                self.cond.notify_all()
            for line in proc.stdout:
                if line.startswith("{"):
                    with self.cond:
                        self.summaries.append(json.loads(line))
                        self.cond.notify_all()
            proc.wait()
            proc.stdout.close()
            if proc.returncode == 0:
                break  # a clean stop (SIGTERM) is not restarted
            time.sleep(0.5)  # RestartSec

    def wait_for(self, pred, timeout_s: float) -> bool:
        """Wait until pred(self) holds."""
        deadline = time.monotonic() + timeout_s
        with self.cond:
            while not pred(self):
                if time.monotonic() > deadline:
                    return False
                self.cond.wait(0.5)
        return True


def _decided(db: Path, batch: str) -> int:
    with sqlite3.connect(db) as conn:
        return conn.execute(
            "select count(*) from codes where batch_id = ? and level = 'outer' "
            "and state in ('verified', 'linked')",
            (batch,),
        ).fetchone()[0]


@pytest.mark.slow
def test_serve_killed_mid_batch_is_restarted_and_completes_it(station_dir: Path) -> None:
    cfg = station_dir / "config.toml"
    cfg.write_text(on_free_ports(cfg.read_text(encoding="utf-8")), encoding="utf-8")
    for level, n, scheme in (("inner", 700, "random"), ("outer", 700, "random"),
                             ("case", 60, "random"), ("pallet", 10, "sscc")):  # fmt: skip
        r = _station(cfg, "codes", "generate", "--level", level, "--count", str(n),
                     "--scheme", scheme)  # fmt: skip
        assert r.returncode == 0, r.stderr
    r = _station(cfg, "batch", "create", "--product", "WATER-550", "--lot", "SRV1",
                 "--quantity", str(ITEMS), "--json")  # fmt: skip
    batch = json.loads(r.stdout.strip().splitlines()[-1])["id"]
    caps = station_dir / "caps.txt"
    assert _station(cfg, "codes", "export", "--level", "inner", "--out", str(caps)).returncode == 0
    sim_log = (station_dir / "sim.log").open("w")
    # More items than the batch: those that pass the photocell while the station is dead (the
    # simulated PLC does not stop the conveyor when the station's heartbeat stops) are not the
    # batch's, and the restarted station still sees its quantity go by.
    sim = subprocess.Popen(
        [STATION, "--config", str(cfg), "sim", "--world", str(ITEMS + 200), "--rate", "900",
         "--defects", "0.02", "--seed", "3", "--caps", str(caps), "--seconds", "400"],
        stdout=subprocess.PIPE, stderr=sim_log, text=True, env=ENV,
    )  # fmt: skip
    sup = Supervisor(cfg, station_dir / "serve.log")
    try:
        deadline = time.monotonic() + 60
        while "simulators up" not in (sim.stdout.readline() or "simulators up"):
            assert time.monotonic() < deadline
        assert sim.poll() is None
        sup.thread.start()
        db = station_dir / "var" / "station.db"
        deadline = time.monotonic() + 180
        while _decided(db, batch) < ITEMS // 3:  # mid-batch
            assert time.monotonic() < deadline, "the batch did not get going under serve"
            time.sleep(0.2)
        with sup.cond:
            victim = sup.proc
        victim.send_signal(signal.SIGKILL)
        assert sup.wait_for(lambda s: s.starts >= 2, 60), "the supervisor did not restart serve"
        assert sup.wait_for(
            lambda s: any(x.get("batch") == batch and x.get("closed") for x in s.summaries), 300
        ), (sup.summaries, (station_dir / "serve.log").read_text()[-3000:])
        with sup.cond:
            sup.done.set()
            sup.proc.send_signal(signal.SIGTERM)  # the service manager's stop
        sup.thread.join(60)
        assert not sup.thread.is_alive()
    finally:
        sup.done.set()
        if sup.proc is not None and sup.proc.poll() is None:
            sup.proc.kill()
        sim.terminate()
        sim.wait(timeout=30)
        sim.stdout.close()
        sim_log.close()
    assert sup.proc.returncode == 0  # SIGTERM: a clean stop
    got = next(x for x in sup.summaries if x.get("batch") == batch and x.get("closed"))
    assert got["finish"] == "completed"
    chk = _station(cfg, "check", "--batch", batch, "--json")
    assert chk.returncode == 0, chk.stdout[-2000:]
    assert json.loads(chk.stdout.strip().splitlines()[-1])["ok"] is True
    shown = json.loads(_station(cfg, "batch", "show", batch, "--json").stdout.splitlines()[-1])
    assert shown["state"] == "completed"
