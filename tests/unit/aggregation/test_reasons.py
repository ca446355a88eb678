"""Reject reasons: stable stored values and a short text in both languages for each."""

from __future__ import annotations

import re

from aggregation.reasons import REASON_TEXT, RejectReason, reason_text


def test_values_are_lowercase_snake_and_unique() -> None:
    values = [r.value for r in RejectReason]
    assert len(set(values)) == len(values)
    assert all(re.fullmatch(r"[a-z]+(_[a-z]+)*", v) for v in values)
    assert RejectReason("wrong_batch") is RejectReason.WRONG_BATCH
    assert f"{RejectReason.NO_READ}" == "no_read"


def test_brief_reasons_exist() -> None:
    wanted = {
        "no_read", "misprint", "unknown_code", "duplicate", "wrong_batch", "already_linked",
        "void_code", "missing_pair", "count_mismatch", "foreign_item", "late_decision",
        "low_grade", "rejected_code", "decommissioned", "wrong_level", "capacity", "cycle",
        "mixed_not_allowed",
    }  # fmt: skip
    assert set(wanted) <= {r.value for r in RejectReason}


def test_every_reason_has_english_and_chinese_text() -> None:
    assert set(REASON_TEXT) == set(RejectReason)
    for en, zh in REASON_TEXT.values():
        assert en.isascii() or "≠" in en
        assert re.search(r"[\u4e00-\u9fff]", zh), zh
    assert reason_text(RejectReason.DUPLICATE, "zh") == "重码"
    assert reason_text("duplicate", "zh-CN") == "重码"
    assert reason_text("duplicate") == "Duplicate code"
    assert reason_text("something_new", "zh") == "something_new"
