"""QA rework: replace, unpack, aggregate by hand and relabel, each in one transaction.

The plans come from aggregation/rework.py (the same rules as the line); this module looks the
codes up, applies the plan's operations (links rows add/delete, codes.parent_id, lifecycle moves,
container counts and status) and writes the audit entries.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import replace

from sqlalchemy import update
from sqlalchemy.engine import Connection

from aggregation import (
    CodeInfo,
    Hierarchy,
    Link,
    Op,
    RejectReason,
    ReworkRefused,
    SetFlags,
    SetState,
    Unlink,
    Violation,
    plan_aggregate,
    plan_replace,
    plan_unpack,
)
from station.codes.masking import mask
from station.errors import InputError, TransitionError
from station.qa.cascade import sealed_top
from station.qa.decisions import retire_pair
from station.qa.store import (
    CodeRow,
    after_close,
    children,
    decide_rejects,
    find,
    get,
    link,
    recount,
    shown,
    stored_reason,
    unlink,
)
from station.store import audit, lifecycle
from station.store.batches import CLOSED
from station.store.lifecycle import State
from station.store.models import Code

_codes = Code.__table__
PAIR_LEVEL = "inner"


class ReworkError(InputError):
    """A rework plan broke a rule; nothing changed. `violations`: (reason, code, detail)."""

    def __init__(self, text: str, violations: list[tuple[str, str, str]]) -> None:
        super().__init__(text)
        self.violations = violations


def hierarchy(settings) -> Hierarchy:
    """The line's packaging hierarchy from config."""
    return Hierarchy.from_settings(settings.levels)


def capacities(settings) -> dict[str, int]:
    """Children per container, by level."""
    return {lv.name: lv.capacity for lv in settings.levels}


class _Codes:
    """Rows read once per transaction, and the rules' view of them."""

    def __init__(self, conn: Connection, reveal: bool) -> None:
        self.conn = conn
        self.reveal = reveal
        self.rows: dict[str, CodeRow] = {}

    def row(self, code: str) -> CodeRow | None:
        if code not in self.rows:
            r = find(self.conn, code)
            if r is None:
                return None
            self.rows[code] = r
        return self.rows[code]

    def info(self, code: str) -> CodeInfo | None:
        r = self.row(code)
        if r is None:
            return None
        return CodeInfo(
            r.code,
            r.level,
            r.state,
            r.batch_id,
            r.product,
            r.parent,
            mixed=r.container_status == "mixed",
        )

    def children_of(self, code: str) -> list[str]:
        r = self.row(code)
        if r is None:
            return []
        kids = children(self.conn, r.id)
        for k in kids:
            self.rows[k.code] = k
        return [k.code for k in kids]

    def shown(self, code: str) -> str:
        r = self.rows.get(code)
        return shown(r, self.reveal) if r else code

    def refused(self, violations: Sequence[Violation]) -> ReworkError:
        """A ReworkError naming every violation, secret codes masked."""
        secrets = {c: self.shown(c) for c in self.rows if self.shown(c) != c}
        items = []
        for v in violations:
            detail = v.detail
            for full, masked in secrets.items():
                detail = detail.replace(full, masked)
            items.append((v.reason.value, self.shown(v.code), detail))
        text = "; ".join(f"{r} {c}: {d}" for r, c, d in items[:8])
        more = f" (+{len(items) - 8} more)" if len(items) > 8 else ""
        return ReworkError(f"refused, nothing changed: {text}{more}", items)

    def plan(self, make: Callable[[], list[Op]]) -> list[Op]:
        try:
            return make()
        except ReworkRefused as exc:
            raise self.refused(exc.violations) from None

    def missing_pairs(self, settings, codes: Sequence[str]) -> list[Violation]:
        """On a paired line an outer is packed only with its inner code (as on the line)."""
        if PAIR_LEVEL not in settings.level_names:
            return []
        out = []
        for c in codes:
            r = self.row(c)
            if r is not None and r.level == "outer" and r.pair_id is None:
                out.append(Violation(RejectReason.MISSING_PAIR, c, f"outer {c} has no inner code"))
        return out


