"""CSV relations (rework resolved) and codes files."""

from __future__ import annotations

import csv
import io
from dataclasses import replace

import pytest

from sync.csvrel import write_codes_csv, write_relations_csv
from sync.model import ExportError, LinkRecord


def rows(writer, batch) -> list[dict[str, str]]:
    out = io.StringIO(newline="")
    writer(batch, out)
    return list(csv.DictReader(io.StringIO(out.getvalue(), newline="")))


def test_relations_hold_the_final_state(batch) -> None:
    table = rows(write_relations_csv, batch)
    assert list(table[0]) == ["parent", "child", "parent_level", "child_level", "batch", "time"]
    pairs = [r for r in table if r["child_level"] == "inner"]
    assert len(pairs) == 24
    assert pairs[0] == {
        "parent": "82000000000000000000",
        "child": "81000000000000000000",
        "parent_level": "outer",
        "child_level": "inner",
        "batch": "B-2026/11-0042",
        "time": "2026-11-24T08:00:00+08:00",
    }
    box0 = [r["child"] for r in table if r["parent"] == "83000000000000000000"]
    # item 1 was unpacked in rework and its replacement (index 23) packed
    assert box0 == ["82000000000000000000", "82000000000000000002", "82000000000000000003",
                    "82000000000000000023"]  # fmt: skip
    cases = [r for r in table if r["parent_level"] == "case"]
    assert len(cases) == 6 and {r["child_level"] for r in cases} == {"box"}
    assert len(table) == 24 + 23 + 6


def test_relations_refuse_ungrouped_links(batch) -> None:
    links = list(batch.links())
    links.append(LinkRecord(links[0].parent, "82999", "box", "outer", links[0].time))
    broken = replace(batch, links=lambda: iter(links))
    with pytest.raises(ExportError, match=r"83000000000000000000.*not grouped"):
        rows(write_relations_csv, broken)


def test_codes_file_lists_every_fate(batch) -> None:
    table = rows(write_codes_csv, batch)
    assert list(table[0]) == ["code", "level", "state", "time", "reason"]
    by_state: dict[str, list[dict[str, str]]] = {}
    for r in table:
        by_state.setdefault(r["state"], []).append(r)
    assert len(by_state["void"]) == 3
    assert {r["reason"] for r in by_state["void"]} == {"printer silent"}
    assert by_state["decommissioned"][0]["code"] == "82000000000000000001"
    assert by_state["decommissioned"][0]["reason"] == "sampled by QA"
    assert by_state["destroyed"][0]["reason"] == "crushed cap"
    assert len(table) == 57 + 3
