"""码上放心-style relation file: ratio, container status, zip + base64 round trip, bad codes."""

from __future__ import annotations

import base64
import io
import zipfile
from dataclasses import replace

import pytest
from lxml import etree

from sync.mashangfangxin import (
    MashangfangxinError,
    derive_capacities,
    packing_ratio,
    read_upload,
    write_relation_xml,
    write_upload,
)
from sync.model import ContainerRecord


def relation(batch) -> etree._Element:
    out = io.BytesIO()
    write_relation_xml(batch, out)
    return etree.fromstring(out.getvalue())


def test_ratio_is_cumulative_from_the_top(batch_factory) -> None:
    big = batch_factory(120, box=10, case=5, special=False)
    assert derive_capacities(big) == {"box": 10, "case": 5}
    assert packing_ratio(("outer", "box", "case"), {"box": 10, "case": 5}) == "1:5:50"
    assert packing_ratio(
        ("outer", "box", "case", "pallet"), {"box": 2, "case": 5, "pallet": 1}
    ) == ("1:1:5:10")
    root = relation(big)
    assert root.find("Relation").get("packageSpec") == "1:5:50"
    assert root.find("Relation").get("cascade") == "3"
    with pytest.raises(MashangfangxinError, match="'case'"):
        packing_ratio(("outer", "box", "case"), {"box": 10})


def test_relation_document_rows_and_status(batch) -> None:
    root = relation(batch)
    assert batch.levels[0] == "inner"
    batch_el = root.find("Relation/Batch")
    assert batch_el.get("batchNo") == "L2611-A"
    assert batch_el.get("madeDate") == "2026-11-24"
    assert batch_el.get("validateDate") == "2028-11-23"
    assert root.find("Relation").get("packageSpec") == "1:3:12"  # box 4, case 3
    codes = batch_el.findall("Code")
    items = [c for c in codes if c.get("packLayer") == "1"]
    assert len(items) == 23  # 22 original items left in boxes + the replacement
    assert batch_el.get("count") == "23"
    assert not any(c.get("curCode").startswith("81") for c in codes)  # no inner cap codes
    by_code = {c.get("curCode"): c for c in codes}
    assert "82000000000000000001" not in by_code  # unpacked and decommissioned
    assert by_code["82000000000000000023"].get("parentCode") == "83000000000000000000"
    box5, case0, case1 = (
        by_code["83000000000000000005"], by_code["84000000000000000000"],
        by_code["84000000000000000001"],
    )  # fmt: skip
    assert (box5.get("packLayer"), box5.get("status"), box5.get("parentCode")) == (
        "2", "零箱", "84000000000000000001",
    )  # fmt: skip
    assert (case0.get("packLayer"), case0.get("status"), case0.get("parentCode")) == (
        "3",
        "拼箱",
        "",
    )
    assert case1.get("status") == "正常"  # boxes 3-5: full
    assert by_code["83000000000000000000"].get("status") == "正常"


def test_upload_round_trip(batch) -> None:
    out = io.BytesIO()
    write_upload(batch, out)
    payload = out.getvalue()
    assert payload.isascii()
    assert zipfile.ZipFile(io.BytesIO(base64.b64decode(payload))).testzip() is None
    name, xml = read_upload(payload)
    assert name == "B-2026_11-0042.xml"
    direct = io.BytesIO()
    write_relation_xml(batch, direct)
    assert xml == direct.getvalue()


def test_bad_codes_are_named(batch) -> None:
    bad_item = "8200000000000000001X"
    links = [
        replace(link, child=bad_item) if link.child == "82000000000000000005" else link
        for link in batch.links()
    ]
    broken = replace(batch, links=lambda: iter(links))
    with pytest.raises(MashangfangxinError, match=f"'{bad_item}' \\(level outer\\).*20 digits"):
        write_relation_xml(broken, io.BytesIO())
    short_box = ContainerRecord("8300", "box", 4, "normal")
    broken = replace(batch, containers=lambda: iter([short_box]))
    with pytest.raises(MashangfangxinError, match="'8300' \\(level box\\)"):
        write_upload(broken, io.BytesIO())
    nine = "93000000000000000000"
    broken = replace(batch, containers=lambda: iter([ContainerRecord(nine, "box", 4, "normal")]))
    with pytest.raises(MashangfangxinError, match=nine):
        write_relation_xml(broken, io.BytesIO())
