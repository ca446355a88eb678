"""Rework planning: unpack, replace and aggregate by hand; refused plans name each reason."""

from __future__ import annotations

import pytest
from aggregation_helpers import CodeStore

from aggregation.errors import ReworkRefused
from aggregation.levels import Hierarchy
from aggregation.reasons import RejectReason as R
from aggregation.rework import (
    Link,
    SetFlags,
    SetState,
    Unlink,
    plan_aggregate,
    plan_replace,
    plan_unpack,
)

H = Hierarchy.of("outer", ("case", 3), ("pallet", 2))


@pytest.fixture
def store() -> CodeStore:
    """Pallet PAL holds cases C1 (full: a, b, c) and C2 (d); spare items x, y; empty case C3."""
    s = CodeStore()
    s.add("PAL", "pallet", "verified")
    s.add("C1", "case", "linked", parent="PAL")
    s.add("C2", "case", "linked", parent="PAL")
    s.add("C3", "case", "printed")
    for code in "abc":
        s.add(code, "outer", "linked", parent="C1")
    s.add("d", "outer", "linked", parent="C2")
    s.add("x", "outer")
    s.add("y", "outer")
    assert s.problems(H) == []
    return s


def refused(fn, *args, **kw) -> set[tuple[R, str]]:
    with pytest.raises(ReworkRefused) as info:
        fn(*args, **kw)
    assert str(info.value)  # readable message for the QA screen
    return {(v.reason, v.code) for v in info.value.violations}


def test_unpack_case_keeps_it_on_the_pallet(store: CodeStore) -> None:
    ops = plan_unpack("C1", store.lookup, store.children_of)
    assert ops == [
        Unlink("C1", "a"),
        SetState("a", "verified", "unpacked"),
        Unlink("C1", "b"),
        SetState("b", "verified", "unpacked"),
        Unlink("C1", "c"),
        SetState("c", "verified", "unpacked"),
    ]
    store.apply_ops(ops)
    assert store.problems(H) == []
    assert store.children_of("C1") == [] and store.codes["C1"].parent == "PAL"
    assert all(store.codes[c].state == "verified" for c in "abc")


def test_unpack_and_retire_takes_the_case_off_the_pallet(store: CodeStore) -> None:
    ops = plan_unpack("C2", store.lookup, store.children_of, retire=True, reason="damaged")
    assert ops[-2:] == [Unlink("PAL", "C2"), SetState("C2", "decommissioned", "damaged")]
    store.apply_ops(ops)
    assert store.problems(H) == []
    assert store.children_of("PAL") == ["C1"]


def test_unpack_pallet_leaves_cases_packed(store: CodeStore) -> None:
    store.apply_ops(plan_unpack("PAL", store.lookup, store.children_of))
    assert store.problems(H) == []
    assert store.children_of("PAL") == []
    assert store.children_of("C1") == ["a", "b", "c"]
    assert store.codes["C1"].state == "verified"


def test_unpack_refusals(store: CodeStore) -> None:
    assert refused(plan_unpack, "nope", store.lookup, store.children_of) == {
        (R.UNKNOWN_CODE, "nope")
    }
    store.kids["C3"] = ["x", "ghost"]  # corrupt listing: x points nowhere, ghost is unknown
    assert refused(plan_unpack, "C3", store.lookup, store.children_of) == {
        (R.ALREADY_LINKED, "x"),
        (R.UNKNOWN_CODE, "ghost"),
    }


def test_replace_links_the_new_child_to_the_same_parent(store: CodeStore) -> None:
    ops = plan_replace("b", "x", store.lookup, hierarchy=H)
    assert ops == [
        Unlink("C1", "b"),
        SetState("b", "decommissioned", "replaced"),
        Link("C1", "x"),
        SetState("x", "linked", "replaced"),
    ]
    store.apply_ops(ops)
    assert store.problems(H) == []
    assert store.children_of("C1") == ["a", "c", "x"]


def test_replace_can_return_the_old_child_to_stock(store: CodeStore) -> None:
    ops = plan_replace("b", "x", store.lookup, hierarchy=H, old_state="verified")
    assert ops[1] == SetState("b", "verified", "replaced")


def test_replace_refusals(store: CodeStore) -> None:
    store.add("w", "outer", batch="B2")
    store.add("v", "outer", "void")
    store.add("k", "case")
    kw = {"hierarchy": H}
    assert refused(plan_replace, "b", "w", store.lookup, **kw) == {(R.WRONG_BATCH, "w")}
    assert refused(plan_replace, "b", "d", store.lookup, **kw) == {(R.ALREADY_LINKED, "d")}
    assert refused(plan_replace, "b", "c", store.lookup, **kw) == {(R.DUPLICATE, "c")}
    assert refused(plan_replace, "b", "v", store.lookup, **kw) == {(R.VOID_CODE, "v")}
    assert refused(plan_replace, "b", "k", store.lookup, **kw) == {(R.WRONG_LEVEL, "k")}
    assert refused(plan_replace, "x", "y", store.lookup, **kw) == {(R.WRONG_LEVEL, "x")}
    assert refused(plan_replace, "b", "b", store.lookup, **kw) == {(R.DUPLICATE, "b")}
    assert refused(plan_replace, "?", "??", store.lookup, **kw) == {
        (R.UNKNOWN_CODE, "?"),
        (R.UNKNOWN_CODE, "??"),
    }


