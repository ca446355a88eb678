"""check_layer: one frame → a case, and one test per reject reason of a case-top frame."""

from __future__ import annotations

import pytest
from aggregation_helpers import CodeStore

from aggregation.layer import check_layer
from aggregation.levels import Hierarchy
from aggregation.reasons import RejectReason as R

H = Hierarchy.of("outer", ("case", 4), ("pallet", 10))


@pytest.fixture
def store() -> CodeStore:
    s = CodeStore()
    for i in range(8):
        s.add(f"O{i}", "outer")
    s.add("CASE1", "case", "printed")
    s.add("CASE2", "case", "printed")
    return s


def frame(store: CodeStore, codes: list[str], label: str | None = "CASE1", **kw: object):
    args: dict = {
        "expected": 4,
        "case_level": "case",
        "batch_id": "B1",
        "product": "P1",
        "lookup": store.lookup,
        "hierarchy": H,
    }
    args.update(kw)
    return check_layer(codes, label, **args)


def found(result) -> set[tuple[R, str]]:
    return {(v.reason, v.code) for v in result.violations}


def test_good_frame_makes_a_case(store: CodeStore) -> None:
    r = frame(store, ["O0", "O1", "O2", "O3"])
    assert r.ok and r.case_code == "CASE1"
    assert r.children == ("O0", "O1", "O2", "O3")
    assert r.violations == ()


def test_missing_label(store: CodeStore) -> None:
    for label in (None, ""):
        r = frame(store, ["O0", "O1", "O2", "O3"], label)
        assert not r.ok and r.case_code is None
        assert found(r) == {(R.MISSING_LABEL, "")}


def test_too_few_codes(store: CodeStore) -> None:
    r = frame(store, ["O0", "O1", "O2"])
    assert found(r) == {(R.TOO_FEW, "CASE1")}
    assert "3 codes read, 4 expected" in r.violations[0].detail


def test_too_few_accepted_at_batch_end(store: CodeStore) -> None:
    r = frame(store, ["O0", "O1", "O2"], allow_partial=True)
    assert r.ok and r.children == ("O0", "O1", "O2")
    assert found(frame(store, [], allow_partial=True)) == {(R.TOO_FEW, "CASE1")}


def test_too_many_codes_even_when_partial_allowed(store: CodeStore) -> None:
    r = frame(store, ["O0", "O1", "O2", "O3", "O4"], allow_partial=True)
    assert found(r) == {(R.TOO_MANY, "CASE1")}


def test_unknown_code(store: CodeStore) -> None:
    assert found(frame(store, ["O0", "O1", "O2", "X9"])) == {(R.UNKNOWN_CODE, "X9")}


def test_unknown_label(store: CodeStore) -> None:
    r = frame(store, ["O0", "O1", "O2", "O3"], "CASE?")
    assert found(r) == {(R.UNKNOWN_CODE, "CASE?")}


def test_foreign_item(store: CodeStore) -> None:
    store.add("F1", "outer", batch="B9", product="P9")
    assert found(frame(store, ["O0", "O1", "O2", "F1"])) == {(R.FOREIGN_ITEM, "F1")}


def test_wrong_batch(store: CodeStore) -> None:
    store.add("W1", "outer", batch="B2")
    assert found(frame(store, ["O0", "O1", "O2", "W1"])) == {(R.WRONG_BATCH, "W1")}


def test_label_from_another_batch_or_product(store: CodeStore) -> None:
    store.add("CASE9", "case", "printed", batch="B2", product="P2")
    r = frame(store, ["O0", "O1", "O2", "O3"], "CASE9")
    assert found(r) == {(R.WRONG_BATCH, "CASE9"), (R.FOREIGN_ITEM, "CASE9")}


def test_already_linked_to_another_case(store: CodeStore) -> None:
    store.add("L1", "outer", "linked", parent="CASE2")
    r = frame(store, ["O0", "O1", "O2", "L1"])
    assert found(r) == {(R.ALREADY_LINKED, "L1")}
    assert "CASE2" in r.violations[0].detail


