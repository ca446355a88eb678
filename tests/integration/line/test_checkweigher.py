"""The checkweigher role: [devices.checkweigher] with a case band; the simulated world puts each
case's weight on SimScale (MT-SICS over TCP) and the case station weighs every case it closes; a
case a bottle short by weight is rejected with reason `weight`; a bad band fails the load."""

from __future__ import annotations

from pathlib import Path

import pytest

from station.build import free_ports
from station.config import load_settings
from station.errors import ConfigError

SCALE = """
[devices.checkweigher]
url = "tcp://127.0.0.1:{port}"
stable_timeout_ms = 2000

[devices.checkweigher.levels.case]
nominal_g = 550
tare_g = 400
t1_g = 150
t2_g = 300
"""


def _with_scale(station_dir: Path, **band) -> None:
    cfg = station_dir / "config.toml"
    text = SCALE.format(port=free_ports(1)[0])
    for key, value in band.items():
        text = text.replace(f"{key} = ", f"{key} = {value}  # was ", 1)
    cfg.write_text(cfg.read_text(encoding="utf-8") + text, encoding="utf-8")


def test_every_closed_case_is_weighed_and_the_world_still_matches(station_dir, demo_batch) -> None:
    _with_scale(station_dir)
    batch = demo_batch(items=200, rate=3000, defects=0.0, seed=4, lot="W1")
    got: dict = {}
    summary = batch.run(on_start=lambda sims, runner, world: got.update(scale=sims.checkweigher))
    weighed = [c for c in got["scale"].commands() if c == "S"]
    cases = summary["containers"]["case"]
    assert len(weighed) >= cases.get("normal", 0) + cases.get("partial", 0) >= 8
    assert "weight" not in summary["rejected_by_reason"]
    assert summary["world_mismatches"] == 0 and summary["duplicates"] == 0


def test_a_case_a_bottle_light_is_rejected_by_weight(station_dir, demo_batch) -> None:
    _with_scale(station_dir)
    batch = demo_batch(items=150, rate=3000, defects=0.0, seed=4, lot="W2")

    def lose_a_bottle(sims, runner, world) -> None:
        scale = sims.checkweigher
        place, placed = scale.place, []

        def place_light(grams: float) -> None:  # the third case lost a bottle after the camera
            placed.append(grams)
            place(grams - 550 if len(placed) == 3 else grams)

        scale.place = place_light

    summary = batch.run(on_start=lose_a_bottle)
    assert summary["rejected_by_reason"].get("weight") == 1, summary["rejected_by_reason"]


def test_a_band_that_cannot_work_fails_the_load_naming_it(station_dir: Path) -> None:
    _with_scale(station_dir, t2_g=100)  # T2 below T1: refused
    with pytest.raises(ConfigError) as err:
        load_settings(station_dir / "config.toml")
    assert "devices.checkweigher.levels.case" in str(err.value) and "t2" in str(err.value)


def test_weight_reason_has_both_texts() -> None:
    from aggregation.reasons import RejectReason, reason_text
    from aggregation.weight import REASON

    assert RejectReason.WEIGHT.value == REASON
    assert reason_text("weight", "zh") == "重量超差" and "Weight" in reason_text("weight")


def test_devices_test_checkweigher_reads_the_simulated_scale(cli, station_dir: Path) -> None:
    from station.build import start_simulators

    _with_scale(station_dir)
    sims = start_simulators(load_settings(station_dir / "config.toml"), fixed_ports=True)
    try:
        sims.checkweigher.place(13_600)
        r = cli("devices", "test", "checkweigher", "--json")
    finally:
        sims.stop()
    assert r.rc == 0, r.out + r.err
    assert r.json["ok"] and "13600 g (stable)" in r.json["status"], r.json
