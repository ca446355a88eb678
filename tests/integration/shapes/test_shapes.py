"""The line in every shape (issue 15): the example configurations through the demo, a tester's
changed capacities, a bottle code in no pack, and the links each shape must leave in the store."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from example_configs import use_example
from sqlalchemy import select

from station.sim.world import DEFECT_REASONS

STATION = str(Path(sys.executable).with_name("station"))


def links_by_level(station_dir: Path) -> dict[tuple[str, str], int]:
    """(child level, parent level) → number of links in the store."""
    from sqlalchemy import func

    from station.config import load_settings
    from station.store.db import make_engine
    from station.store.models import Code

    c = Code.__table__
    p = c.alias("p")
    engine = make_engine(load_settings(station_dir / "config.toml").database_url)
    try:
        with engine.connect() as conn:
            rows = conn.execute(
                select(c.c.level, p.c.level, func.count())
                .select_from(c.join(p, p.c.id == c.c.parent_id))
                .group_by(c.c.level, p.c.level)
            ).all()
    finally:
        engine.dispose()
    return {(a, b): n for a, b, n in rows}


def assert_defects_rejected(s: dict) -> None:
    """Every defect the world injected was rejected with the reason line staff know it by."""
    injected = s["defects_injected"]
    assert sum(injected.values()) > 0
    for kind, reason in DEFECT_REASONS.items():
        if injected.get(kind):
            assert s["rejected_by_reason"].get(reason, 0) > 0, (kind, reason, s)


@pytest.mark.slow
def test_preprinted_liquor_acceptance(cli, station_dir: Path) -> None:
    use_example(station_dir, "preprinted-liquor.toml")
    r = cli("demo", "--items", "1440", "--defects", "0.03", "--seed", "5", "--json")
    assert r.rc == 0, r.out[-3000:] + r.err[-2000:]
    s = r.json
    assert s["world_mismatches"] == 0, s["mismatch_examples"]
    assert s["duplicates"] == 0 and s["items"] == 1440
    assert_defects_rejected(s)
    for kind in ("notinpack", "box_short", "box_foreign"):  # the named defects, seed 5
        assert s["defects_injected"].get(kind), (kind, s["defects_injected"])
    links = links_by_level(station_dir)
    # A foreign bottle in a box takes a good bottle's place: that one leaves the line unboxed.
    off = s["defects_injected"].get("box_foreign", 0)
    assert links[("outer", "box")] == s["verified"] - off
    assert links[("box", "case")] >= s["containers"]["box"]["normal"]
    assert links[("case", "pallet")] == sum(s["containers"]["case"].values())
    assert s["containers"]["box"]["normal"] >= 200
    chk = cli("check", "--json")
    assert chk.rc == 0 and chk.json["ok"], json.dumps(chk.json)[:2000]
    # The box level travels: CSV relations and EPCIS AggregationEvents name boxes as parents
    # of bottles and children of cases.
    out = station_dir / "export"
    for fmt in ("csv", "epcis-jsonld"):
        assert cli("export", s["batch"], "--format", fmt, "--out", str(out / fmt)).rc == 0
    import csv

    rel = next((out / "csv").glob("*.relations.csv"))
    with rel.open(encoding="utf-8") as fh:
        pairs = {(r["parent_level"], r["child_level"]) for r in csv.DictReader(fh)}
    assert pairs == {("box", "outer"), ("case", "box"), ("pallet", "case")}
    doc = json.loads(next((out / "epcis-jsonld").glob("*.jsonld")).read_text(encoding="utf-8"))
    aggs = [e for e in doc["epcisBody"]["eventList"] if e["type"] == "AggregationEvent"]
    boxes = sum(s["containers"]["box"].values())
    cases, pallets = s["containers"]["case"], s["containers"]["pallet"]
    assert len(aggs) == boxes + sum(cases.values()) + sum(pallets.values())


@pytest.mark.slow
def test_dairy_pairs_and_preprinted_cases(cli, station_dir: Path) -> None:
    use_example(station_dir, "dairy.toml")
    r = cli("demo", "--items", "720", "--defects", "0.04", "--seed", "3", "--json")
    assert r.rc == 0, r.out[-3000:] + r.err[-2000:]
    s = r.json
    assert s["world_mismatches"] == 0, s["mismatch_examples"]
    assert s["duplicates"] == 0
    assert_defects_rejected(s)
    links = links_by_level(station_dir)
    off = s["defects_injected"].get("case_foreign", 0)
    assert links[("outer", "case")] == s["verified"] - off and ("box", "case") not in links
    assert links[("case", "pallet")] == sum(s["containers"]["case"].values())
    assert cli("check", "--json").json["ok"]


@pytest.mark.slow
@pytest.mark.parametrize(
    ("example", "capacities"),
    [
        ("preprinted-liquor.toml", {"box": 8, "case": 6, "pallet": 5}),
        ("dairy.toml", {"case": 12, "pallet": 7}),
    ],
)
def test_a_tester_changes_the_capacities(cli, station_dir: Path, example, capacities) -> None:
    use_example(station_dir, example, capacities)
    r = cli("demo", "--items", "600", "--defects", "0.03", "--seed", "9", "--json")
    assert r.rc == 0, r.out[-3000:] + r.err[-2000:]
    s = r.json
    assert s["world_mismatches"] == 0, s["mismatch_examples"]
    assert s["duplicates"] == 0
    assert_defects_rejected(s)
    from station.config import load_settings
    from station.store.db import make_engine
    from station.store.models import Code

    c = Code.__table__
    engine = make_engine(load_settings(station_dir / "config.toml").database_url)
    try:
        with engine.connect() as conn:
            full = conn.execute(
                select(c.c.level, c.c.child_count).where(c.c.container_status == "normal")
            ).all()
    finally:
        engine.dispose()
    for level, n in full:  # every full container holds exactly the tester's capacity
        assert n == capacities[level], (level, n)
    assert {lv for lv, _ in full} >= set(capacities) - {"pallet"}
    assert cli("check", "--json").json["ok"]


def test_a_bottle_code_in_no_pack_is_refused_until_imported(
    cli, station_dir: Path, monkeypatch
) -> None:
    """The world carries code X on the first bottle and again later; X is imported in between."""
    use_example(station_dir, "preprinted-liquor.toml")
    from station.sim import demo

    stranger = "STRANGER23456789"  # 16 characters: the configured length
    real = demo.preprinted_codes

    def with_stranger(engine, settings, items):
        codes = real(engine, settings, items)
        outer = codes["outer"]
        codes["outer"] = [stranger, *outer[:120], stranger, *outer[120:]]
        return codes

    monkeypatch.setattr(demo, "preprinted_codes", with_stranger)
    pack = station_dir / "late-pack.txt"
    pack.write_text(stranger + "\n", encoding="utf-8")

    from station.config import load_settings
    from station.store.db import make_engine
    from station.store.models import Code, Reject

    settings = load_settings(station_dir / "config.toml")
    engine = make_engine(settings.database_url)
    imported = threading.Event()
    said: list[str] = []

    def import_when_refused(sims, runner, world) -> None:
        def watch() -> None:
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline:
                with engine.connect() as conn:
                    hit = conn.execute(
                        select(Reject.__table__.c.reason).where(
                            Reject.__table__.c.read_text == stranger
                        )
                    ).first()
                if hit is not None:  # the pack's late part arrives: imported from outside
                    r = subprocess.run(
                        [STATION, "--config", str(station_dir / "config.toml"), "codes",
                         "import", str(pack), "--level", "outer"],
                        capture_output=True, text=True, timeout=120,
                    )  # fmt: skip
                    said.append(r.stdout + r.stderr)
                    if r.returncode == 0:
                        imported.set()
                    return
                time.sleep(0.05)

        threading.Thread(target=watch, daemon=True).start()

    try:
        plan = demo.DemoPlan(240, 1, 600, 0.0, 1, "BAIJIU-500")
        demo.ensure_pools(engine, settings, plan, "t")
        from station.store import batches

        b = batches.create(engine, settings, product="BAIJIU-500", lot="L1", quantity=240, user="t")
        s = demo.run_batch(engine, settings, plan, b.id, user="t", on_start=import_when_refused)
        assert imported.is_set(), said
        assert s["rejected_by_reason"].get("not_in_pack") == 1, s["rejected_by_reason"]
        with engine.connect() as conn:
            state, parent = conn.execute(
                select(Code.__table__.c.state, Code.__table__.c.parent_id).where(
                    Code.__table__.c.code == stranger
                )
            ).one()
        assert state == "linked" and parent is not None  # the second bottle carrying it: boxed
        assert s["world_mismatches"] == 0, s["mismatch_examples"]
    finally:
        engine.dispose()


@pytest.mark.slow
def test_a_camera_and_a_smart_reader_read_the_same_items(cli, station_dir: Path) -> None:
    """Dairy caps read by the camera and by a reader whose message is `inner//outer`."""
    cfg = use_example(station_dir, "dairy.toml")
    text = cfg.read_text(encoding="utf-8").replace(
        'cameras = ["verify_camera"]', 'cameras = ["verify_camera", "item_reader"]'
    )
    text += '\n[devices.item_reader]\nurl = "socket://127.0.0.1:19112"\nseparator = "//"\n'
    cfg.write_text(text, encoding="utf-8")
    r = cli("demo", "--items", "360", "--defects", "0.03", "--seed", "4", "--json")
    assert r.rc == 0, r.out[-3000:] + r.err[-2000:]
    s = r.json
    assert s["world_mismatches"] == 0, s["mismatch_examples"]
    assert s["duplicates"] == 0
    assert_defects_rejected(s)
    assert s["verified"] >= 300
    assert cli("check", "--json").json["ok"]
