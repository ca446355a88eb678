"""QA's release of a closed batch for shipping (放行): only released batches' codes ship."""

from __future__ import annotations

from sqlalchemy import Engine, func, insert, select
from sqlalchemy.engine import Connection

from station.errors import BatchStateError, InputError
from station.store import audit, batches
from station.store.batches import BatchState
from station.store.models import BatchRelease, Code

_rel = BatchRelease.__table__
_codes = Code.__table__


def release_batch(engine: Engine, batch_id: str, *, user: str, reason: str = "") -> dict:
    """Record QA's release of completed batch `batch_id` (idempotent); codes in QA hold counted."""
    if len(reason) > 500:
        raise InputError("--reason is at most 500 characters")
    with engine.begin() as conn:
        b = batches.get(conn, batch_id)
        if b.state != BatchState.COMPLETED:
            raise BatchStateError(
                f"batch {batch_id} is {b.state}; only a completed batch is released for shipping "
                f"(`station batch close {batch_id}` first)"
            )
        held = conn.execute(
            select(func.count()).where(_codes.c.batch_id == batch_id, _codes.c.state == "rejected")
        ).scalar_one()
        old = released(conn, batch_id)
        if old is None:
            at = audit.now()
            conn.execute(
                insert(_rel).values(
                    batch_id=batch_id, released_at=at, released_by=user, reason=reason or None
                )
            )
            why = (reason or "released") + (f"; {held} code(s) still in QA hold" if held else "")
            audit.record(
                conn,
                user,
                [
                    audit.Change("qa.batch_release", batch_id, b.state, "released", why, batch_id),
                    audit.Change(
                        "esign", batch_id, None, "batch_release", f"signed by {user}", batch_id
                    ),
                ],
                at,
            )
            old = released(conn, batch_id)
    return {
        "batch_id": batch_id,
        "released_at": old.released_at.isoformat(timespec="seconds") + "Z",
        "released_by": old.released_by,
        "codes_in_qa_hold": held,
    }


def released(conn: Connection, batch_id: str):
    """The release row of `batch_id`, or None."""
    return conn.execute(select(_rel).where(_rel.c.batch_id == batch_id)).first()