def test_reread_of_a_packed_case_is_a_duplicate(store: CodeStore) -> None:
    store.add("L1", "outer", "linked", parent="CASE1")
    assert found(frame(store, ["O0", "O1", "O2", "L1"])) == {(R.DUPLICATE, "L1")}


def test_label_already_on_a_pallet(store: CodeStore) -> None:
    store.add("PAL", "pallet", "printed")
    store.add("CASE3", "case", "linked", parent="PAL")
    r = frame(store, ["O0", "O1", "O2", "O3"], "CASE3")
    assert found(r) == {(R.ALREADY_LINKED, "CASE3")}


@pytest.mark.parametrize(
    ("state", "reason"),
    [
        ("rejected", R.REJECTED_CODE),
        ("void", R.VOID_CODE),
        ("decommissioned", R.DECOMMISSIONED),
        ("printed", R.NOT_VERIFIED),
        ("reserved", R.NOT_VERIFIED),
        ("available", R.NOT_VERIFIED),
    ],
)
def test_child_not_verified(store: CodeStore, state: str, reason: R) -> None:
    store.add("S1", "outer", state)
    assert found(frame(store, ["O0", "O1", "O2", "S1"])) == {(reason, "S1")}


@pytest.mark.parametrize(
    ("state", "reason"),
    [("rejected", R.REJECTED_CODE), ("void", R.VOID_CODE), ("decommissioned", R.DECOMMISSIONED)],
)
def test_dead_label(store: CodeStore, state: str, reason: R) -> None:
    store.add("CASE9", "case", state)
    assert found(frame(store, ["O0", "O1", "O2", "O3"], "CASE9")) == {(reason, "CASE9")}


def test_duplicate_inside_the_frame(store: CodeStore) -> None:
    r = frame(store, ["O0", "O1", "O1", "O3"])
    assert found(r) == {(R.DUPLICATE, "O1")}
    assert r.children == ("O0", "O1", "O3")


def test_wrong_level(store: CodeStore) -> None:
    store.add("CASE4", "case", "verified")
    assert found(frame(store, ["O0", "O1", "O2", "CASE4"])) == {(R.WRONG_LEVEL, "CASE4")}
    store.add("O-LABEL", "outer")
    r = frame(store, ["O0", "O1", "O2", "O3"], "O-LABEL")
    assert found(r) == {(R.WRONG_LEVEL, "O-LABEL")}


def test_label_read_as_an_item(store: CodeStore) -> None:
    r = frame(store, ["O0", "O1", "O2", "CASE1"])
    assert (R.CYCLE, "CASE1") in found(r)


def test_without_hierarchy_the_child_level_is_not_checked(store: CodeStore) -> None:
    assert frame(store, ["O0", "O1", "O2", "CASE2"], hierarchy=None).ok is False  # CASE2 printed
    store.add("CASE4", "case", "verified")
    assert frame(store, ["O0", "O1", "O2", "CASE4"], hierarchy=None).ok


def test_every_problem_in_one_frame_is_reported(store: CodeStore) -> None:
    store.add("V1", "outer", "void")
    r = frame(store, ["O0", "O0", "V1", "X1", "O4"], None)
    assert found(r) == {
        (R.MISSING_LABEL, ""),
        (R.TOO_MANY, ""),
        (R.DUPLICATE, "O0"),
        (R.VOID_CODE, "V1"),
        (R.UNKNOWN_CODE, "X1"),
    }


def test_missing_pair(store: CodeStore) -> None:
    paired = {"O0", "O1", "O2"}
    r = frame(store, ["O0", "O1", "O2", "O3"], has_pair=paired.__contains__)
    assert found(r) == {(R.MISSING_PAIR, "O3")}


def test_an_item_of_no_batch_is_named_so_not_product_none(store: CodeStore) -> None:
    store.add("N1", "outer", batch=None, product=None)
    r = frame(store, ["O0", "O1", "O2", "N1"])
    assert found(r) == {(R.FOREIGN_ITEM, "N1")}
    [v] = r.violations
    assert "N1 is in no batch (no product)" in v.detail and "None" not in v.detail
