"""`station run --headless` against `station sim --world` in another process, for a whole batch."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

STATION = str(Path(sys.executable).with_name("station"))


def run_against_world(
    cfg: Path, batch: str, items: int, journal: Path, *extra: str, seed: int = 11
) -> tuple[subprocess.CompletedProcess, int, str]:
    """(the run, the sim's exit code, the sim's log): the world makes `items` at 1,200/min with
    4 % defects; `extra` goes to `station sim` (e.g. `--caps FILE`)."""
    sim_log = journal.with_name("sim.log")  # a file, not a pipe nobody reads: never blocks
    log_fh = sim_log.open("w")
    sim = subprocess.Popen(
        [STATION, "--config", str(cfg), "sim", "--world", str(items), "--rate", "1200",
         "--defects", "0.04", "--seed", str(seed), *extra, "--journal", str(journal),
         "--seconds", "240"],
        stdout=subprocess.PIPE, stderr=log_fh, text=True,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            line = sim.stdout.readline()
            if "simulators up" in line or not line:
                break
        if sim.poll() is not None:
            raise AssertionError(sim_log.read_text(errors="replace"))
        run = subprocess.run(
            [STATION, "--config", str(cfg), "run", "--headless", "--batch", batch, "--json"],
            capture_output=True, text=True, timeout=200,
        )  # fmt: skip
    finally:
        sim.terminate()
        sim.wait(timeout=30)
        sim.stdout.close()
        log_fh.close()
    return run, sim.returncode, sim_log.read_text(errors="replace")