def apply(conn: Connection, ops: Sequence[Op], codes: _Codes, *, user: str) -> tuple[set, dict]:
    """Apply plan operations in order; (container ids touched, forced container status)."""
    touched: set[int] = set()
    flags: dict[int, str] = {}
    moves: dict[tuple[str, str, str | None], list[int]] = defaultdict(list)
    rows = codes.rows
    for op in ops:
        if isinstance(op, Unlink):
            child = rows[op.child]
            touched.add(unlink(conn, child, user=user, reason="rework"))
            rows[op.child] = replace(child, parent_id=None, parent=None)
        elif isinstance(op, Link):
            parent, child = rows[op.parent], rows[op.child]
            link(conn, parent, child, user=user, reason="rework")
            touched.add(parent.id)
            rows[op.child] = replace(child, parent_id=parent.id, parent=parent.code)
        elif isinstance(op, SetState):
            row = rows[op.code]
            if row.state != op.state:
                moves[(op.state, op.reason, row.batch_id)].append(row.id)
                rows[op.code] = replace(row, state=op.state)
        elif isinstance(op, SetFlags):
            status = "mixed" if op.mixed else ("partial" if op.partial else "normal")
            flags[rows[op.code].id] = status
    for (state, why, batch), ids in moves.items():
        extra = {"reason": stored_reason(why)} if state == State.DECOMMISSIONED.value else None
        lifecycle.move(conn, ids, State(state), user=user, reason=why, batch_id=batch, extra=extra)
    return touched, flags


def replace_child(
    engine,
    settings,
    old: str,
    new: str,
    *,
    user: str,
    old_state: str = State.DECOMMISSIONED,
    reason: str = "replaced",
    reveal: bool = False,
) -> dict:
    """Swap a damaged item in a container for another verified one, with the line's rules."""
    if old_state not in (State.DECOMMISSIONED, State.VERIFIED):
        raise InputError("--old-state is decommissioned (damaged, retired) or verified (to stock)")
    with engine.begin() as conn:
        codes = _Codes(conn, reveal)
        ops = codes.plan(
            lambda: plan_replace(
                old,
                new,
                codes.info,
                hierarchy=hierarchy(settings),
                old_state=old_state,
                reason=reason,
            )
        )
        bad = codes.missing_pairs(settings, [new])
        if bad:
            raise codes.refused(bad)
        old_row, new_row = codes.rows[old], codes.rows[new]
        parent = codes.rows[old_row.parent or ""]
        touched, _ = apply(conn, ops, codes, user=user)
        also = []
        if old_state == State.DECOMMISSIONED:
            also = retire_pair(conn, old_row, user=user, reason=reason)
        decide_rejects(conn, old_row.id, old_state, user)
        recount(conn, touched, capacity=capacities(settings), user=user, reason=reason)
        changes = [
            audit.Change(
                "qa.replace",
                old_row.code,
                None,
                old_state,
                f"{reason}: by {new_row.code} in {parent.code}",
                old_row.batch_id,
            )
        ]
        if old_state == State.DECOMMISSIONED:
            changes.append(
                audit.Change(
                    "esign",
                    old_row.code,
                    None,
                    "replace",
                    f"signed by {user}: {reason}",
                    old_row.batch_id,
                )
            )
        audit.record(conn, user, changes)
        after_close(conn, [old_row, new_row, parent], f"replace {old_row.code}", user)
    return {
        "decision": "replace",
        "old": codes.shown(old),
        "new": codes.shown(new),
        "container": codes.shown(parent.code),
        "old_state": old_state,
        "also_retired": [mask(c, lv, reveal=reveal) for c, lv in also],
        "after_close": any(r.batch_state in CLOSED for r in (old_row, new_row, parent)),
        "user": user,
    }


