"""Packer: exact container counts, cascades, partial closes, camera mode and resume."""

from __future__ import annotations

import itertools
from collections import Counter
from collections.abc import Callable

import pytest
from aggregation_helpers import CodeStore

from aggregation.errors import PackerError
from aggregation.levels import Hierarchy
from aggregation.packer import ContainerClosed, Linked, Packer, PackEvent

H = Hierarchy.of("outer", ("case", 10), ("pallet", 4))


def numbered() -> Callable[[str], str]:
    """A container code source: case-0001, pallet-0002, ... in call order."""
    counter = itertools.count(1)
    return lambda level: f"{level}-{next(counter):04d}"


def run(h: Hierarchy, n: int, source: Callable[[str], str] | None = None) -> list[PackEvent]:
    p = Packer(h, source or numbered(), "B1", "P1")
    events: list[PackEvent] = []
    for i in range(n):
        events += p.add(f"item-{i:05d}")
    return events + p.close_partial()


def closed(events: list[PackEvent], level: str) -> list[ContainerClosed]:
    return [e for e in events if isinstance(e, ContainerClosed) and e.level == level]


def test_103_items_make_10_full_cases_a_partial_case_and_3_pallets() -> None:
    events = run(H, 103)
    cases, pallets = closed(events, "case"), closed(events, "pallet")
    assert [len(c.children) for c in cases] == [10] * 10 + [3]
    assert [c.partial for c in cases] == [False] * 10 + [True]
    assert [len(p.children) for p in pallets] == [4, 4, 3]
    assert [p.partial for p in pallets] == [False, False, True]
    assert cases[-1].code in pallets[-1].children
    items = [c for case in cases for c in case.children]
    assert items == [f"item-{i:05d}" for i in range(103)]  # line order kept
    assert sorted(c for p in pallets for c in p.children) == sorted(c.code for c in cases)


def test_events_apply_to_a_sound_hierarchy() -> None:
    store = CodeStore()
    for i in range(103):
        store.add(f"item-{i:05d}", "outer")
    store.apply_events(run(H, 103))
    assert store.problems(H) == []
    assert all(store.codes[f"item-{i:05d}"].state == "linked" for i in range(103))


def test_full_pallet_cascade_in_one_add() -> None:
    p = Packer(H, numbered(), "B1", "P1")
    for i in range(39):
        p.add(f"i{i}")
    last = p.add("i39")
    assert [type(e).__name__ for e in last] == [
        "Linked",
        "ContainerClosed",
        "Linked",
        "ContainerClosed",
    ]
    assert last[0] == Linked("case-0005", "i39", "case", "outer")
    assert last[2] == Linked("pallet-0002", "case-0005", "pallet", "case")
    assert last[3].children == ("case-0001", "case-0003", "case-0004", "case-0005")
    assert p.open_containers() == {}
    assert p.close_partial() == []


def test_exact_multiple_leaves_nothing_partial() -> None:
    events = run(H, 80)
    assert not any(e.partial for e in events if isinstance(e, ContainerClosed))
    assert Counter(e.level for e in events if isinstance(e, ContainerClosed)) == {
        "case": 8,
        "pallet": 2,
    }


def test_box_level_and_pair_levels() -> None:
    h = Hierarchy.of("inner", "outer", ("box", 6), ("case", 4), ("pallet", 2))
    events = run(h, 50)
    assert [len(c.children) for c in closed(events, "box")] == [6] * 8 + [2]
    assert [len(c.children) for c in closed(events, "case")] == [4, 4, 1]
    assert [len(c.children) for c in closed(events, "pallet")] == [2, 1]
    first = next(e for e in events if isinstance(e, Linked))
    assert (first.parent_level, first.child_level) == ("box", "outer")


def test_single_container_level() -> None:
    h = Hierarchy.of("outer", ("case", 3))
    events = run(h, 7)
    assert [(c.children, c.partial) for c in closed(events, "case")] == [
        (("item-00000", "item-00001", "item-00002"), False),
        (("item-00003", "item-00004", "item-00005"), False),
        (("item-00006",), True),
    ]


def test_no_container_level_is_refused() -> None:
    with pytest.raises(PackerError, match="no container level"):
        Packer(Hierarchy.of("inner", "outer"), numbered())


def test_duplicate_item_in_open_container_is_refused() -> None:
    p = Packer(H, numbered())
    p.add("a")
    with pytest.raises(PackerError, match="already packed"):
        p.add("a")
    with pytest.raises(PackerError, match="already packed"):
        p.add("case-0001")  # the open case's own code


