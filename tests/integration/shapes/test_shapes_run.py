"""Each example shape on the production path: `station run --headless` against `station sim
--world` in another process (frames as tagged HTTP streams, the gates and the palletizer over
Modbus TCP), the store compared afterwards with the world's journal."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from example_configs import use_example
from sim_world import run_against_world

from station.build import on_free_ports
from station.config import load_settings
from station.sim.demo import summarize
from station.sim.world import DEFECT_REASONS
from station.store.db import make_engine

from .test_shapes import links_by_level

STATION = str(Path(sys.executable).with_name("station"))


def _station(cfg: Path, *args: str, timeout: float = 120) -> subprocess.CompletedProcess:
    return subprocess.run(
        [STATION, "--config", str(cfg), *args], capture_output=True, text=True, timeout=timeout
    )


@pytest.mark.slow
@pytest.mark.parametrize(
    ("example", "product", "pools"),
    [
        ("preprinted-liquor.toml", "BAIJIU-500",
         (("outer", 700), ("box", 140), ("case", 40), ("pallet", 10))),
        ("dairy.toml", "MILK-250", (("inner", 700), ("outer", 700), ("case", 40), ("pallet", 10))),
    ],
)  # fmt: skip
def test_each_shape_runs_against_station_sim(station_dir: Path, example, product, pools) -> None:
    cfg = use_example(station_dir, example)
    cfg.write_text(on_free_ports(cfg.read_text(encoding="utf-8")), encoding="utf-8")
    items = 480
    for level, n in pools:  # the packs a supplier delivered (pre-printed levels), or pools
        scheme = "sscc" if level == "pallet" else "random"
        r = _station(cfg, "codes", "generate", "--level", level, "--count", str(n),
                     "--scheme", scheme)  # fmt: skip
        assert r.returncode == 0, r.stderr
    r = _station(cfg, "batch", "create", "--product", product, "--lot", "RUN1",
                 "--quantity", str(items), "--json")  # fmt: skip
    batch = json.loads(r.stdout.strip().splitlines()[-1])["id"]
    caps: list[str] = []
    if any(level == "inner" for level, _ in pools):
        capfile = station_dir / "caps.txt"
        assert (
            _station(cfg, "codes", "export", "--level", "inner", "--out", str(capfile)).returncode
            == 0
        )
        caps = ["--caps", str(capfile)]
    journal = station_dir / "world.jsonl"
    run, sim_rc, sim_log = run_against_world(cfg, batch, items, journal, *caps)
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    assert sim_rc == 0, sim_log[-2000:]
    got = json.loads(run.stdout.strip().splitlines()[-1])
    assert got["closed"] and got["finish"] == "completed" and got["triggered"] == items
    s = summarize(make_engine(load_settings(cfg).database_url), batch, journal)
    assert s["items"] == items
    assert s["world_mismatches"] == 0, s["mismatch_examples"]
    assert s["duplicates"] == 0
    injected = s["defects_injected"]
    assert sum(injected.values()) > 0
    for kind, reason in DEFECT_REASONS.items():
        if injected.get(kind):
            assert s["rejected_by_reason"].get(reason, 0) > 0, (kind, reason, s)
    links = links_by_level(station_dir)
    top = "box" if "liquor" in example else "case"
    assert links[("outer", top)] > items // 2
    assert links[("case", "pallet")] >= 1
    chk = _station(cfg, "check", "--batch", batch, "--json")
    assert chk.returncode == 0, chk.stdout[-2000:]
