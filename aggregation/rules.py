"""The linking rules: may this child go into this parent? Pure, a few dict look-ups per call.

A code's state follows DESIGN.md: available → reserved → printed → verified → linked, with
rejected, decommissioned and void on the side. Here `linked` means "has a parent": a case that
holds items but sits on no pallet yet is still `verified`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from aggregation.levels import Hierarchy
from aggregation.reasons import RejectReason, Violation
from aggregation.states import CodeState

S = CodeState
STATES: tuple[CodeState, ...] = tuple(CodeState)
# Dead codes: never linked as child or parent.
DEAD_STATES: dict[str, RejectReason] = {
    S.REJECTED: RejectReason.REJECTED_CODE,
    S.VOID: RejectReason.VOID_CODE,
    S.DECOMMISSIONED: RejectReason.DECOMMISSIONED,
}
# A container label may be linked right after printing, before anyone has verified it; `linked`
# means the container already sits in its own parent (a case on a pallet), which rework needs.
PARENT_STATES = frozenset({S.AVAILABLE, S.RESERVED, S.PRINTED, S.VERIFIED, S.LINKED})
CHILD_STATES = frozenset({S.VERIFIED})


@dataclass(frozen=True, slots=True)
class CodeInfo:
    """What the rules need to know about one code; parent is the code of its container."""

    code: str
    level: str
    state: str
    batch_id: str | None
    product: str | None
    parent: str | None = None
    mixed: bool = False


Lookup = Callable[[str], CodeInfo | None]
HasPair = Callable[[str], bool]


def check_link(
    parent: CodeInfo,
    child: CodeInfo,
    *,
    hierarchy: Hierarchy,
    lookup: Lookup,
    children_count: int,
    allow_mixed: bool = True,
    has_pair: HasPair | None = None,
) -> list[Violation]:
    """Every rule a new link parent ← child breaks; empty when the link may be made.

    children_count is how many children the parent holds before this link. allow_mixed=False
    refuses mixed (拼箱) containers altogether. A container with batch_id/product None has not been
    assigned to a batch yet and takes the child's. On a paired line, has_pair(outer) tells
    whether the outer code has its inner code; an unpaired outer is not packed.
    """
    out: list[Violation] = []
    v = out.append
    p, c = parent.code, child.code

    if p == c:
        v(Violation(RejectReason.CYCLE, c, "a code cannot contain itself"))
        return out

    # Levels: the parent is exactly one level above the child.
    if child.level not in hierarchy or parent.level not in hierarchy:
        unknown = child if child.level not in hierarchy else parent
        v(Violation(RejectReason.WRONG_LEVEL, unknown.code, f"level {unknown.level!r} not used"))
        level_ok = False
    else:
        above = hierarchy.parent_of(child.level)
        level_ok = above is not None and above.name == parent.level
        if not level_ok:
            want = above.name if above else "nothing (top level)"
            v(
                Violation(
                    RejectReason.WRONG_LEVEL,
                    c,
                    f"a {child.level} goes into a {want}, not into {parent.level} {p}",
                )
            )

    # States.
    dead = DEAD_STATES.get(parent.state)
    if dead is not None:
        v(Violation(dead, p, f"container {p} is {parent.state}"))
    elif parent.state not in PARENT_STATES:
        v(Violation(RejectReason.NOT_VERIFIED, p, f"container {p} has state {parent.state!r}"))
    dead = DEAD_STATES.get(child.state)
    if dead is not None:
        v(Violation(dead, c, f"{c} is {child.state}"))
    elif child.parent is not None or child.state == S.LINKED:
        if child.parent == p:
            v(Violation(RejectReason.DUPLICATE, c, f"{c} is already in {p}"))
        else:
            where = child.parent or "another container"
            v(Violation(RejectReason.ALREADY_LINKED, c, f"{c} is already in {where}"))
    elif child.state not in CHILD_STATES:
        v(Violation(RejectReason.NOT_VERIFIED, c, f"{c} is {child.state}, not verified"))

    if (
        has_pair is not None
        and child.level == "outer"
        and hierarchy.pair_levels is not None
        and not has_pair(c)
    ):
        v(Violation(RejectReason.MISSING_PAIR, c, f"outer {c} has no inner code"))

    # Capacity.
    if level_ok:
        cap = hierarchy.capacity(parent.level)
        if children_count >= cap:
            v(Violation(RejectReason.CAPACITY, p, f"{p} already holds {children_count}/{cap}"))

    # Same batch and product, unless the container is mixed (拼箱).
    if parent.mixed:
        if not allow_mixed:
            v(Violation(RejectReason.MIXED_NOT_ALLOWED, p, "mixed containers are not allowed"))
    elif child.mixed:
        v(
            Violation(
                RejectReason.MIXED_NOT_ALLOWED,
                c,
                f"mixed {child.level} {c} can only go into a mixed {parent.level}",
            )
        )
    else:
        if parent.product is not None and child.product != parent.product:
            v(
                Violation(
                    RejectReason.FOREIGN_ITEM,
                    c,
                    f"{c} is "
                    + (f"product {child.product}" if child.product else "in no batch (no product)")
                    + f", {p} holds {parent.product}",
                )
            )
        if parent.batch_id is not None and child.batch_id != parent.batch_id:
            v(
                Violation(
                    RejectReason.WRONG_BATCH,
                    c,
                    f"{c} is "
                    + (f"batch {child.batch_id}" if child.batch_id else "in no batch")
                    + f", {p} holds batch {parent.batch_id}",
                )
            )

    # Cycles: the child must not be an ancestor of the parent. Levels already forbid this, but
    # the data may be corrupt, so walk up (bounded) anyway.
    ancestor = parent.parent
    seen = {p}
    for _ in range(len(hierarchy.levels) + 1):
        if ancestor is None:
            break
        if ancestor == c:
            v(Violation(RejectReason.CYCLE, c, f"{c} already contains {p}"))
            break
        if ancestor in seen:
            v(Violation(RejectReason.CYCLE, ancestor, f"{ancestor} is inside itself"))
            break
        seen.add(ancestor)
        info = lookup(ancestor)
        ancestor = info.parent if info is not None else None
    return out


def check_link_codes(
    parent_code: str,
    child_code: str,
    *,
    hierarchy: Hierarchy,
    lookup: Lookup,
    children_count: int,
    allow_mixed: bool = True,
    has_pair: HasPair | None = None,
) -> list[Violation]:
    """check_link by code: unknown codes become UNKNOWN_CODE violations."""
    parent, child = lookup(parent_code), lookup(child_code)
    out = []
    if parent is None:
        out.append(Violation(RejectReason.UNKNOWN_CODE, parent_code, "container code unknown"))
    if child is None:
        out.append(Violation(RejectReason.UNKNOWN_CODE, child_code, "code unknown"))
    if out:
        return out
    assert parent is not None and child is not None
    return check_link(
        parent,
        child,
        hierarchy=hierarchy,
        lookup=lookup,
        children_count=children_count,
        allow_mixed=allow_mixed,
        has_pair=has_pair,
    )
