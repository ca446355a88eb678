"""Crash safety on a pre-printed 1:M:N:G line: SIGKILL the simulated run while boxes and cases
wait at their gates, resume each time; every link still matches the world, nothing twice."""

from __future__ import annotations

import json
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from example_configs import use_example

STATION = str(Path(sys.executable).with_name("station"))
ITEMS = 2400


def _start(cfg: Path, *extra: str) -> subprocess.Popen:
    return subprocess.Popen(
        [STATION, "--config", str(cfg), "demo", "--items", str(ITEMS), "--rate", "3000",
         "--defects", "0.03", "--seed", "5", "--json", *extra],
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
    )  # fmt: skip


@pytest.mark.slow
def test_kills_on_a_preprinted_liquor_line_then_resume(station_dir: Path) -> None:
    cfg = use_example(station_dir, "preprinted-liquor.toml")
    rng = random.Random(20261207)
    proc = _start(cfg)
    kills = 0
    while kills < 6:
        time.sleep(rng.uniform(2.0, 4.0))
        if proc.poll() is not None:
            break
        proc.send_signal(signal.SIGKILL)
        proc.communicate()
        kills += 1
        proc = _start(cfg, "--resume")
    out, _ = proc.communicate(timeout=900)
    assert proc.returncode == 0, out[-2000:]
    s = json.loads(out.strip().splitlines()[-1])
    assert kills >= 3, f"only {kills} kills landed"
    assert s["items"] == ITEMS
    assert s["world_mismatches"] == 0, s["mismatch_examples"]
    assert s["duplicates"] == 0
    assert s["voids"] == {}  # nothing is printed ahead on this line: a kill voids nothing
    check = subprocess.run([STATION, "--config", str(cfg), "check", "--json"],
                           capture_output=True, text=True, timeout=120)  # fmt: skip
    assert check.returncode == 0, check.stdout[-2000:]
