"""The append-only audit trail: every entry carries the SHA-256 of the previous one."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from weakref import WeakKeyDictionary

from sqlalchemy import Engine, column, insert, inspect, null, select, text, update
from sqlalchemy.engine import Connection

from station.store.db import raw_sqlite, sqlite_time
from station.store.models import AuditEntry, Meta

GENESIS = "0" * 64
HEAD_KEY = "audit_head"
_audit = AuditEntry.__table__
_chains: WeakKeyDictionary[Engine, str] = WeakKeyDictionary()
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


def use_chain(engine: Engine, chain: str | None) -> None:
    """Write this engine's entries to `chain` (plant mode: one chain per station id).

    Many lines on one plant database would otherwise queue on one head row; each chain has its
    own head (`audit_head:<chain>`), and `verify` walks every chain.
    """
    if chain:
        _chains[engine] = chain[: 64 - len(HEAD_KEY) - 1]
    else:
        _chains.pop(engine, None)


def _head_key(chain: str | None) -> str:
    return f"{HEAD_KEY}:{chain}" if chain else HEAD_KEY


def _head(conn: Connection, chain: str | None = None) -> str:
    # Locking the head row (FOR UPDATE on PostgreSQL; SQLite already holds the write lock from
    # BEGIN IMMEDIATE) serialises writers so two processes never fork the chain.
    key = _head_key(chain)
    raw = raw_sqlite(conn)
    if raw is not None:
        row = raw.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        if row is not None:
            return row[0]
    stmt = select(_meta.c.value).where(_meta.c.key == key)
    if conn.dialect.name != "sqlite":
        stmt = stmt.with_for_update()
    value = conn.execute(stmt).scalar()
    if value is None:
        if conn.dialect.name == "sqlite":
            conn.execute(insert(_meta).values(key=key, value=GENESIS))
            return GENESIS
        # Two lines writing their first entry at once on a fresh plant database: one inserts
        # the head, the other's insert does nothing, and both then lock the same row.
        from sqlalchemy.dialects.postgresql import insert as pg_insert

        conn.execute(pg_insert(_meta).values(key=key, value=GENESIS).on_conflict_do_nothing())
        return conn.execute(stmt).scalar_one()
    return value


_SQLITE_INSERT = (
    'INSERT INTO audit (time, "user", action, subject, old, new, reason, batch_id, prev_hash, '
    "hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
)
_PG_COLS = (
    *("time", "user", "action", "subject", "old", "new", "reason", "batch_id", "prev_hash"),
    *("hash", "chain"),
)
_PG_TYPES = ("timestamp", *["text"] * 10)
_PG_INSERT = text(
    'INSERT INTO audit (time, "user", action, subject, old, new, reason, batch_id, prev_hash, '
    "hash, chain) SELECT * FROM unnest("
    + ", ".join(f"CAST(:{c} AS {t}[])" for c, t in zip(_PG_COLS, _PG_TYPES, strict=True))
    + ")"
)


def record(
    conn: Connection, user: str, changes: Iterable[Change], when: datetime | None = None
) -> int:
    """Append `changes` to the trail inside the caller's transaction; returns how many."""
    when = when or now()
    chain = _chains.get(conn.engine) if conn.dialect.name == "postgresql" else None
    prev = _head(conn, chain)
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
        raw = raw_sqlite(conn)
        if raw is not None:
            cur = raw.cursor()
            cur.executemany(_SQLITE_INSERT, [
                (sqlite_time(r["time"]), r["user"], r["action"], r["subject"], r["old"],
                 r["new"], r["reason"], r["batch_id"], r["prev_hash"], r["hash"])
                for r in rows
            ])  # fmt: skip
            cur.execute("UPDATE meta SET value = ? WHERE key = ?", (prev, _head_key(chain)))
            return len(rows)
        if conn.dialect.name == "postgresql":
            # One INSERT … SELECT unnest(arrays): psycopg's executemany sends one per entry.
            cols = {k: [r[k] for r in rows] for k in _PG_COLS if k != "chain"}
            conn.execute(_PG_INSERT, {**cols, "chain": [chain] * len(rows)})
        else:
            conn.execute(insert(_audit), rows)
        conn.execute(update(_meta).where(_meta.c.key == _head_key(chain)).values(value=prev))
    return len(rows)


@dataclass(frozen=True)
class ChainBreak:
    """The first entry whose stored hash does not follow from its fields and predecessor."""

    entry_id: int
    problem: str


def verify(conn: Connection, batch_size: int = 50000) -> tuple[int, ChainBreak | None]:
    """Walk every chain from the start; (entries checked, first break or None).

    Entries of one chain link by prev_hash; a gap in ids is a deletion only when the next entry
    does not link (PostgreSQL sequences skip ids on rollback, and chains interleave).
    """
    prevs: dict[str | None, str] = {}
    expected_id: int | None = None
    checked = 0
    last_id = 0
    chain_col = column("chain") if _has_chain(conn) else null().label("chain")
    while True:
        rows = conn.execute(
            select(_audit, chain_col)
            .where(_audit.c.id > last_id)
            .order_by(_audit.c.id)
            .limit(batch_size)
        ).all()
        if not rows:
            break
        for r in rows:
            prev = prevs.get(r.chain, GENESIS)
            if r.prev_hash != prev:
                if expected_id is not None and r.id != expected_id:
                    gap = f"entries {expected_id}…{r.id - 1} deleted"
                    return checked, ChainBreak(expected_id, gap)
                return checked, ChainBreak(r.id, "prev_hash does not match the previous entry")
            change = Change(r.action, r.subject, r.old, r.new, r.reason, r.batch_id)
            if entry_hash(prev, r.time, r.user, change) != r.hash:
                return checked, ChainBreak(r.id, "fields were edited after they were written")
            prevs[r.chain] = r.hash
            expected_id = r.id + 1
            checked += 1
            last_id = r.id
    heads = conn.execute(
        select(_meta.c.key, _meta.c.value).where(
            (_meta.c.key == HEAD_KEY) | _meta.c.key.like(HEAD_KEY + ":%")
        )
    ).all()
    for key, head in heads:
        chain = key[len(HEAD_KEY) + 1 :] or None
        if head != prevs.get(chain, GENESIS):
            return checked, ChainBreak(last_id + 1, "entries after the last one were deleted")
    return checked, None


def _has_chain(conn: Connection) -> bool:
    return any(c["name"] == "chain" for c in inspect(conn).get_columns("audit"))