def test_container_code_in_use_is_refused() -> None:
    p = Packer(Hierarchy.of("outer", ("case", 2)), lambda level: "x")
    with pytest.raises(PackerError, match="already in use"):
        p.add("x")
    with pytest.raises(PackerError, match="gave ''"):
        Packer(H, lambda level: "").add("y")


@pytest.mark.parametrize("cut", [0, 1, 9, 10, 11, 39, 40, 41, 57, 102, 103])
def test_restore_mid_batch_equals_an_uninterrupted_run(cut: int) -> None:
    whole = run(H, 103)
    source = numbered()  # one code source across the crash, like the database pool
    first = Packer(H, source, "B1", "P1")
    events: list[PackEvent] = []
    for i in range(cut):
        events += first.add(f"item-{i:05d}")
    snapshot = first.open_containers()
    del first
    second = Packer(H, source, "B1", "P1")
    assert second.restore(snapshot) == []
    assert second.open_containers() == snapshot
    for i in range(cut, 103):
        events += second.add(f"item-{i:05d}")
    events += second.close_partial()
    assert events == whole


def test_restore_finishes_an_interrupted_cascade() -> None:
    p = Packer(H, numbered())
    full = tuple(f"i{i}" for i in range(10))
    events = p.restore({"case": ("C1", full), "pallet": ("PAL", ("C0",))})
    assert events == [
        ContainerClosed("C1", "case", full, False),
        Linked("PAL", "C1", "pallet", "case"),
    ]
    assert p.open_containers() == {"pallet": ("PAL", ("C0", "C1"))}


def test_restore_does_not_link_twice() -> None:
    p = Packer(H, numbered())
    full = tuple(f"i{i}" for i in range(10))
    events = p.restore({"case": ("C1", full), "pallet": ("PAL", ("C0", "C1"))})
    assert events == [ContainerClosed("C1", "case", full, False)]


@pytest.mark.parametrize(
    ("snapshot", "match"),
    [
        ({"box": ("B", ("a",))}, "not a container level"),
        ({"outer": ("B", ("a",))}, "not a container level"),
        ({"case": ("C", ())}, "no children"),
        ({"case": ("C", tuple("abcdefghijk"))}, "11 > 10"),
        ({"case": ("C", ("a", "a"))}, "appears twice"),
        ({"case": ("C", ("C",))}, "appears twice"),
        ({"case": ("C", ("a",)), "pallet": ("P", ("a",))}, "appears twice"),
    ],
)
def test_restore_refuses_bad_snapshots(snapshot: dict, match: str) -> None:
    with pytest.raises(PackerError, match=match):
        Packer(H, numbered()).restore(snapshot)


def test_restore_needs_an_idle_packer() -> None:
    p = Packer(H, numbered())
    p.add("a")
    with pytest.raises(PackerError, match="no open container"):
        p.restore({})


def test_pack_layer_closes_the_case_and_fills_the_pallet() -> None:
    h = Hierarchy.of("outer", ("case", 4), ("pallet", 2))
    p = Packer(h, numbered())
    e1 = p.pack_layer("CASE-A", ["a", "b", "c", "d"])
    assert e1 == [
        Linked("CASE-A", "a", "case", "outer"),
        Linked("CASE-A", "b", "case", "outer"),
        Linked("CASE-A", "c", "case", "outer"),
        Linked("CASE-A", "d", "case", "outer"),
        ContainerClosed("CASE-A", "case", ("a", "b", "c", "d"), False),
        Linked("pallet-0001", "CASE-A", "pallet", "case"),
    ]
    e2 = p.pack_layer("CASE-B", ["e", "f"])  # 零箱 at batch end
    assert e2[2] == ContainerClosed("CASE-B", "case", ("e", "f"), True)
    assert e2[-1] == ContainerClosed("pallet-0001", "pallet", ("CASE-A", "CASE-B"), False)
    assert p.open_containers() == {}


@pytest.mark.parametrize(
    ("code", "kids", "match"),
    [
        ("C", [], "no children"),
        ("C", list("abcde"), "5 children > 4"),
        ("C", ["a", "a"], "listed twice"),
        ("C", ["C"], "already in use"),
    ],
)
def test_pack_layer_guards(code: str, kids: list[str], match: str) -> None:
    p = Packer(Hierarchy.of("outer", ("case", 4), ("pallet", 2)), numbered())
    with pytest.raises(PackerError, match=match):
        p.pack_layer(code, kids)


def test_pack_layer_refuses_mixing_with_line_mode() -> None:
    p = Packer(Hierarchy.of("outer", ("case", 4), ("pallet", 2)), numbered())
    p.add("a")
    with pytest.raises(PackerError, match="open in line mode"):
        p.pack_layer("C", ["b"])
    with pytest.raises(PackerError, match="not a container level"):
        p.pack_layer("C", ["b"], level="box")
