"""Rework top-down: unpack a container and everything under it, with a preview first.

`preview` counts what an unpack would take apart, per level, and changes nothing.
`unpack_tree` unlinks the whole tree in ONE transaction (each unlink and state move audited):
the items go back to verified, the containers are retired (decommissioned, `unpacked`) or, with
`reuse`, kept verified, empty and open. A container inside a sealed (closed) parent is not
taken apart from below: the refusal names the top-most sealed container to undo first.
"""

from __future__ import annotations

from sqlalchemy.engine import Connection

from station.codes.masking import mask
from station.errors import InputError, TransitionError
from station.qa.store import (
    CodeRow,
    after_close,
    children,
    find_id,
    get,
    recount,
    shown,
    stored_reason,
    unlink,
)
from station.store import audit, lifecycle
from station.store.batches import CLOSED
from station.store.lifecycle import State

SEALED = frozenset({"normal", "partial", "mixed"})
"""Container statuses of a closed (sealed) container; `open` is still being filled."""
PLURAL = {
    "inner": "inner codes",
    "outer": "items",
    "box": "boxes",
    "case": "cases",
    "pallet": "pallets",
}


class SealedParent(InputError):
    """A container sits in a sealed parent: undo from the top. `top` names the one to undo."""

    def __init__(self, text: str, top: str) -> None:
        super().__init__(text)
        self.top = top


def sealed_top(conn: Connection, row: CodeRow, reveal: bool = False) -> None:
    """Refuse to take children out of `row` while its parent is sealed; name where to start."""
    if row.parent_id is None:
        return
    parent = find_id(conn, row.parent_id)
    if parent is None or parent.container_status not in SEALED:
        return
    top = parent
    while top.parent_id is not None:
        up = find_id(conn, top.parent_id)
        if up is None or up.container_status not in SEALED:
            break
        top = up
    name = shown(top, reveal)
    raise SealedParent(
        f"{row.level} {shown(row, reveal)} is inside {parent.level} {shown(parent, reveal)}, "
        f"which is sealed: undo from the top first (`station qa unpack {name} --cascade`, "
        f"--preview to see what that takes apart)",
        name,
    )


def _tree(conn: Connection, top: CodeRow) -> list[tuple[CodeRow, list[CodeRow]]]:
    """Every container under `top` (itself first, breadth first) with its children."""
    out = []
    todo = [top]
    while todo:
        row = todo.pop(0)
        kids = children(conn, row.id)
        out.append((row, kids))
        todo.extend(k for k in kids if k.container_status is not None or k.child_count)
    return out


def _counts(tree: list[tuple[CodeRow, list[CodeRow]]]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for _row, kids in tree:
        for k in kids:
            counts[k.level] = counts.get(k.level, 0) + 1
    return counts


def summary(level: str, code: str, counts: dict[str, int]) -> str:
    """'pallet P: 70 cases, 280 boxes, 1,680 items' (levels top-down)."""
    parts = [f"{n:,} {PLURAL.get(lv, lv)}" for lv, n in counts.items()]
    return f"{level} {code}: {', '.join(parts) or 'empty'}"


def preview(conn: Connection, code: str, *, reveal: bool = False) -> dict:
    """What `unpack_tree` would take apart, per level; changes nothing."""
    row = get(conn, code)
    sealed_top(conn, row, reveal)
    tree = _tree(conn, row)
    counts = _counts(tree)
    return {
        "decision": "unpack",
        "preview": True,
        "container": shown(row, reveal),
        "level": row.level,
        "counts": counts,
        "containers": sum(1 for _r, kids in tree if kids),
        "text": summary(row.level, shown(row, reveal), counts),
        "changed": False,
    }


def unpack_tree(
    engine,
    settings,
    code: str,
    *,
    user: str,
    reuse: bool = False,
    reason: str = "unpacked",
    reveal: bool = False,
) -> dict:
    """Unlink a container and everything under it in one transaction (top-down rework)."""
    capacity = {lv.name: lv.capacity for lv in settings.levels}
    with engine.begin() as conn:
        top = get(conn, code)
        if State(top.state) in lifecycle.FINAL:
            raise TransitionError(f"{top.level} {shown(top, reveal)} is {top.state}")
        sealed_top(conn, top, reveal)
        tree = _tree(conn, top)
        counts = _counts(tree)
        if not counts:
            raise InputError(f"{top.level} {shown(top, reveal)} holds no codes: nothing to unpack")
        containers = [row for row, _kids in tree]
        boxes = {row.id for row in containers}
        touched: set[int] = set()
        items: dict[str | None, list[int]] = {}
        for _row, kids in tree:  # top-down: every unlink is one links row and one audit entry
            for k in kids:
                touched.add(unlink(conn, k, user=user, reason=reason))
                if k.id not in boxes:
                    items.setdefault(k.batch_id, []).append(k.id)
        if top.parent_id is not None:  # an unsealed (open) parent: the top leaves it too
            touched.add(unlink(conn, top, user=user, reason=reason))
        for batch, ids in items.items():
            lifecycle.move(conn, ids, State.VERIFIED, user=user, reason=reason, batch_id=batch)
        by_batch: dict[str | None, list[CodeRow]] = {}
        for row in containers:
            by_batch.setdefault(row.batch_id, []).append(row)
        for batch, rows in by_batch.items():
            if reuse:
                ids = [r.id for r in rows if r.state == State.LINKED.value]
                lifecycle.move(conn, ids, State.VERIFIED, user=user, reason=reason, batch_id=batch)
            else:
                lifecycle.move(
                    conn,
                    [r.id for r in rows],
                    State.DECOMMISSIONED,
                    user=user,
                    reason=reason,
                    batch_id=batch,
                    extra={"reason": stored_reason(reason)},
                )
        status = {r.id: "open" if reuse else r.container_status for r in containers}
        recount(
            conn,
            touched | boxes,
            capacity=capacity,
            user=user,
            reason=f"{reason} {top.code}",
            status={k: v for k, v in status.items() if v},
        )
        fate = "reused" if reuse else "retired"
        text = summary(top.level, top.code, counts)
        audit.record(
            conn,
            user,
            [
                audit.Change(
                    "qa.unpack", top.code, "tree", fate, f"{reason}: {text}", top.batch_id
                ),
                audit.Change(
                    "esign", top.code, None, "unpack", f"signed by {user}: {reason}", top.batch_id
                ),
            ],
        )
        every = [top, *(k for _r, kids in tree for k in kids)]
        after_close(conn, every, f"unpack {top.code} (tree)", user)
    return {
        "decision": "unpack",
        "preview": False,
        "container": shown(top, reveal),
        "level": top.level,
        "counts": counts,
        "containers": len(containers),
        "container_fate": fate,
        "text": summary(top.level, mask(top.code, top.level, reveal=reveal), counts),
        "after_close": any(r.batch_state in CLOSED for r in every),
        "changed": True,
        "user": user,
    }
