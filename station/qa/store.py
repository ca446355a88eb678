"""QA's view of the store: code rows with parent and product, links and container counts.

The building blocks every QA decision and rework step uses inside its one transaction: links rows
(add/delete) with codes.parent_id, container child_count and status, reject records closed with
a decision, and rework on closed batches flagged in the audit.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, insert, select, update
from sqlalchemy.engine import Connection

from station.codes.masking import mask
from station.errors import NotFound, TransitionError
from station.store import audit
from station.store.batches import CLOSED
from station.store.models import Batch, Code, Link, Reject

_codes = Code.__table__
_links = Link.__table__
_rejects = Reject.__table__
_batches = Batch.__table__
REASON_COLUMN = 32  # codes.reason is String(32); the audit keeps the full text


@dataclass(frozen=True, slots=True)
class CodeRow:
    """One code as QA sees it, with its parent's code and its batch's product."""

    id: int
    code: str
    level: str
    state: str
    batch_id: str | None
    parent_id: int | None
    parent: str | None
    pair_id: int | None
    reason: str | None
    child_count: int | None
    container_status: str | None
    product: str | None
    batch_state: str | None
    grade: str | None
    seq: int | None
    updated_at: datetime | None


def _select():
    p = _codes.alias("p")
    return select(
        _codes.c.id,
        _codes.c.code,
        _codes.c.level,
        _codes.c.state,
        _codes.c.batch_id,
        _codes.c.parent_id,
        p.c.code.label("parent"),
        _codes.c.pair_id,
        _codes.c.reason,
        _codes.c.child_count,
        _codes.c.container_status,
        _batches.c.product_sku.label("product"),
        _batches.c.state.label("batch_state"),
        _codes.c.grade,
        _codes.c.seq,
        _codes.c.updated_at,
    ).select_from(
        _codes.outerjoin(p, p.c.id == _codes.c.parent_id).outerjoin(
            _batches, _batches.c.id == _codes.c.batch_id
        )
    )


def find(conn: Connection, code: str) -> CodeRow | None:
    """The code `code`, or None."""
    r = conn.execute(_select().where(_codes.c.code == code)).first()
    return CodeRow(*r) if r else None


def find_id(conn: Connection, code_id: int) -> CodeRow | None:
    """The code with id `code_id`, or None."""
    r = conn.execute(_select().where(_codes.c.id == code_id)).first()
    return CodeRow(*r) if r else None


def get(conn: Connection, code: str) -> CodeRow:
    """The code `code`; NotFound saying so otherwise."""
    row = find(conn, code)
    if row is None:
        raise NotFound(f"code {code} is not known to this station (scan it again or check it)")
    return row


def children(conn: Connection, parent_id: int) -> list[CodeRow]:
    """Codes currently inside container `parent_id`."""
    rows = conn.execute(_select().where(_codes.c.parent_id == parent_id).order_by(_codes.c.id))
    return [CodeRow(*r) for r in rows]


def shown(row: CodeRow | None, reveal: bool) -> str:
    """A code as it may be shown: inner (prize) codes masked unless `reveal`."""
    return mask(row.code, row.level, reveal=reveal) if row else ""


def after_close(conn: Connection, rows: Iterable[CodeRow], what: str, user: str) -> None:
    """Flag rework on codes of closed batches in the audit, once per batch."""
    batches = sorted({r.batch_id for r in rows if r.batch_id and r.batch_state in CLOSED})
    if batches:
        audit.record(
            conn,
            user,
            [audit.Change("qa.after_close", b, None, None, what, b) for b in batches],
        )


def unlink(conn: Connection, child: CodeRow, *, user: str, reason: str) -> int:
    """Take `child` out of its parent (links row action=delete, audit entry); the parent's id."""
    assert child.parent_id is not None
    r = conn.execute(
        update(_codes)
        .where(_codes.c.id == child.id, _codes.c.parent_id == child.parent_id)
        .values(parent_id=None, updated_at=audit.now())
    )
    if r.rowcount != 1:
        raise TransitionError(f"code {child.code}: its container changed underneath us; retry")
    _link_row(conn, child.parent_id, child.id, "delete", child.batch_id, user)
    audit.record(
        conn,
        user,
        [
            audit.Change(
                "link.delete",
                child.code,
                None,
                None,
                f"from {child.parent}: {reason}",
                child.batch_id,
            )
        ],
    )
    return child.parent_id


def link(conn: Connection, parent: CodeRow, child: CodeRow, *, user: str, reason: str) -> None:
    """Put `child` into `parent` (links row action=add, audit entry)."""
    r = conn.execute(
        update(_codes)
        .where(_codes.c.id == child.id, _codes.c.parent_id.is_(None))
        .values(parent_id=parent.id, updated_at=audit.now())
    )
    if r.rowcount != 1:
        raise TransitionError(f"code {child.code} is already in a container; retry")
    _link_row(conn, parent.id, child.id, "add", child.batch_id or parent.batch_id, user)
    audit.record(
        conn,
        user,
        [
            audit.Change(
                "link.add", child.code, None, None, f"into {parent.code}: {reason}", child.batch_id
            )
        ],
    )


def _link_row(conn, parent_id: int, child_id: int, action: str, batch, user: str) -> None:
    conn.execute(
        insert(_links).values(
            parent_id=parent_id,
            child_id=child_id,
            action=action,
            batch_id=batch,
            time=audit.now(),
            user=user,
        )
    )


def recount(
    conn: Connection,
    parent_ids: Iterable[int],
    *,
    capacity: dict[str, int],
    user: str,
    reason: str,
    status: dict[int, str] | None = None,
) -> None:
    """Set child_count from the children each container really holds; a short one is partial.

    `status` forces a container's status (manual aggregation, reuse); otherwise a `normal`
    container left short becomes `partial` (零箱) and a `partial` one filled becomes `normal`.
    """
    status = status or {}
    changes = []
    for pid in sorted(set(parent_ids)):
        row = find_id(conn, pid)
        if row is None:
            continue
        n = conn.execute(
            select(func.count()).select_from(_codes).where(_codes.c.parent_id == pid)
        ).scalar_one()
        new = status.get(pid, row.container_status)
        cap = capacity.get(row.level)
        if pid not in status and cap is not None:
            if new == "normal" and n < cap:
                new = "partial"
            elif new == "partial" and n >= cap:
                new = "normal"
        if n == (row.child_count or 0) and new == row.container_status:
            continue
        conn.execute(
            update(_codes).where(_codes.c.id == pid).values(child_count=n, container_status=new)
        )
        changes.append(
            audit.Change(
                f"container.{new or 'none'}",
                row.code,
                str(row.child_count or 0),
                str(n),
                reason,
                row.batch_id,
            )
        )
    if changes:
        audit.record(conn, user, changes)


def decide_rejects(conn: Connection, code_id: int, decision: str, user: str) -> int:
    """Close the undecided reject records of a code with `decision`; how many."""
    return conn.execute(
        update(_rejects)
        .where(_rejects.c.code_id == code_id, _rejects.c.decision.is_(None))
        .values(decision=decision, decided_by=user, decided_at=audit.now())
    ).rowcount


def stored_reason(text: str) -> str:
    """The reason as codes.reason holds it (String(32)); the audit keeps the full text."""
    return text[:REASON_COLUMN]
