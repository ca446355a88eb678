"""The item verdict (aggregation/item.py): mark and read stations, pairs, merged reads."""

from __future__ import annotations

from aggregation.item import Read, judge_item, merge_reads
from aggregation.reasons import RejectReason as R
from aggregation.rules import CodeInfo


def info(code: str, level: str = "outer", state: str = "available", batch: str | None = None):
    return CodeInfo(code, level, state, batch, None)


def read_station(reads, known, **kw):
    return judge_item(
        [Read(t, g) for t, g in reads],
        {k.code: k for k in known},
        kind="read",
        item_level="outer",
        pair_level=kw.pop("pair_level", None),
        batch_id="B1",
        **kw,
    )


def test_merge_keeps_the_first_order_the_better_grade_and_splits_messages() -> None:
    got = merge_reads(
        [[Read("A", "C"), Read("B", "")], [Read("A", "A"), Read("C//D", "")]], separator="//"
    )
    assert [(r.text, r.grade) for r in got] == [("A", "A"), ("B", ""), ("C", ""), ("D", "")]
    assert [r.text for r in merge_reads([[Read("C//D")]])] == ["C//D"]  # no separator: whole
    assert merge_reads([[Read(" ")], []]) == []


def test_a_preprinted_code_in_its_pack_passes() -> None:
    v = read_station([("P1", "B")], [info("P1")])
    assert v.ok and v.code == "P1" and v.grade == "B"


def test_a_code_in_no_pack_is_not_in_pack_and_a_wrong_length_says_so() -> None:
    assert read_station([("ZZ", "")], []).reason == R.NOT_IN_PACK
    v = read_station([("ZZZ", "")], [], length_ok=lambda _lv, c: len(c) == 2)
    assert v.reason == R.WRONG_LENGTH and v.read == "ZZZ"


def test_a_used_code_is_a_duplicate_and_another_level_is_wrong_level() -> None:
    assert read_station([("P1", "")], [info("P1", state="verified", batch="B1")]).reason == (
        R.DUPLICATE
    )
    assert read_station([("P1", "")], [info("P1", state="linked", batch="B1")]).reason == (
        R.DUPLICATE
    )
    assert read_station([("X1", "")], [info("X1", level="case")]).reason == R.WRONG_LEVEL
    assert read_station([("P1", "")], [info("P1", state="void")]).reason == R.VOID_CODE
    assert read_station([("P1", "")], [info("P1", batch="B0")]).reason == R.WRONG_BATCH


def test_nothing_read_is_no_read_and_a_low_grade_is_refused() -> None:
    assert read_station([], []).reason == R.NO_READ
    v = read_station([("P1", "F")], [info("P1")], min_grade="D")
    assert v.reason == R.LOW_GRADE and v.code == "P1"


def test_pairs_need_an_unused_inner_code() -> None:
    known = [info("P1"), info("I1", level="inner")]
    v = read_station([("I1", ""), ("P1", "")], known, pair_level="inner")
    assert v.ok and v.inner == "I1"
    assert read_station([("P1", "")], known, pair_level="inner").reason == R.MISSING_PAIR
    used = [info("P1"), info("I1", level="inner", state="verified", batch="B1")]
    assert read_station([("I1", ""), ("P1", "")], used, pair_level="inner").reason == R.DUPLICATE
    assert read_station([("I1", "")], known, pair_level="inner").reason == R.NO_READ


def test_a_mark_station_takes_only_what_it_sent() -> None:
    def mark(texts, known=(), sent=("S1",), marking=True):
        return judge_item(
            [Read(t) for t in texts], {k.code: k for k in known}, kind="mark",
            item_level="outer", pair_level=None, batch_id="B1", sent=set(sent).__contains__,
            marking=marking,
        )  # fmt: skip

    assert mark(["S1"]).ok
    assert mark(["S2"]).reason == R.MISPRINT
    assert mark(["S2"], marking=False).reason == R.UNKNOWN_CODE
    assert mark(["S0"], [info("S0", state="verified", batch="B1")]).reason == R.DUPLICATE
    assert mark(["S0"], [info("S0")]).reason == R.UNKNOWN_CODE  # in the pool, never printed
