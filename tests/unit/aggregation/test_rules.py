"""check_link: one test per rule, each asserting the exact reason and the code it names."""

from __future__ import annotations

import pytest
from aggregation_helpers import CodeStore

from aggregation.levels import Hierarchy, Level
from aggregation.reasons import RejectReason as R
from aggregation.rules import CodeInfo, check_link, check_link_codes

H = Hierarchy(
    [Level("inner"), Level("outer"), Level("case", 3), Level("pallet", 2)],
)


@pytest.fixture
def store() -> CodeStore:
    s = CodeStore()
    s.add("C1", "case", "printed")
    s.add("O1", "outer")
    s.add("I1", "inner")
    s.add("P1", "pallet", "available")
    return s


def reasons(store: CodeStore, parent: str, child: str, count: int = 0, **kw: object) -> list:
    vs = check_link(
        store.codes[parent],
        store.codes[child],
        hierarchy=H,
        lookup=store.lookup,
        children_count=count,
        **kw,
    )
    return [(v.reason, v.code) for v in vs]


def test_valid_links(store: CodeStore) -> None:
    assert reasons(store, "C1", "O1") == []
    assert reasons(store, "O1", "I1") == []
    s2 = store.add("C2", "case", "verified")
    assert reasons(store, "P1", s2.code) == []


@pytest.mark.parametrize("state", ["available", "reserved", "printed", "verified", "linked"])
def test_container_states_allowed(store: CodeStore, state: str) -> None:
    store.add("C9", "case", state)
    assert reasons(store, "C9", "O1") == []


@pytest.mark.parametrize(
    ("state", "reason"),
    [
        ("rejected", R.REJECTED_CODE),
        ("void", R.VOID_CODE),
        ("decommissioned", R.DECOMMISSIONED),
    ],
)
def test_dead_codes_are_refused_on_both_sides(store: CodeStore, state: str, reason: R) -> None:
    store.add("C9", "case", state)
    store.add("O9", "outer", state)
    assert reasons(store, "C9", "O1") == [(reason, "C9")]
    assert reasons(store, "C1", "O9") == [(reason, "O9")]


@pytest.mark.parametrize("state", ["available", "reserved", "printed"])
def test_children_must_be_verified(store: CodeStore, state: str) -> None:
    store.add("O9", "outer", state)
    assert reasons(store, "C1", "O9") == [(R.NOT_VERIFIED, "O9")]


def test_child_has_at_most_one_parent(store: CodeStore) -> None:
    store.add("C2", "case")
    store.add("O2", "outer", "linked", parent="C2")
    assert reasons(store, "C1", "O2") == [(R.ALREADY_LINKED, "O2")]
    assert reasons(store, "C2", "O2", 1) == [(R.DUPLICATE, "O2")]
    store.add("O3", "outer", "linked")  # state says linked even though no parent is recorded
    assert reasons(store, "C1", "O3") == [(R.ALREADY_LINKED, "O3")]


def test_parent_is_exactly_one_level_up(store: CodeStore) -> None:
    assert reasons(store, "P1", "O1") == [(R.WRONG_LEVEL, "O1")]  # skips case
    assert reasons(store, "C1", "I1") == [(R.WRONG_LEVEL, "I1")]  # inner goes into outer
    store.add("C2", "case")
    assert reasons(store, "O1", "C2") == [(R.WRONG_LEVEL, "C2")]  # upside down
    store.add("P2", "pallet")
    assert reasons(store, "P1", "P2") == [(R.WRONG_LEVEL, "P2")]  # top has no parent
    store.add("B1", "box")
    assert reasons(store, "C1", "B1") == [(R.WRONG_LEVEL, "B1")]  # level unused on this line


def test_capacity(store: CodeStore) -> None:
    assert reasons(store, "C1", "O1", 2) == []
    assert reasons(store, "C1", "O1", 3) == [(R.CAPACITY, "C1")]
    assert reasons(store, "O1", "I1", 1) == [(R.CAPACITY, "O1")]  # outer pairs 1:1


def test_same_batch_and_product(store: CodeStore) -> None:
    store.add("O2", "outer", batch="B2")
    store.add("O3", "outer", product="P2")
    assert reasons(store, "C1", "O2") == [(R.WRONG_BATCH, "O2")]
    assert reasons(store, "C1", "O3") == [(R.FOREIGN_ITEM, "O3")]
    store.add("CX", "case", "printed", batch=None, product=None)  # not yet assigned
    assert reasons(store, "CX", "O2") == []


