"""The append-only audit trail: every entry carries the SHA-256 of the previous one."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import insert, select, update
from sqlalchemy.engine import Connection

from station.models import AuditEntry, Meta

GENESIS = "0" * 64
HEAD_KEY = "audit_head"
_audit = AuditEntry.__table__
_meta = Meta.__table__


def now() -> datetime:
    """The station's clock: naive UTC (stored as such in both SQLite and PostgreSQL)."""
    return datetime.now(UTC).replace(tzinfo=None)


@dataclass(frozen=True, slots=True)
class Change:
    """One audited change before it is chained."""

    action: str
    subject: str
    old: str | None = None
    new: str | None = None
    reason: str | None = None
    batch_id: str | None = None


def entry_hash(prev: str, time: datetime, user: str, c: Change) -> str:
    """SHA-256 over the previous hash and the entry's fields, unit-separated."""
    body = "\x1f".join(
        (
            prev,
            time.isoformat(timespec="microseconds"),
            user,
            c.action,
            c.subject,
            c.old or "",
            c.new or "",
            c.reason or "",
            c.batch_id or "",
        )
    )
    return hashlib.sha256(body.encode("utf-8")).hexdigest()


def _head(conn: Connection) -> str:
    # Locking the head row (FOR UPDATE on PostgreSQL; SQLite already holds the write lock from
    # BEGIN IMMEDIATE) serialises writers so two processes never fork the chain.
    stmt = select(_meta.c.value).where(_meta.c.key == HEAD_KEY)
    if conn.dialect.name != "sqlite":
        stmt = stmt.with_for_update()
    value = conn.execute(stmt).scalar()
    if value is None:
        if conn.dialect.name == "sqlite":
            conn.execute(insert(_meta).values(key=HEAD_KEY, value=GENESIS))
            return GENESIS
        # Two lines writing their first entry at once on a fresh plant database: one inserts
        # the head, the other's insert does nothing, and both then lock the same row.
        from sqlalchemy.dialects.postgresql import insert as pg_insert

        conn.execute(pg_insert(_meta).values(key=HEAD_KEY, value=GENESIS).on_conflict_do_nothing())
        return conn.execute(stmt).scalar_one()
    return value


def record(
    conn: Connection, user: str, changes: Iterable[Change], when: datetime | None = None
) -> int:
    """Append `changes` to the trail inside the caller's transaction; returns how many."""
    when = when or now()
    prev = _head(conn)
    rows = []
    for c in changes:
        h = entry_hash(prev, when, user, c)
        rows.append(
            {
                "time": when,
                "user": user,
                "action": c.action,
                "subject": c.subject,
                "old": c.old,
                "new": c.new,
                "reason": c.reason,
                "batch_id": c.batch_id,
                "prev_hash": prev,
                "hash": h,
            }
        )
        prev = h
    if rows:
        conn.execute(insert(_audit), rows)
        conn.execute(update(_meta).where(_meta.c.key == HEAD_KEY).values(value=prev))
    return len(rows)


@dataclass(frozen=True)
class ChainBreak:
    """The first entry whose stored hash does not follow from its fields and predecessor."""

    entry_id: int
    problem: str


def verify(conn: Connection, batch_size: int = 50000) -> tuple[int, ChainBreak | None]:
    """Walk the chain from the start; (entries checked, first break or None)."""
    prev = GENESIS
    expected_id: int | None = None
    checked = 0
    last_id = 0
    while True:
        rows = conn.execute(
            select(_audit).where(_audit.c.id > last_id).order_by(_audit.c.id).limit(batch_size)
        ).all()
        if not rows:
            break
        for r in rows:
            if expected_id is not None and r.id != expected_id:
                return checked, ChainBreak(expected_id, f"entries {expected_id}…{r.id - 1} deleted")
            if r.prev_hash != prev:
                return checked, ChainBreak(r.id, "prev_hash does not match the previous entry")
            change = Change(r.action, r.subject, r.old, r.new, r.reason, r.batch_id)
            if entry_hash(prev, r.time, r.user, change) != r.hash:
                return checked, ChainBreak(r.id, "fields were edited after they were written")
            prev = r.hash
            expected_id = r.id + 1
            checked += 1
            last_id = r.id
    head = conn.execute(select(_meta.c.value).where(_meta.c.key == HEAD_KEY)).scalar()
    if head is not None and head != prev:
        return checked, ChainBreak(last_id + 1, "entries after the last one were deleted")
    return checked, None
