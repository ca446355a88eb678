"""Levels and hierarchy: navigation, pair levels and validation of configured levels."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from aggregation.errors import HierarchyError
from aggregation.levels import Hierarchy, Level

FULL = Hierarchy(
    [
        Level("inner", 1, "盖内码", "Inner cap code"),
        Level("outer", 1, "盖外码", "Outer code"),
        Level("box", 6, "盒码", "Box code"),
        Level("case", 4, "箱码", "Case code"),
        Level("pallet", 20, "垛码", "Pallet code"),
    ]
)


def test_navigation_full_hierarchy() -> None:
    assert FULL.names == ("inner", "outer", "box", "case", "pallet")
    assert FULL.parent_of("inner") == FULL["outer"]
    assert FULL.parent_of(FULL["box"]).name == "case"
    assert FULL.parent_of("pallet") is None
    assert FULL.child_of("inner") is None
    assert FULL.child_of("case").name == "box"
    assert FULL.capacity("box") == 6
    assert FULL.capacity(FULL["pallet"]) == 20
    assert FULL.pair_levels == (FULL["inner"], FULL["outer"])
    assert FULL.item_level.name == "outer"
    assert [lv.name for lv in FULL.container_levels] == ["box", "case", "pallet"]
    assert FULL["box"].label_zh == "盒码"
    assert "box" in FULL and FULL["box"] in FULL and "crate" not in FULL


def test_subset_without_pair() -> None:
    h = Hierarchy.of("outer", ("case", 24), ("pallet", 20))
    assert h.pair_levels is None
    assert h.item_level.name == "outer"
    assert h.parent_of("outer").name == "case"
    assert [lv.name for lv in h.container_levels] == ["case", "pallet"]


def test_unused_level_is_named_in_the_error() -> None:
    h = Hierarchy.of("outer", ("case", 24))
    with pytest.raises(HierarchyError, match="'box' is not used"):
        h.parent_of("box")


def test_from_settings_reads_config_records() -> None:
    records = [
        SimpleNamespace(name="outer", capacity=1, label_zh="盖外码", label_en="Outer"),
        SimpleNamespace(name="case", capacity=24, label_zh="箱码", label_en="Case"),
    ]
    h = Hierarchy.from_settings(records)
    assert h["case"] == Level("case", 24, "箱码", "Case")


@pytest.mark.parametrize(
    ("levels", "match"),
    [
        ([], "no levels"),
        ([Level("outer"), Level("crate", 4)], "unknown level 'crate'"),
        ([Level("outer"), Level("case", 0)], "capacity must be an integer ≥ 1"),
        ([Level("outer"), Level("case", -3)], "capacity must be"),
        ([Level("outer"), Level("case", True)], "capacity must be"),
        ([Level("outer"), Level("case", 2), Level("case", 3)], "listed twice"),
        ([Level("case", 4), Level("outer")], "child first"),
        ([Level("outer"), Level("pallet", 2), Level("case", 4)], "child first"),
        ([Level("inner"), Level("case", 4)], "needs 'outer'"),
        ([Level("inner"), Level("outer", 2), Level("case", 4)], "capacity must be 1"),
    ],
)
def test_invalid_hierarchies_are_refused(levels: list[Level], match: str) -> None:
    with pytest.raises(HierarchyError, match=match):
        Hierarchy(levels)