def test_mixed_container_takes_any_batch(store: CodeStore) -> None:
    store.add("CM", "case", mixed=True)
    store.add("O2", "outer", batch="B2", product="P2")
    assert reasons(store, "CM", "O2") == []
    assert reasons(store, "CM", "O2", allow_mixed=False) == [(R.MIXED_NOT_ALLOWED, "CM")]


def test_mixed_child_needs_mixed_parent(store: CodeStore) -> None:
    store.add("CM", "case", mixed=True, batch=None)
    assert reasons(store, "P1", "CM") == [(R.MIXED_NOT_ALLOWED, "CM")]
    store.add("PM", "pallet", mixed=True)
    assert reasons(store, "PM", "CM") == []


def test_cycles(store: CodeStore) -> None:
    assert reasons(store, "C1", "C1") == [(R.CYCLE, "C1")]
    # Corrupt data: a case inside an outer inside the case. Levels and cycle both report.
    s = CodeStore()
    s.add("A", "case", "linked", parent="B")
    s.add("B", "outer", "linked", parent="A")
    got = {r for r, _ in reasons(s, "A", "B", 0)}
    assert R.CYCLE in got
    # A loop above the parent that does not involve the child still terminates and is reported.
    s.add("X", "pallet", "linked", parent="Y")
    s.add("Y", "pallet", "linked", parent="X")
    s.add("Z", "case", "linked", parent="X")
    s.add("O", "outer")
    assert (R.CYCLE, "X") in reasons(s, "Z", "O") or (R.CYCLE, "Y") in reasons(s, "Z", "O")


def test_violations_accumulate(store: CodeStore) -> None:
    store.add("O9", "outer", "void", batch="B2", product="P2")
    got = reasons(store, "C1", "O9", 3)
    assert set(got) == {
        (R.VOID_CODE, "O9"),
        (R.CAPACITY, "C1"),
        (R.FOREIGN_ITEM, "O9"),
        (R.WRONG_BATCH, "O9"),
    }


def test_check_link_codes_reports_unknown(store: CodeStore) -> None:
    kw = {"hierarchy": H, "lookup": store.lookup, "children_count": 0}
    got = check_link_codes("nope", "O1", **kw)
    assert [(v.reason, v.code) for v in got] == [(R.UNKNOWN_CODE, "nope")]
    got = check_link_codes("C1", "gone", **kw)
    assert [(v.reason, v.code) for v in got] == [(R.UNKNOWN_CODE, "gone")]
    assert check_link_codes("C1", "O1", **kw) == []


def test_violation_detail_names_the_codes(store: CodeStore) -> None:
    store.add("O2", "outer", batch="B2")
    (v,) = check_link(
        store.codes["C1"], store.codes["O2"], hierarchy=H, lookup=store.lookup, children_count=0
    )
    assert "O2" in v.detail and "B2" in v.detail and "B1" in v.detail


def test_codeinfo_defaults() -> None:
    c = CodeInfo("X", "outer", "verified", "B", "P")
    assert c.parent is None and c.mixed is False


def test_unpaired_outer_is_missing_pair(store: CodeStore) -> None:
    store.add("O2", "outer")
    store.add("I2", "inner", "linked", parent="O2")
    has_pair = lambda code: bool(store.children_of(code))  # noqa: E731
    assert reasons(store, "C1", "O1", has_pair=has_pair) == [(R.MISSING_PAIR, "O1")]
    assert reasons(store, "C1", "O2", has_pair=has_pair) == []
    # A line without inner codes has no pairs to miss.
    h = Hierarchy.of("outer", ("case", 3))
    got = check_link(
        store.codes["C1"],
        store.codes["O1"],
        hierarchy=h,
        lookup=store.lookup,
        children_count=0,
        has_pair=has_pair,
    )
    assert got == []


def test_a_child_of_no_batch_is_named_so_not_product_none() -> None:
    parent = CodeInfo("C7", "case", "verified", "B1", "WATER-550")
    child = CodeInfo("O7", "outer", "verified", None, None)
    details = [v.detail for v in check_link(parent, child, hierarchy=H,
                                             lookup=lambda c: None, children_count=0)]  # fmt: skip
    assert any("O7 is in no batch (no product), C7 holds WATER-550" in d for d in details)
    assert not any("None" in d for d in details), details
