"""Crash safety: SIGKILL the headless simulated run at random moments and resume it each time."""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

STATION = str(Path(sys.executable).with_name("station"))
KILLS = int(os.environ.get("LINESTATION_CRASH_KILLS", "20"))
ITEMS = int(os.environ.get("LINESTATION_CRASH_ITEMS", "5000"))  # issue 4: a 5,000-item run


def _start(cfg: Path, *extra: str) -> subprocess.Popen:
    return subprocess.Popen(
        [
            STATION,
            "--config",
            str(cfg),
            "demo",
            "--items",
            str(ITEMS),
            "--rate",
            "4000",
            "--defects",
            "0.03",
            "--seed",
            "7",
            "--json",
            *extra,
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )


@pytest.mark.slow
def test_random_sigkills_then_resume_leave_a_consistent_store(station_dir: Path) -> None:
    cfg = station_dir / "config.toml"
    rng = random.Random(20261124)
    proc = _start(cfg)
    kills = 0
    while kills < KILLS:
        time.sleep(rng.uniform(1.5, 4.0))
        if proc.poll() is not None:
            break  # finished before this kill: the run is shorter than planned kills
        proc.send_signal(signal.SIGKILL)
        proc.communicate()  # waits, and closes the pipe (else ResourceWarning)
        kills += 1
        proc = _start(cfg, "--resume")
    out, _ = proc.communicate(timeout=600)
    assert proc.returncode == 0, out[-2000:]
    summary = json.loads(out.strip().splitlines()[-1])
    assert kills >= min(KILLS, 10), f"only {kills} kills landed"
    assert summary["world_mismatches"] == 0, summary["mismatch_examples"]
    assert summary["duplicates"] == 0
    assert summary["items"] == ITEMS
    # A kill voids at most what was queued ahead: the printer's depth (8 in config.toml) per run.
    runs = kills + 1
    assert summary["voids"].get("outer", 0) <= 8 * runs
    assert summary["voids"].get("case", 0) <= 2 * runs  # case labels printed ahead
    check = subprocess.run(
        [STATION, "--config", str(cfg), "check", "--json"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert check.returncode == 0, check.stdout[-2000:]
    assert json.loads(check.stdout.strip().splitlines()[-1])["ok"] is True
