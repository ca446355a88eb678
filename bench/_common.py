"""What the benchmarks share: the machine line, load average, a temporary station, the JSON end."""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))
# The `station …` processes a benchmark starts run this checkout's code (a worktree beside an
# editable install would otherwise measure the installed one).
os.environ["PYTHONPATH"] = os.pathsep.join(
    [str(ROOT), *[p for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p]]
)


def machine() -> dict:
    """CPU model (from /proc/cpuinfo), cores and Python version."""
    model = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {
        "cpu": model or platform.processor(),
        "cores": os.cpu_count(),
        "python": platform.python_version(),
    }


def load() -> float:
    """1-minute load average: the machine is shared, so every figure carries it."""
    return round(os.getloadavg()[0], 2)


def parser(doc: str | None) -> argparse.ArgumentParser:
    """An argument parser with --quick (same figures, smaller workload, under 60 s)."""
    ap = argparse.ArgumentParser(description=doc)
    ap.add_argument("--quick", action="store_true", help="smaller workload, under 60 s")
    return ap


def say(text: str) -> None:
    """One progress line, flushed at once."""
    print(text, flush=True)


def finish(result: dict) -> int:
    """Print the one JSON line run_all.py collects; exit 0 when every target was met."""
    result.setdefault("machine", machine())
    result.setdefault("load_end", load())
    print(json.dumps(result, ensure_ascii=False), flush=True)
    return 0 if all(result.get("targets", {}).values()) else 1


@contextmanager
def temp_station(prefix: str = "ls-bench-", keep: bool = False) -> Iterator[Path]:
    """A fresh station folder holding a copy of config.toml (its store lands in var/ there);
    removed afterwards unless `keep` (then its path is printed)."""
    tmp = Path(tempfile.mkdtemp(prefix=prefix))
    try:
        shutil.copy(ROOT / "config.toml", tmp / "config.toml")
        yield tmp
    finally:
        if keep:
            say(f"kept {tmp}")
        else:
            shutil.rmtree(tmp, ignore_errors=True)
