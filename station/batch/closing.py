"""Closing a batch: open containers closed as partial (零箱), unfinished codes given a fate."""

from __future__ import annotations

from sqlalchemy import Engine, select, update

from station.store import audit, batches, lifecycle
from station.store.batches import BatchState
from station.store.lifecycle import State
from station.store.models import Code

_codes = Code.__table__


def close_batch(
    engine: Engine,
    settings,
    batch_id: str,
    *,
    user: str,
    state: BatchState = BatchState.COMPLETED,
) -> dict:
    """Close `batch_id` in one transaction; returns what was done.

    Reserved codes may have left for a printer and never come back: they become void, never
    available again. Printed codes never verified become rejected (`not_verified`) for QA.
    Containers still open are closed with their count and marked partial.
    """
    with engine.begin() as conn:
        batches.ensure_open(conn, batch_id)
        reserved = (
            conn.execute(
                select(_codes.c.id).where(
                    _codes.c.batch_id == batch_id, _codes.c.state == State.RESERVED.value
                )
            )
            .scalars()
            .all()
        )
        lifecycle.move(
            conn, reserved, State.VOID, user=user, reason="batch_closed", batch_id=batch_id
        )
        printed = (
            conn.execute(
                select(_codes.c.id).where(
                    _codes.c.batch_id == batch_id, _codes.c.state == State.PRINTED.value
                )
            )
            .scalars()
            .all()
        )
        lifecycle.move(
            conn,
            printed,
            State.REJECTED,
            user=user,
            reason="not_verified",
            batch_id=batch_id,
            extra={"reason": "not_verified"},
        )
        open_rows = conn.execute(  # a held pallet (暂存) closes with the batch as well
            select(
                _codes.c.id,
                _codes.c.code,
                _codes.c.child_count,
                _codes.c.level,
                _codes.c.container_status,
            ).where(_codes.c.batch_id == batch_id, _codes.c.container_status.in_(("open", "held")))
        ).all()
        for r in open_rows:
            conn.execute(
                update(_codes).where(_codes.c.id == r.id).values(container_status="partial")
            )
        if open_rows:
            audit.record(
                conn,
                user,
                [
                    audit.Change(
                        "container.close",
                        r.code,
                        r.container_status,
                        "partial",
                        f"{r.child_count or 0} children",
                        batch_id,
                    )
                    for r in open_rows
                ],
            )
        batches.set_state(conn, batch_id, state, user=user)
    # The batch file set is sealed at close whatever the upstream (it is the immutable record);
    # only delivery depends on [upstream]. Never raises: the batch is closed either way.
    from station.upstream.outbox import queue_after_close

    sealed = queue_after_close(engine, settings, batch_id, user=user)
    return {
        "batch": batch_id,
        "state": state.value,
        "voided": len(reserved),
        "not_verified": len(printed),
        "partial_containers": len(open_rows),
        "released": 0,
        "outbox": sealed,
    }
