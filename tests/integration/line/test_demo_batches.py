"""`station demo` over several batches: the pools hold what every planned batch consumes."""

from __future__ import annotations

from pathlib import Path

from station.sim.demo import pool_needs


def test_pools_are_sized_for_every_planned_batch() -> None:
    levels = ("inner", "outer", "case", "pallet")
    one = pool_needs(60, 1, levels, 24)
    twenty = pool_needs(60, 20, levels, 24)
    assert twenty["outer"] >= 20 * 60 + 20  # one code per item of every batch, and reprints
    assert twenty["inner"] >= 20 * (60 + 100)  # each batch's world takes items + 100 caps
    assert twenty["case"] >= 20 * (60 // 12 + 1)
    assert twenty["pallet"] >= 20 * 2
    assert one["outer"] == 60 + 200  # one batch as before
    assert pool_needs(60, 3, ("outer", "case"), 24).keys() == {"outer", "case"}


def test_demo_runs_all_its_batches_from_one_generation(cli, station_dir: Path) -> None:
    # 5 × 60 items outrun the one-batch sizing (60 + 200 codes) of before
    r = cli("demo", "--batches", "5", "--items", "60", "--rate", "6000", "--json")
    assert r.rc == 0, r.out[-3000:] + r.err[-2000:]
    s = r.json
    assert len(s["batches"]) == 5
    assert s["items"] == 5 * 60
    assert s["world_mismatches"] == 0 and s["duplicates"] == 0


def test_a_demo_that_ran_nothing_fails_with_the_reason(cli, station_dir: Path) -> None:
    first = cli("demo", "--items", "5", "--json")
    assert first.rc == 0, first.out[-2000:] + first.err[-2000:]
    again = cli("demo", "--items", "5", "--json")
    assert again.rc == 1
    assert "nothing ran" in again.json["error"]
    assert "planned demo batch" in again.err
