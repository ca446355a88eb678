"""A batch's units as IT and QA see them, and what they may do by hand (each e-signed).

`units_status` lists every unit with its delivery state (a pallet's unit shows its pallet), what
holds it back (an earlier unit of its chain not yet acknowledged) and upstream's last answer;
`pending` the batches whose corrections wait to be sealed. By hand: `resend` a unit (even one
acknowledged: the key makes it harmless upstream), `mark_delivered` one that reached upstream
by other means (a USB stick, the platform's web form: the rest of its chain may then go), and
`reject_batch`, QA's verdict that decommissions a closed batch's codes upstream.
"""

from __future__ import annotations

import json
from pathlib import Path

from sqlalchemy import Engine, select, update

from station.errors import BatchStateError, InputError, NotFound
from station.store import audit, batches
from station.store.db import read_engine
from station.store.models import AuditEntry, BatchRelease, Code
from station.upstream import outbox
from station.upstream.chain import REJECT_ACTION, pending_corrections
from station.upstream.units import _outbox, _units, has_unit, when

_codes = Code.__table__
_releases = BatchRelease.__table__
MAX_REASON = 500


def _reason(reason: str, what: str) -> str:
    reason = reason.strip()
    if not reason:
        raise InputError(f"{what} needs --reason: say why (it goes in the audit trail)")
    if len(reason) > MAX_REASON:
        raise InputError(f"--reason is at most {MAX_REASON} characters")
    return reason


def _counts(path: str) -> dict:
    try:
        manifest = json.loads((Path(path) / "manifest.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return {k: v for k, v in (manifest.get("counts") or {}).items() if v}


def units_status(
    engine: Engine, batch_ids: list[str] | None = None, *, kinds: tuple[str, ...] | None = None
) -> list[dict]:
    """Every unit (of batch_ids, of kinds) in chain order, JSON-ready."""
    u, o, c = _units.c, _outbox.c, _codes.c
    stmt = (
        select(
            u.batch_id,
            u.key,
            u.kind,
            u.seq,
            c.code.label("pallet"),
            o.state,
            o.attempts,
            o.last_error,
            o.answer,
            o.path,
            o.created_at,
            o.updated_at,
        )
        .select_from(
            _units.join(_outbox, o.batch_id == u.key).outerjoin(_codes, c.id == u.subject_id)
        )
        .order_by(u.batch_id, u.seq)
    )
    if batch_ids is not None:
        stmt = stmt.where(u.batch_id.in_(batch_ids))
    if kinds is not None:
        stmt = stmt.where(u.kind.in_(kinds))
    with read_engine(engine).connect() as conn:
        rows = conn.execute(stmt).all()
    behind = outbox.blocked(engine)
    return [
        {
            "batch": r.batch_id,
            "unit": r.key,
            "kind": r.kind,
            "seq": r.seq,
            "pallet": r.pallet,
            "state": r.state,
            "attempts": r.attempts,
            "last_error": r.last_error,
            "answer": r.answer,
            "waiting_behind": behind.get(r.key),
            "counts": _counts(r.path),
            "queued_at": when(r.created_at),
            "updated_at": when(r.updated_at),
        }
        for r in rows
    ]


def pending(engine: Engine, batch_ids: list[str] | None = None) -> dict[str, int]:
    """Batches with QA changes not yet sealed in a correction: batch → audit entries since."""
    with read_engine(engine).connect() as conn:
        return pending_corrections(conn, batch_ids)


def _entry(conn, key: str):
    row = conn.execute(select(_outbox).where(_outbox.c.batch_id == key)).first()
    if row is None:
        raise NotFound(f"{key} is not in the outbox; `station sync status --pallets` lists units")
    return row


def _sign(conn, user: str, key: str, chain: str | None, action: str, old, new, why: str, at):
    audit.record(
        conn,
        user,
        [
            audit.Change(action, key, old, new, why, chain),
            audit.Change("esign", key, None, action, f"signed by {user}: {why}", chain),
        ],
        at,
    )


def resend(engine: Engine, key: str, *, user: str, reason: str) -> str:
    """Send unit `key` again with the next push (whatever its state); returns its old state."""
    why = _reason(reason, "a resend")
    at = audit.now()
    with engine.begin() as conn:
        row = _entry(conn, key)
        if row.state == "sending":
            raise InputError(f"{key} is being sent right now; look again in a moment")
        conn.execute(
            update(_outbox)
            .where(_outbox.c.id == row.id)
            .values(state="pending", next_attempt_at=at, updated_at=at)
        )
        _sign(conn, user, key, row.chain or key, "sync.resend", row.state, "pending", why, at)
    outbox.wake_senders()
    return row.state


def mark_delivered(engine: Engine, key: str, *, user: str, reason: str) -> str:
    """Record that unit `key` reached upstream by other means; returns its old state."""
    why = _reason(reason, "marking a unit delivered")
    at = audit.now()
    with engine.begin() as conn:
        row = _entry(conn, key)
        if row.state == "acknowledged":
            raise InputError(f"{key} was acknowledged upstream already ({row.answer})")
        if row.state == "sending":
            raise InputError(f"{key} is being sent right now; look again in a moment")
        answer = f"delivered by other means: {why} (signed by {user})"
        conn.execute(
            update(_outbox)
            .where(_outbox.c.id == row.id)
            .values(state="acknowledged", answer=answer, updated_at=at)
        )
        _sign(
            conn,
            user,
            key,
            row.chain or key,
            "sync.delivered_by_hand",
            row.state,
            "acknowledged",
            why,
            at,
        )
    outbox.wake_senders()
    return row.state


def reject_batch(engine: Engine, batch_id: str, *, user: str, reason: str) -> dict:
    """QA rejects closed batch `batch_id`: its codes go upstream decommissioned (once)."""
    why = _reason(reason, "a batch rejection")
    at = audit.now()
    with engine.begin() as conn:
        b = batches.get(conn, batch_id)
        if b.closed_at is None:
            raise BatchStateError(
                f"batch {batch_id} is {b.state}; QA rejects a closed batch "
                f"(`station batch close {batch_id}` first)"
            )
        if conn.execute(select(_releases).where(_releases.c.batch_id == batch_id)).first():
            raise BatchStateError(
                f"batch {batch_id} was released for shipping; a released batch is recalled, "
                "not rejected"
            )
        if has_unit(conn, batch_id, "reject") or _rejected(conn, batch_id):
            raise InputError(f"batch {batch_id} is rejected already")
        audit.record(
            conn,
            user,
            [
                audit.Change(REJECT_ACTION, batch_id, b.state, "rejected", why, batch_id),
                audit.Change(
                    "esign", batch_id, None, "batch_reject", f"signed by {user}: {why}", batch_id
                ),
            ],
            at,
        )
    return {"batch_id": batch_id, "rejected_by": user, "reason": why, "at": when(at)}


def _rejected(conn, batch_id: str) -> bool:
    a = AuditEntry.__table__
    stmt = select(a.c.id).where(a.c.batch_id == batch_id, a.c.action == REJECT_ACTION).limit(1)
    return conn.execute(stmt).first() is not None
