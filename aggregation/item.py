"""The verdict on one item at the item station: pure, from what was read and what the store knows.

Two kinds of item station share it. A *mark* station printed the item's code itself: the code read
must be one it sent to its printer (`sent`). A *read* station sees codes the packaging supplier
printed: the code must be in an imported pack (known to the store at the item level), unused, and
of the configured length. Either may also need the item's inner cap code (the inner ↔ outer pair),
which must be unused. The runner records what this says; nothing here touches a device or the store.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from aggregation.reasons import RejectReason as R
from aggregation.rules import CodeInfo
from aggregation.states import CodeState as S

GRADES = "ABCDF"


@dataclass(frozen=True, slots=True)
class Read:
    """One decoded code: its text and print grade ('' when the decoder gives none)."""

    text: str
    grade: str = ""


@dataclass(frozen=True, slots=True)
class ItemVerdict:
    """Good (reason None) or the reject reason; the item's code, its inner code, what was read."""

    reason: R | None
    code: str | None
    inner: str | None = None
    read: str | None = None
    grade: str = "A"

    @property
    def ok(self) -> bool:
        """The item passes."""
        return self.reason is None


def merge_reads(per_camera: Sequence[Sequence[Read]], separator: str | None = None) -> list[Read]:
    """Reads of one item from several cameras (or one reader message `码1//码2`), de-duplicated.

    The first camera's order wins; a code read by two cameras keeps its better grade.
    """
    out: dict[str, Read] = {}
    for reads in per_camera:
        for r in reads:
            texts = r.text.split(separator) if separator else [r.text]
            for t in (t.strip() for t in texts):
                if not t:
                    continue
                had = out.get(t)
                if had is None or _better(r.grade, had.grade):
                    out[t] = Read(t, r.grade)
    return list(out.values())


def _better(a: str, b: str) -> bool:
    return bool(a) and (not b or GRADES.index(a) < GRADES.index(b))


def why_not(info: CodeInfo, batch_id: str | None, *, available_ok: bool = False) -> R:
    """Why a known code cannot go on this item (or as this container's code)."""
    if info.state == S.VOID:
        return R.VOID_CODE
    if info.batch_id not in (None, batch_id):
        return R.WRONG_BATCH
    if info.state in (S.VERIFIED, S.LINKED, S.REJECTED, S.RESERVED, S.PRINTED):
        return R.DUPLICATE  # used, or issued to another item already on its way
    if info.state == S.DECOMMISSIONED:
        return R.DECOMMISSIONED
    return R.NOT_IN_PACK if available_ok else R.UNKNOWN_CODE  # never issued by this line


def judge_item(
    reads: Sequence[Read],
    known: Mapping[str, CodeInfo],
    *,
    kind: str,
    item_level: str,
    pair_level: str | None,
    batch_id: str | None,
    min_grade: str = "F",
    sent: Callable[[str], bool] = lambda _c: False,
    marking: bool = True,
    length_ok: Callable[[str, str], bool] = lambda _lv, _c: True,
) -> ItemVerdict:
    """The item's verdict. `known` holds the store's view of every read text it knows.

    kind "mark": the item code is the read text `sent(text)` says this line printed; a read of
    nothing it sent is a misprint (or unknown code without a printer, `marking` False).
    kind "read": the item code is a read text of the item level that is still available.
    """
    texts = [r.text for r in reads]
    inner = next((known[t] for t in texts if t in known and known[t].level == pair_level), None)
    if kind == "mark":
        code = next((t for t in texts if sent(t)), None)
    else:
        code = next((t for t in texts if t in known and known[t].level == item_level), None)
    if code is None:
        return ItemVerdict(_no_code(texts, known, kind, item_level, pair_level, inner, batch_id,
                                    marking, length_ok),
                           None, None, _shown(texts, known, pair_level))  # fmt: skip
    grade = next((r.grade for r in reads if r.text == code), "") or "A"
    if kind == "read":
        info = known[code]
        if info.state != S.AVAILABLE or info.batch_id not in (None, batch_id):
            return ItemVerdict(why_not(info, batch_id, available_ok=True), code, read=code)
    if GRADES.index(grade) > GRADES.index(min_grade):
        return ItemVerdict(R.LOW_GRADE, code, read=code, grade=grade)
    if pair_level:
        if inner is None:
            return ItemVerdict(R.MISSING_PAIR, code, read=code, grade=grade)
        if inner.state != S.AVAILABLE or inner.batch_id not in (None, batch_id):
            reason = (
                R.DUPLICATE
                if inner.state in (S.VERIFIED, S.LINKED)
                else why_not(inner, batch_id, available_ok=kind == "read")
            )
            return ItemVerdict(reason, code, read=code, grade=grade)
    return ItemVerdict(None, code, inner.code if inner else None, code, grade)


def _no_code(
    texts: list[str],
    known: Mapping[str, CodeInfo],
    kind: str,
    item_level: str,
    pair_level: str | None,
    inner: CodeInfo | None,
    batch_id: str | None,
    marking: bool,
    length_ok: Callable[[str, str], bool],
) -> R:
    if not texts or (pair_level and len(texts) == 1 and inner is not None):
        return R.NO_READ
    other = next((known[t] for t in texts if t in known and known[t].level == item_level), None)
    if other is not None:
        return why_not(other, batch_id, available_ok=kind == "read")
    if kind == "mark":
        return R.MISPRINT if marking else R.UNKNOWN_CODE
    unknown = [t for t in texts if t not in known]
    if unknown and not all(length_ok(item_level, t) for t in unknown):
        return R.WRONG_LENGTH
    if not unknown:
        return R.WRONG_LEVEL  # every code read is known, at another level
    return R.NOT_IN_PACK


def _shown(texts: list[str], known: Mapping[str, CodeInfo], pair_level: str | None) -> str | None:
    """The text recorded with a reject: the first read that is not the inner code."""
    return next((t for t in texts if t not in known or known[t].level != pair_level), None)