def unpack(
    engine,
    settings,
    container: str,
    *,
    user: str,
    reuse: bool = False,
    reason: str = "unpacked",
    reveal: bool = False,
) -> dict:
    """Take every child out of a container (one level); retire the container code or reuse it.

    Reused: back to verified (out of its own parent if it had one), child_count 0, status open.
    Retired: decommissioned with reason `unpacked`.
    """
    with engine.begin() as conn:
        codes = _Codes(conn, reveal)
        row = get(conn, container)
        sealed_top(conn, row, reveal)  # a case on a closed pallet: undo the pallet first
        codes.rows[row.code] = row
        kids = codes.children_of(row.code)
        if not kids:
            raise InputError(f"{row.level} {shown(row, reveal)} holds no codes: nothing to unpack")
        if State(row.state) in lifecycle.FINAL:
            raise TransitionError(f"{row.level} {shown(row, reveal)} is {row.state}")
        ops = codes.plan(
            lambda: plan_unpack(
                row.code, codes.info, lambda _c: kids, retire=not reuse, reason=reason
            )
        )
        if reuse:
            if row.parent is not None:
                ops.append(Unlink(row.parent, row.code))
            if row.state == State.LINKED.value:
                ops.append(SetState(row.code, State.VERIFIED.value, reason))
        touched, _ = apply(conn, ops, codes, user=user)
        status = {row.id: "open" if reuse else row.container_status}
        recount(
            conn,
            touched | {row.id},
            capacity=capacities(settings),
            user=user,
            reason=f"{reason} {row.code}",
            status=status,
        )
        fate = "reused" if reuse else "retired"
        audit.record(
            conn,
            user,
            [audit.Change("qa.unpack", row.code, str(len(kids)), fate, reason, row.batch_id)],
        )
        after_close(conn, [row], f"unpack {row.code}", user)
    return {
        "decision": "unpack",
        "container": shown(row, reveal),
        "level": row.level,
        "children": [codes.shown(k) for k in kids],
        "container_fate": fate,
        "unlinked_from": row.parent,
        "after_close": row.batch_state in CLOSED,
        "user": user,
    }


def aggregate(
    engine,
    settings,
    parent: str,
    kids: Sequence[str],
    *,
    user: str,
    mixed: bool = False,
    partial: bool = False,
    reason: str = "aggregated by hand",
    reveal: bool = False,
    action: str = "qa.aggregate",
) -> dict:
    """Put children into a container by hand with the line's rules; 拼箱 mixed, 零箱 partial."""
    with engine.begin() as conn:
        codes = _Codes(conn, reveal)
        prow = get(conn, parent)
        codes.rows[prow.code] = prow
        for c in kids:
            r = codes.row(c)
            if r is not None and r.level == PAIR_LEVEL:
                raise codes.refused(
                    [
                        Violation(
                            RejectReason.WRONG_LEVEL,
                            c,
                            "inner codes pair with their outer on the line; "
                            "they are not aggregated",
                        )
                    ]
                )
        existing = codes.children_of(prow.code)
        ops = codes.plan(
            lambda: plan_aggregate(
                prow.code,
                list(kids),
                hierarchy=hierarchy(settings),
                lookup=codes.info,
                children_of=lambda _c: existing,
                mixed=mixed,
                partial=partial,
                reason=reason,
            )
        )
        bad = codes.missing_pairs(settings, kids)
        if bad:
            raise codes.refused(bad)
        if prow.state in (State.AVAILABLE.value, State.RESERVED.value, State.PRINTED.value):
            # A container holding items exists: the line must never hand its code out again.
            lifecycle.move(
                conn, [prow.id], State.VERIFIED, user=user, reason=reason, batch_id=prow.batch_id
            )
            prow = replace(prow, state=State.VERIFIED.value)
        if prow.batch_id is None:
            first = codes.rows[kids[0]]
            conn.execute(
                update(_codes).where(_codes.c.id == prow.id).values(batch_id=first.batch_id)
            )
            prow = replace(prow, batch_id=first.batch_id)
        codes.rows[prow.code] = prow
        touched, flags = apply(conn, ops, codes, user=user)
        status = flags.get(prow.id) or ("mixed" if prow.container_status == "mixed" else "normal")
        recount(
            conn,
            touched,
            capacity=capacities(settings),
            user=user,
            reason=reason,
            status={prow.id: status},
        )
        total = len(existing) + len(dict.fromkeys(kids))
        note = ", ".join(w for w, on in (("mixed", mixed), ("partial", partial)) if on)
        audit.record(
            conn,
            user,
            [
                audit.Change(
                    action,
                    prow.code,
                    str(len(existing)),
                    str(total),
                    f"{reason} {note}".strip(),
                    prow.batch_id,
                )
            ],
        )
        after_close(conn, [prow, *(codes.rows[k] for k in kids)], f"aggregate {prow.code}", user)
    return {
        "decision": "aggregate",
        "container": shown(prow, reveal),
        "level": prow.level,
        "added": [codes.shown(k) for k in dict.fromkeys(kids)],
        "count": total,
        "status": status,
        "user": user,
    }
