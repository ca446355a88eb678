"""One case-top camera frame (N codes + the case label) → a case, or a reject with reasons."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from aggregation.levels import Hierarchy
from aggregation.reasons import RejectReason, Violation
from aggregation.rules import DEAD_STATES, PARENT_STATES, HasPair, Lookup
from aggregation.states import CodeState

R = RejectReason


@dataclass(frozen=True, slots=True)
class LayerResult:
    """ok → pack `children` into `case_code`; else reject the case with `violations`."""

    ok: bool
    case_code: str | None
    children: tuple[str, ...]
    violations: tuple[Violation, ...]


def check_layer(
    codes: Sequence[str],
    label_code: str | None,
    *,
    expected: int,
    case_level: str,
    batch_id: str | None,
    product: str | None,
    lookup: Lookup,
    allow_partial: bool = False,
    hierarchy: Hierarchy | None = None,
    has_pair: HasPair | None = None,
    preprinted: bool = False,
) -> LayerResult:
    """Check every rule for one frame; each broken rule is one Violation naming its code.

    The count is of codes read, duplicates included (two items with one code are two items).
    allow_partial accepts fewer than expected (last case of a batch, 零箱), never more. With a
    hierarchy, each child's level must be the one directly below case_level. With has_pair, an
    outer code without its inner code (paired lines) is MISSING_PAIR. With preprinted, the
    container's code arrived printed: it must be in an imported pack (NOT_IN_PACK) and unused.
    More codes than expected is TOO_MANY (超码), fewer TOO_FEW (缺码).
    """
    out: list[Violation] = []
    v = out.append
    label = label_code or None
    child_level: str | None = None
    if hierarchy is not None:
        below = hierarchy.child_of(case_level)
        child_level = below.name if below is not None else None

    # The case label.
    if label is None:
        v(Violation(R.MISSING_LABEL, "", "no case label read"))
    else:
        info = lookup(label)
        if info is None:
            if preprinted:
                v(Violation(R.NOT_IN_PACK, label, f"{case_level} code {label} is in no pack"))
            else:
                v(Violation(R.UNKNOWN_CODE, label, "case label code unknown"))
        elif preprinted and info.level == case_level and info.state != CodeState.AVAILABLE:
            reason = DEAD_STATES.get(info.state) or (
                R.WRONG_BATCH
                if info.batch_id not in (None, batch_id)
                else R.DUPLICATE  # used already: on another container
            )
            v(Violation(reason, label, f"{case_level} code {label} is {info.state}"))
        else:
            if info.level != case_level:
                v(Violation(R.WRONG_LEVEL, label, f"label {label} is a {info.level} code"))
            dead = DEAD_STATES.get(info.state)
            if dead is not None:
                v(Violation(dead, label, f"label {label} is {info.state}"))
            elif info.state not in PARENT_STATES and not preprinted:
                v(Violation(R.NOT_VERIFIED, label, f"label {label} has state {info.state!r}"))
            elif info.parent is not None:
                v(Violation(R.ALREADY_LINKED, label, f"case {label} is already in {info.parent}"))
            if info.batch_id is not None and batch_id is not None and info.batch_id != batch_id:
                v(Violation(R.WRONG_BATCH, label, f"label {label} is batch {info.batch_id}"))
            if info.product is not None and product is not None and info.product != product:
                v(Violation(R.FOREIGN_ITEM, label, f"label {label} is product {info.product}"))

    # The count.
    n = len(codes)
    if n > expected:
        v(Violation(R.TOO_MANY, label or "", f"{n} codes read, {expected} expected"))
    elif n < expected and not (allow_partial and n > 0):
        v(Violation(R.TOO_FEW, label or "", f"{n} codes read, {expected} expected"))

    # Each code.
    seen: set[str] = set()
    unique: list[str] = []
    for code in codes:
        if code in seen:
            v(Violation(R.DUPLICATE, code, f"{code} read twice in one case"))
            continue
        seen.add(code)
        unique.append(code)
        if code == label:
            v(Violation(R.CYCLE, code, "the case label is also read as an item"))
            continue
        info = lookup(code)
        if info is None:
            v(Violation(R.UNKNOWN_CODE, code, "code unknown"))
            continue
        if child_level is not None and info.level != child_level:
            v(Violation(R.WRONG_LEVEL, code, f"{code} is a {info.level}, not a {child_level}"))
        if product is not None and info.product != product:
            what = f"product {info.product}" if info.product else "in no batch (no product)"
            v(Violation(R.FOREIGN_ITEM, code, f"{code} is {what}, not {product}"))
        elif batch_id is not None and info.batch_id != batch_id:
            what = f"batch {info.batch_id}" if info.batch_id else "in no batch"
            v(Violation(R.WRONG_BATCH, code, f"{code} is {what}, not {batch_id}"))
        if has_pair is not None and info.level == "outer" and not has_pair(code):
            v(Violation(R.MISSING_PAIR, code, f"outer {code} has no inner code"))
        dead = DEAD_STATES.get(info.state)
        if dead is not None:
            v(Violation(dead, code, f"{code} is {info.state}"))
        elif info.parent is not None or info.state == CodeState.LINKED:
            if label is not None and info.parent == label:
                v(Violation(R.DUPLICATE, code, f"{code} is already in this case {label}"))
            else:
                where = info.parent or "another container"
                v(Violation(R.ALREADY_LINKED, code, f"{code} is already in {where}"))
        elif info.state != CodeState.VERIFIED:
            v(Violation(R.NOT_VERIFIED, code, f"{code} is {info.state}, not verified"))

    return LayerResult(not out, label, tuple(unique), tuple(out))
