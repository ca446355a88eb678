"""Reject reasons: stable lowercase values stored in the database, short English/Chinese text.

A `Violation` (one broken rule: reason, code, detail) lives here too, beside its reason: the
rules produce it and errors.ReworkRefused carries it, so neither imports the other.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class RejectReason(StrEnum):
    """Why an item, a code or a link was refused. Values never change once stored."""

    NO_READ = "no_read"
    MISPRINT = "misprint"
    UNKNOWN_CODE = "unknown_code"
    DUPLICATE = "duplicate"
    WRONG_BATCH = "wrong_batch"
    ALREADY_LINKED = "already_linked"
    VOID_CODE = "void_code"
    MISSING_PAIR = "missing_pair"
    COUNT_MISMATCH = "count_mismatch"
    FOREIGN_ITEM = "foreign_item"
    LATE_DECISION = "late_decision"
    LOW_GRADE = "low_grade"
    REJECTED_CODE = "rejected_code"
    DECOMMISSIONED = "decommissioned"
    NOT_VERIFIED = "not_verified"
    WRONG_LEVEL = "wrong_level"
    CAPACITY = "capacity"
    CYCLE = "cycle"
    MIXED_NOT_ALLOWED = "mixed_not_allowed"
    MISSING_LABEL = "missing_label"
    WEIGHT = "weight"
    NOT_IN_PACK = "not_in_pack"
    WRONG_LENGTH = "wrong_length"
    TOO_MANY = "too_many"
    TOO_FEW = "too_few"
    CONTAINER_CHECK = "container_check"


@dataclass(frozen=True, slots=True)
class Violation:
    """One broken rule: the reason (stored), the code it concerns, and a line for a human."""

    reason: RejectReason
    code: str
    detail: str


# (English, Chinese) short texts for the operator screen; the UI may override through its catalog.
REASON_TEXT: dict[RejectReason, tuple[str, str]] = {
    RejectReason.NO_READ: ("No read", "未读到码"),
    RejectReason.MISPRINT: ("Misprint (read ≠ sent)", "错印（读码与下发不符）"),
    RejectReason.UNKNOWN_CODE: ("Unknown code", "未知码"),
    RejectReason.DUPLICATE: ("Duplicate code", "重码"),
    RejectReason.WRONG_BATCH: ("Wrong batch", "批次不符"),
    RejectReason.ALREADY_LINKED: ("Already linked", "已关联"),
    RejectReason.VOID_CODE: ("Void code", "作废码"),
    RejectReason.MISSING_PAIR: ("Inner/outer pair missing", "内外码未配对"),
    RejectReason.COUNT_MISMATCH: ("Count mismatch", "数量不符"),
    RejectReason.FOREIGN_ITEM: ("Foreign item (other product)", "混入异品"),
    RejectReason.LATE_DECISION: ("Decision too late", "判定超时"),
    RejectReason.LOW_GRADE: ("Print grade too low", "印刷等级不足"),
    RejectReason.REJECTED_CODE: ("Rejected code", "已剔除码"),
    RejectReason.DECOMMISSIONED: ("Decommissioned code", "已注销码"),
    RejectReason.NOT_VERIFIED: ("Not verified", "未校验"),
    RejectReason.WRONG_LEVEL: ("Wrong packaging level", "包装层级错误"),
    RejectReason.CAPACITY: ("Container full", "超出容量"),
    RejectReason.CYCLE: ("Link would form a loop", "关联成环"),
    RejectReason.MIXED_NOT_ALLOWED: ("Mixed container not allowed", "不允许拼箱"),
    RejectReason.MISSING_LABEL: ("Case label missing", "缺少箱标"),
    RejectReason.WEIGHT: ("Weight out of tolerance", "重量超差"),
    RejectReason.NOT_IN_PACK: ("Not in any imported pack", "不在码包"),
    RejectReason.WRONG_LENGTH: ("Wrong code length", "码长错误"),
    RejectReason.TOO_MANY: ("Too many children", "超码"),
    RejectReason.TOO_FEW: ("Too few children", "缺码"),
    RejectReason.CONTAINER_CHECK: ("Container check failed", "盒箱校验不通过"),
}


def reason_text(reason: RejectReason | str, lang: str = "en") -> str:
    """Short text for a reason in 'en' or 'zh' (any 'zh-*' too); unknown values come back as is."""
    try:
        en, zh = REASON_TEXT[RejectReason(reason)]
    except ValueError:
        return str(reason)
    return zh if lang.lower().startswith("zh") else en
