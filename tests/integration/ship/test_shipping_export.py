"""The shipment file set on its own: GS1's EPCIS 2.0 schema, the bill, the signed manifest."""

from __future__ import annotations

import csv
import io
import json
from datetime import datetime
from pathlib import Path

import pytest

from sync.manifest import verify_manifest
from sync.model import ExportError
from sync.receiver.validate import EpcisValidator
from sync.shipping import ShipmentEntry, ShipmentInfo, write_shipment_files

KEY = b"k" * 32


def _info(**kw) -> ShipmentInfo:
    base = dict(unit_id="SHIP-PO 7/8", order="PO 7/8", station_id="LS-1", shipper="工厂",
                shipper_gln="6901234000016", owner_gln=None, distributor="经销商 A",
                distributor_gln=None, closed_at=datetime(2026, 12, 7, 8, 30),
                closed_by="wh1", code_prefix="https://id.example.com/code/",
                resolver="https://id.example.com")  # fmt: skip
    return ShipmentInfo(**{**base, **kw})


ENTRIES = [
    ShipmentEntry("069012340000000016", "pallet", "B1", "L1", "06901234000016", 501),
    ShipmentEntry("https://id.example.com/01/06901234000016/21/AB", "outer", "B1", "L1",
                  "06901234000016", 1),
    ShipmentEntry("7XJH 4T9E", "case", "B2", "L2", None, 25),
]  # fmt: skip


@pytest.mark.parametrize("glns", [True, False])
def test_the_set_validates_and_verifies(tmp_path: Path, glns: bool) -> None:
    info = _info() if glns else _info(shipper_gln=None)
    if glns:
        info = _info(distributor_gln="6901234000016")
    write_shipment_files(info, ENTRIES, tmp_path / "a", key=KEY, key_id="LS-1:hmac")
    verify_manifest(tmp_path / "a", KEY)
    [jsonld] = (tmp_path / "a").glob("*.jsonld")
    doc = json.loads(jsonld.read_text(encoding="utf-8"))
    EpcisValidator().check(doc)
    [ev] = doc["epcisBody"]["eventList"]
    assert ev["epcList"] == [
        "https://id.example.com/code/069012340000000016",
        "https://id.example.com/01/06901234000016/21/AB",  # a Digital Link stays itself
        "https://id.example.com/code/7XJH%204T9E",
    ]
    assert ev["eventTime"] == "2026-12-07T08:30:00+00:00"
    parties = {x["type"]: x["destination"] for x in ev["destinationList"]}
    if glns:
        assert parties == {"owning_party": "https://id.gs1.org/417/6901234000016",
                           "location": "https://id.gs1.org/414/6901234000016"}  # fmt: skip
        assert ev["bizTransactionList"] == [
            {"type": "po", "bizTransaction": "urn:epcglobal:cbv:bt:6901234000016:PO%207%2F8"}
        ]
    else:
        assert parties["owning_party"].startswith("https://id.example.com/party/")
        assert ev["bizTransactionList"][0]["bizTransaction"].startswith(
            "https://id.example.com/po/"
        )
    [bill] = (tmp_path / "a").glob("*.outbound.csv")
    rows = list(csv.reader(io.StringIO(bill.read_text(encoding="utf-8"))))
    assert len(rows) == 4 and {r[0] for r in rows[1:]} == {"PO 7/8"}
    assert [r[7] for r in rows[1:]] == [e.code for e in ENTRIES]
    manifest = json.loads((tmp_path / "a" / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["kind"] == "shipment" and manifest["batch_id"] == "SHIP-PO 7/8"
    assert manifest["counts"] == {"entries_by_level": {"case": 1, "outer": 1, "pallet": 1},
                                  "codes": 527}  # fmt: skip
    # A second sealing of the same order is byte-identical (a resend is harmless).
    write_shipment_files(info, ENTRIES, tmp_path / "b", key=KEY, key_id="LS-1:hmac")
    for f in (tmp_path / "a").iterdir():
        assert (tmp_path / "b" / f.name).read_bytes() == f.read_bytes()


def test_refusals(tmp_path: Path) -> None:
    with pytest.raises(ExportError, match="no codes"):
        write_shipment_files(_info(), [], tmp_path / "x", key=KEY, key_id="k")
    write_shipment_files(_info(), ENTRIES, tmp_path / "y", key=KEY, key_id="k")
    with pytest.raises(ExportError, match="sealed"):
        write_shipment_files(_info(), ENTRIES, tmp_path / "y", key=KEY, key_id="k")
