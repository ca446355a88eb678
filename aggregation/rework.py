"""Rework planning for QA: unpack, replace, aggregate by hand. Pure: returns operations only.

The station applies a plan's operations in order in one transaction (one row change plus one
audit entry each). A plan that would break a rule raises ReworkRefused carrying the violations,
so nothing is half-applied. Child states follow the rule "linked ⇔ has a parent".
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace

from aggregation.errors import ReworkRefused
from aggregation.levels import Hierarchy
from aggregation.reasons import RejectReason, Violation
from aggregation.rules import Lookup, check_link
from aggregation.states import CodeState

R = RejectReason
ChildrenOf = Callable[[str], Iterable[str]]


@dataclass(frozen=True, slots=True)
class Link:
    """Link parent ← child."""

    parent: str
    child: str


@dataclass(frozen=True, slots=True)
class Unlink:
    """Remove the link parent ← child."""

    parent: str
    child: str


@dataclass(frozen=True, slots=True)
class SetState:
    """Move a code to a state; reason is stored with the audit entry."""

    code: str
    state: str
    reason: str = ""


@dataclass(frozen=True, slots=True)
class SetFlags:
    """Mark a container mixed (拼箱) and/or partial (零箱)."""

    code: str
    mixed: bool
    partial: bool


Op = Link | Unlink | SetState | SetFlags


def plan_unpack(
    container: str,
    lookup: Lookup,
    children_of: ChildrenOf,
    *,
    retire: bool = False,
    reason: str = "unpacked",
) -> list[Op]:
    """Take every child out of a container (one level only: cases on a pallet stay packed).

    The children go back to verified. retire=True also takes the container out of its own parent
    and decommissions its code; otherwise the container code stays, empty, ready for reuse.
    """
    info = lookup(container)
    if info is None:
        raise ReworkRefused([Violation(R.UNKNOWN_CODE, container, "container code unknown")])
    ops: list[Op] = []
    bad: list[Violation] = []
    for child in children_of(container):
        kid = lookup(child)
        if kid is None:
            bad.append(Violation(R.UNKNOWN_CODE, child, f"listed in {container} but unknown"))
        elif kid.parent != container:
            bad.append(Violation(R.ALREADY_LINKED, child, f"{child} points to {kid.parent}"))
        else:
            ops.append(Unlink(container, child))
            ops.append(SetState(child, CodeState.VERIFIED, reason))
    if bad:
        raise ReworkRefused(bad)
    if retire:
        if info.parent is not None:
            ops.append(Unlink(info.parent, container))
        ops.append(SetState(container, CodeState.DECOMMISSIONED, reason))
    return ops


def plan_replace(
    old_child: str,
    new_child: str,
    lookup: Lookup,
    *,
    hierarchy: Hierarchy,
    old_state: str = CodeState.DECOMMISSIONED,
    reason: str = "replaced",
    allow_mixed: bool = True,
) -> list[Op]:
    """Swap one child of a container for another, checked with the same rules as any link.

    The old child is unlinked and moved to old_state (decommissioned: damaged and destroyed;
    verified: back to stock); the new one is linked to the same parent.
    """
    old, new = lookup(old_child), lookup(new_child)
    bad: list[Violation] = []
    if old is None:
        bad.append(Violation(R.UNKNOWN_CODE, old_child, "code unknown"))
    elif old.parent is None:
        bad.append(Violation(R.WRONG_LEVEL, old_child, f"{old_child} is in no container"))
    if new is None:
        bad.append(Violation(R.UNKNOWN_CODE, new_child, "code unknown"))
    if old_child == new_child:
        bad.append(Violation(R.DUPLICATE, new_child, "old and new code are the same"))
    if bad:
        raise ReworkRefused(bad)
    assert old is not None and new is not None and old.parent is not None
    parent = lookup(old.parent)
    if parent is None:
        raise ReworkRefused([Violation(R.UNKNOWN_CODE, old.parent, "container code unknown")])
    # One out, one in: the count does not grow, so capacity cannot be exceeded.
    bad = check_link(
        parent,
        new,
        hierarchy=hierarchy,
        lookup=lookup,
        children_count=0,
        allow_mixed=allow_mixed,
    )
    if bad:
        raise ReworkRefused(bad)
    return [
        Unlink(parent.code, old_child),
        SetState(old_child, old_state, reason),
        Link(parent.code, new_child),
        SetState(new_child, CodeState.LINKED, reason),
    ]


def plan_aggregate(
    parent: str,
    children: Sequence[str],
    *,
    hierarchy: Hierarchy,
    lookup: Lookup,
    children_of: ChildrenOf | None = None,
    mixed: bool = False,
    partial: bool = False,
    allow_mixed: bool = True,
    reason: str = "aggregated by hand",
) -> list[Op]:
    """Put children into a container by hand; mixed = 拼箱, partial = 零箱 (fewer than capacity).

    Children already in the container (children_of) count towards its capacity. Without
    partial the container must end up exactly full.
    """
    info = lookup(parent)
    if info is None:
        raise ReworkRefused([Violation(R.UNKNOWN_CODE, parent, "container code unknown")])
    if mixed:
        info = replace(info, mixed=True)
    existing = len(list(children_of(parent))) if children_of is not None else 0
    bad: list[Violation] = []
    if not children:
        bad.append(Violation(R.COUNT_MISMATCH, parent, "no children given"))
    seen: set[str] = set()
    infos = []
    for code in children:
        if code in seen:
            bad.append(Violation(R.DUPLICATE, code, f"{code} listed twice"))
            continue
        seen.add(code)
        kid = lookup(code)
        if kid is None:
            bad.append(Violation(R.UNKNOWN_CODE, code, "code unknown"))
            continue
        infos.append(kid)
        bad.extend(
            check_link(
                info,
                kid,
                hierarchy=hierarchy,
                lookup=lookup,
                children_count=0,  # capacity is checked once for the whole set below
                allow_mixed=allow_mixed,
            )
        )
    short = False  # ends up with fewer children than its capacity (零箱)
    if info.level in hierarchy:
        cap = hierarchy.capacity(info.level)
        total = existing + len(seen)
        short = total < cap
        if total > cap:
            bad.append(Violation(R.CAPACITY, parent, f"{total} children > capacity {cap}"))
        elif total < cap and not partial:
            bad.append(
                Violation(R.COUNT_MISMATCH, parent, f"{total}/{cap}: mark it partial (零箱)")
            )
    if (
        not info.mixed
        and info.batch_id is None
        and len({(k.batch_id, k.product) for k in infos}) > 1
    ):
        bad.append(
            Violation(R.WRONG_BATCH, parent, "children from several batches: mark it mixed (拼箱)")
        )
    if bad:
        raise ReworkRefused(list(dict.fromkeys(bad)))
    ops: list[Op] = []
    if mixed or (partial and short):
        ops.append(SetFlags(parent, info.mixed, partial and short))
    for code in dict.fromkeys(children):
        ops.append(Link(parent, code))
        ops.append(SetState(code, CodeState.LINKED, reason))
    return ops