def test_replace_in_a_mixed_case_accepts_another_batch(store: CodeStore) -> None:
    store.add("CM", "case", "verified", mixed=True)
    store.add("m", "outer", "linked", parent="CM")
    store.add("w", "outer", batch="B2")
    assert plan_replace("m", "w", store.lookup, hierarchy=H)[2] == Link("CM", "w")


def test_aggregate_full_case_by_hand(store: CodeStore) -> None:
    store.add("z", "outer")
    ops = plan_aggregate("C3", ["x", "y", "z"], hierarchy=H, lookup=store.lookup)
    assert ops == [
        Link("C3", "x"),
        SetState("x", "linked", "aggregated by hand"),
        Link("C3", "y"),
        SetState("y", "linked", "aggregated by hand"),
        Link("C3", "z"),
        SetState("z", "linked", "aggregated by hand"),
    ]
    store.apply_ops(ops)
    assert store.problems(H) == []


def test_aggregate_partial_needs_the_flag(store: CodeStore) -> None:
    kw = {"hierarchy": H, "lookup": store.lookup}
    assert refused(plan_aggregate, "C3", ["x"], **kw) == {(R.COUNT_MISMATCH, "C3")}
    ops = plan_aggregate("C3", ["x"], partial=True, **kw)
    assert ops[0] == SetFlags("C3", mixed=False, partial=True)


def test_aggregate_counts_existing_children(store: CodeStore) -> None:
    kw = {"hierarchy": H, "lookup": store.lookup, "children_of": store.children_of}
    assert len(plan_aggregate("C2", ["x", "y"], **kw)) == 4  # d + x + y = 3, full
    store.add("z", "outer")
    assert refused(plan_aggregate, "C2", ["x", "y", "z"], **kw) == {(R.CAPACITY, "C2")}


def test_aggregate_mixed(store: CodeStore) -> None:
    store.add("w", "outer", batch="B2", product="P2")
    kw = {"hierarchy": H, "lookup": store.lookup, "partial": True}
    assert refused(plan_aggregate, "C3", ["x", "w"], **kw) == {
        (R.WRONG_BATCH, "w"),
        (R.FOREIGN_ITEM, "w"),
    }
    ops = plan_aggregate("C3", ["x", "w"], mixed=True, **kw)
    assert ops[0] == SetFlags("C3", mixed=True, partial=True)
    got = refused(plan_aggregate, "C3", ["x", "w"], mixed=True, allow_mixed=False, **kw)
    assert got == {(R.MIXED_NOT_ALLOWED, "C3")}


def test_aggregate_unassigned_container_needs_one_batch(store: CodeStore) -> None:
    store.add("CN", "case", "printed", batch=None, product=None)
    store.add("w", "outer", batch="B2")
    kw = {"hierarchy": H, "lookup": store.lookup, "partial": True}
    assert refused(plan_aggregate, "CN", ["x", "w"], **kw) == {(R.WRONG_BATCH, "CN")}
    assert plan_aggregate("CN", ["x", "y"], **kw)


def test_aggregate_refusals(store: CodeStore) -> None:
    kw = {"hierarchy": H, "lookup": store.lookup, "partial": True}
    assert refused(plan_aggregate, "C3", [], **kw) == {(R.COUNT_MISMATCH, "C3")}
    assert refused(plan_aggregate, "C3", ["x", "x"], **kw) == {(R.DUPLICATE, "x")}
    assert refused(plan_aggregate, "C3", ["x", "?"], **kw) == {(R.UNKNOWN_CODE, "?")}
    assert refused(plan_aggregate, "C9", ["x"], **kw) == {(R.UNKNOWN_CODE, "C9")}
    assert refused(plan_aggregate, "C3", ["a"], **kw) == {(R.ALREADY_LINKED, "a")}
    assert refused(plan_aggregate, "PAL", ["x"], **kw) == {(R.WRONG_LEVEL, "x")}


def test_partial_flag_only_when_short(store: CodeStore) -> None:
    store.add("z", "outer")
    ops = plan_aggregate("C3", ["x", "y", "z"], hierarchy=H, lookup=store.lookup, partial=True)
    assert not any(isinstance(op, SetFlags) for op in ops)


def test_refusal_message_is_bounded(store: CodeStore) -> None:
    for i in range(8):
        store.add(f"v{i}", "outer", "void")
    with pytest.raises(ReworkRefused, match=r"void_code v0: .*\(\+4 more\)"):
        plan_aggregate(
            "C3", [f"v{i}" for i in range(8)], hierarchy=H, lookup=store.lookup, partial=True
        )
