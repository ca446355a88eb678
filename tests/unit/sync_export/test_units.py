"""One unit's file set: EPCIS 2.0 events in order and schema-valid, the release flag in CSV and
码上放心, a signed manifest that names the chain, and what a receiver makes of it."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from lxml import etree

from sync.manifest import verify_manifest
from sync.mashangfangxin import read_upload
from sync.model import BatchInfo, CodeRecord, ContainerRecord, LinkRecord, PairRecord
from sync.receiver.validate import EpcisValidator
from sync.receiver.view import document_events, replay
from sync.unitfiles import UNIT_FORMATS, write_unit_files
from sync.units import UnitData, UnitInfo, plan_unit_events

T0 = datetime(2026, 12, 7, 8, 0, tzinfo=UTC)
KEY = b"k"
PREFIX = "https://id.example.com/code/"


def c(level: int, i: int) -> str:
    return f"8{level}{i:018d}"


def unit(*, released: bool = False, kind: str = "pallet") -> UnitData:
    """Pallet 5-0 with case 4-0 holding items 2-0, 2-1 (caps 1-0, 1-1); item 2-2 leaves case
    4-9 (told earlier) and is retired; item 2-0's cap moves from item 2-8."""
    info = BatchInfo(
        "B1",
        "S1",
        "L1",
        "06901234000016",
        "W",
        "Water",
        "LOT1",
        date(2026, 12, 1),
        date(2027, 12, 1),
        T0,
        code_prefix=PREFIX,
    )
    t = [T0 + timedelta(seconds=i) for i in range(6)]
    new = [
        CodeRecord(c(5, 0), "pallet", "verified", t[0]),
        CodeRecord(c(4, 0), "case", "linked", t[0]),
    ] + [
        CodeRecord(x, lv, "linked", t[1])
        for x, lv in (
            (c(2, 0), "outer"),
            (c(2, 1), "outer"),
            (c(1, 0), "inner"),
            (c(1, 1), "inner"),
        )
    ]
    return UnitData(
        UnitInfo("B1#P1", kind, 1, info, t[5], released, subject=c(5, 0)),
        commission=new,
        pairs=[PairRecord(c(1, 0), c(2, 0), t[1]), PairRecord(c(1, 1), c(2, 1), t[1])],
        unpairs=[PairRecord(c(1, 0), c(2, 8), t[2])],
        links=[
            LinkRecord(c(4, 0), c(2, 0), "case", "outer", t[2]),
            LinkRecord(c(4, 0), c(2, 1), "case", "outer", t[2]),
            LinkRecord(c(5, 0), c(4, 0), "pallet", "case", t[3]),
        ],
        unlinks=[LinkRecord(c(4, 9), c(2, 2), "case", "outer", t[3], "delete")],
        retire=[CodeRecord(c(2, 2), "outer", "destroyed", t[4], "crushed")],
        voids=[CodeRecord(c(2, 7), "outer", "void", t[0])],
        containers=[
            ContainerRecord(c(4, 0), "case", 2, "partial"),
            ContainerRecord(c(5, 0), "pallet", 1, "normal"),
        ],
        levels=("inner", "outer", "case", "pallet"),
    )


def test_events_come_in_order_and_nothing_is_sellable_before_the_release() -> None:
    events = list(plan_unit_events(unit()))
    kinds = [(e["type"], e["action"], e.get("bizStep")) for e in events]
    assert kinds == [
        ("ObjectEvent", "ADD", "commissioning"),
        ("AssociationEvent", "DELETE", "disassembling"),
        ("AssociationEvent", "ADD", "assembling"),
        ("AssociationEvent", "ADD", "assembling"),
        ("AggregationEvent", "DELETE", "unpacking"),
        ("AggregationEvent", "ADD", "packing"),
        ("AggregationEvent", "ADD", "packing"),
        ("ObjectEvent", "DELETE", "destroying"),
    ]
    assert events[0]["disposition"] == "inactive" and events[0]["ilmd"]["cbvmda:lotNumber"]
    assert all("disposition" not in e for e in events if e["type"] != "ObjectEvent")
    assert events[-1]["disposition"] == "destroyed" and events[-1]["ls:reason"] == "crushed"
    assert next(plan_unit_events(unit(released=True)))["disposition"] == "active"
    ids = [e["eventID"] for e in events]
    assert len(set(ids)) == len(ids) and ids == [e["eventID"] for e in plan_unit_events(unit())]


def test_the_release_observes_every_code_active() -> None:
    base = unit(kind="release")
    rel = UnitData(base.info, activate=base.commission, levels=base.levels)
    [event] = plan_unit_events(rel)
    assert (event["action"], event["bizStep"], event["disposition"]) == (
        "OBSERVE",
        "inspecting",
        "active",
    )
    assert "ilmd" not in event and len(event["epcList"]) == 6


def test_the_file_set_is_signed_schema_valid_and_flags_the_release(tmp_path: Path) -> None:
    u = unit()
    write_unit_files(
        u, tmp_path, UNIT_FORMATS, key=KEY, key_id="S1:hmac", capacities={"case": 2, "pallet": 1}
    )
    verify_manifest(tmp_path, KEY)
    manifest = json.loads((tmp_path / "manifest.json").read_text())
    assert manifest["batch_id"] == "B1#P1" and manifest["kind"] == "unit"
    assert manifest["unit"]["batch"] == "B1" and manifest["unit"]["pallet"] == c(5, 0)
    assert manifest["counts"]["commissioned"] == 6 and manifest["counts"]["void"] == 1
    doc = json.loads((tmp_path / "B1_P1.epcis.jsonld").read_text())
    EpcisValidator().check(doc)  # GS1's schema; `ls:` defined by the inline context

    codes = list(csv.DictReader(io.StringIO((tmp_path / "B1_P1.codes.csv").read_text())))
    assert {r["released"] for r in codes} == {"0"} and len(codes) == 8
    rels = list(csv.DictReader(io.StringIO((tmp_path / "B1_P1.relations.csv").read_text())))
    assert [r["action"] for r in rels] == ["delete", "add", "add", "delete", "add", "add", "add"]

    _, xml = read_upload((tmp_path / "B1_P1.mashangfangxin.zip.b64").read_bytes())
    root = etree.fromstring(xml)
    assert root.find("Relation/Batch").get("released") == "0"
    assert root.find("Relation").get("packageSpec") == "1:1:2"
    got = {(x.get("curCode"), x.get("action"), x.get("status")) for x in root.iter("Code")}
    assert (c(2, 2), "delete", None) in got and (c(2, 2), "retire", None) in got
    assert (c(4, 0), None, "零箱") in got and not any(code.startswith("81") for code, *_ in got)


def test_a_receiver_replaying_it_knows_the_tree(tmp_path: Path) -> None:
    write_unit_files(unit(), tmp_path, ["epcis-jsonld"], key=KEY, key_id="S1:hmac")
    view = replay(document_events(tmp_path / "B1_P1.epcis.jsonld"))
    assert view.children(PREFIX + c(4, 0)) == [PREFIX + c(2, 0), PREFIX + c(2, 1)]
    assert view.parents[PREFIX + c(4, 0)] == PREFIX + c(5, 0)
    assert view.pairs == {PREFIX + c(1, 0): PREFIX + c(2, 0), PREFIX + c(1, 1): PREFIX + c(2, 1)}
    assert view.codes[PREFIX + c(2, 2)]["state"] == "destroyed"
    assert {view.codes[PREFIX + c(2, i)]["disposition"] for i in (0, 1)} == {"inactive"}
