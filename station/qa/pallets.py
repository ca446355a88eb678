"""Pallet operations (issue 16): close now, hold and resume, clear, merge; one transaction each.

- close (强制满垛): the open (or a held) pallet closes as it is, partial when short;
- hold (暂存): the open pallet is parked (status `held`): the line starts a new one, and a restart
  does not reopen it (only `open` pallets are);
- resume (提取未成垛): a held pallet, named by its own code or by ANY case on it, becomes the
  open one again; a pallet open in the same batch is held in its place (the lead swaps pallets
  at the palletizer in one step, and nothing is closed that they did not mean to close);
- clear (清空垛): every case comes off an open or held pallet (unlinked, back to verified, so
  the palletizer can stack them again); the pallet code is retired (decommissioned, status
  `retired`), never issued again;
- merge (合垛): B's cases move onto A (both open, held or partial, same batch) if they fit A's
  capacity, else nothing changes; B's code is retired. A that is now full is closed (`normal`).

Each runs in the caller's transaction with qa.store's building blocks (links rows, audit per
unlink and link, recount), and writes one `pallet.<op>` audit entry; clear and merge, which take
cases apart, also an e-signature entry. (qa.rework.unpack is not reused as a whole: it keeps a
retired container's status, and an `open` retired pallet would be reopened by the next run.)
The runner calls these in its own thread after writing its queued changes
(station/line/pallets.py); without a run, station/qa/pallet_line.py calls them on the store.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

from sqlalchemy import func, select, update
from sqlalchemy.engine import Connection

from station.errors import InputError, TransitionError
from station.qa.store import (
    CodeRow,
    after_close,
    children,
    find_id,
    get,
    link,
    recount,
    stored_reason,
    unlink,
)
from station.store import audit, lifecycle
from station.store.batches import CLOSED
from station.store.lifecycle import State
from station.store.models import Batch, Code, Shipment, ShipmentCode

PALLET, CASE = "pallet", "case"
OPEN, HELD, PARTIAL, NORMAL, RETIRED = "open", "held", "partial", "normal", "retired"
MERGEABLE = (OPEN, HELD, PARTIAL)
SIGNED = frozenset({"clear", "merge"})
"""Operations that take cases apart: a role allowed `pallet.rework` and an e-signature."""
_codes = Code.__table__
_batches = Batch.__table__


@dataclass(frozen=True)
class PalletView:
    """A pallet as the screens and `station pallet list` show it."""

    code: str
    batch_id: str | None
    status: str | None
    cases: int
    capacity: int
    lot: str | None

    def to_json(self) -> dict:
        """Plain data."""
        return asdict(self)


def capacity(settings) -> int:
    """Cases per pallet."""
    return int(settings.level(PALLET).capacity)


def pallet_of(conn: Connection, code: str) -> CodeRow:
    """The pallet `code` names: its own code, or any case on it (提取: scan a case)."""
    row = get(conn, code.strip())
    if row.level == PALLET:
        return row
    if row.level == CASE:
        parent = find_id(conn, row.parent_id) if row.parent_id is not None else None
        if parent is not None and parent.level == PALLET:
            return parent
        raise InputError(
            f"case {row.code} is on no pallet ({row.state}): scan a case that is on the pallet, "
            "or the pallet's own label"
        )
    raise InputError(
        f"{row.level} codes are neither pallets nor cases: scan a case on the pallet, or the "
        "pallet's own label"
    )


def listing(
    conn: Connection,
    settings,
    *,
    batch_id: str | None = None,
    statuses: tuple[str, ...] = (OPEN, HELD),
) -> list[PalletView]:
    """Pallets in `statuses` (of one batch, or of every batch still open), oldest first."""
    stmt = (
        select(
            _codes.c.code, _codes.c.batch_id, _codes.c.container_status, _codes.c.id, _batches.c.lot
        )
        .select_from(_codes.outerjoin(_batches, _batches.c.id == _codes.c.batch_id))
        .where(_codes.c.level == PALLET, _codes.c.container_status.in_(statuses))
        .order_by(_codes.c.id)
    )
    if batch_id is not None:
        stmt = stmt.where(_codes.c.batch_id == batch_id)
    else:
        stmt = stmt.where(_batches.c.state.not_in([str(s) for s in CLOSED]))
    rows = conn.execute(stmt).all()
    counts = _counts(conn, [r.id for r in rows])
    cap = capacity(settings)
    return [
        PalletView(r.code, r.batch_id, r.container_status, counts.get(r.id, 0), cap, r.lot)
        for r in rows
    ]


def _counts(conn: Connection, ids: list[int]) -> dict[int, int]:
    if not ids:
        return {}
    return dict(
        conn.execute(  # type: ignore[arg-type]
            select(_codes.c.parent_id, func.count())
            .where(_codes.c.parent_id.in_(ids))
            .group_by(_codes.c.parent_id)
        ).all()
    )


def the_open(conn: Connection, settings, batch_id: str | None = None) -> CodeRow:
    """The open pallet (of `batch_id`); InputError when none is, or several batches have one."""
    rows = listing(conn, settings, batch_id=batch_id, statuses=(OPEN,))
    where = f" in batch {batch_id}" if batch_id else ""
    if not rows:
        raise InputError(
            f"no pallet is open{where}: nothing to do (`station pallet list` shows open and held "
            "pallets)"
        )
    if len(rows) > 1:
        names = ", ".join(f"{r.code} (batch {r.batch_id})" for r in rows)
        raise InputError(f"several pallets are open: {names}; name the batch with --batch")
    return get(conn, rows[0].code)


def _need(row: CodeRow, allowed: tuple[str, ...], op: str) -> None:
    if row.level != PALLET:
        raise InputError(f"{row.level} {row.code} is not a pallet")
    if row.container_status in allowed and State(row.state) not in lifecycle.FINAL:
        return
    status = row.container_status or row.state
    hint = ""
    if row.container_status in (NORMAL, PARTIAL, "mixed"):
        hint = " (a closed pallet: `station qa unpack` takes it apart)"
    raise InputError(
        f"pallet {row.code} is {status}: {op} needs a pallet that is {' or '.join(allowed)}{hint}"
    )


def _not_shipped(conn: Connection, ids: list[int]) -> None:
    sc, sh = ShipmentCode.__table__, Shipment.__table__
    joined = sc.join(sh, sh.c.id == sc.c.shipment_id).join(_codes, _codes.c.id == sc.c.code_id)
    hit = conn.execute(
        select(sh.c.order_no, _codes.c.code)
        .select_from(joined)
        .where(sc.c.code_id.in_(ids))
        .limit(1)
    ).first()
    if hit is not None:
        raise InputError(f"{hit.code} is on shipment order {hit.order_no}: take it off first")


def _set_status(
    conn: Connection, row: CodeRow, status: str, n: int, *, user: str, action: str, reason: str
) -> None:
    """Move a pallet's container status (checked: nobody moved it meanwhile), audited."""
    done = conn.execute(
        update(_codes)
        .where(_codes.c.id == row.id, _codes.c.container_status == row.container_status)
        .values(container_status=status, child_count=n, updated_at=audit.now())
    ).rowcount
    if done != 1:
        raise TransitionError(f"pallet {row.code} changed underneath us; look again and retry")
    audit.record(
        conn,
        user,
        [
            audit.Change(
                action,
                row.code,
                row.container_status,
                status,
                f"{reason} ({n} cases)",
                row.batch_id,
            )
        ],
    )


def hold(conn: Connection, settings, row: CodeRow, *, user: str, reason: str = "held") -> dict:
    """Park the open pallet (暂存): status held; the line opens a new one for the next case."""
    _need(row, (OPEN,), "hold")
    n = len(children(conn, row.id))
    if n == 0:
        raise InputError(f"pallet {row.code} holds no case: there is nothing to park")
    _set_status(conn, row, HELD, n, user=user, action="pallet.hold", reason=reason)
    return {"op": "hold", "pallet": row.code, "batch": row.batch_id, "cases": n, "status": HELD}


def resume(
    conn: Connection, settings, row: CodeRow, *, user: str, batch_id: str | None = None
) -> dict:
    """Reopen a held pallet (提取未成垛); the batch's open pallet, if any, is held in its place."""
    out = {"op": "resume", "pallet": row.code, "batch": row.batch_id, "held": None}
    if row.container_status == OPEN:
        return {**out, "cases": len(children(conn, row.id)), "status": OPEN, "changed": False}
    _need(row, (HELD,), "resume")
    if batch_id is not None and row.batch_id != batch_id:
        raise InputError(
            f"pallet {row.code} belongs to batch {row.batch_id}, the line runs {batch_id}: lots do "
            f"not mix on a pallet; resume it when batch {row.batch_id} runs"
        )
    n = len(children(conn, row.id))
    if n >= capacity(settings):
        raise InputError(f"pallet {row.code} is full ({n} cases): close it instead")
    for other in listing(conn, settings, batch_id=row.batch_id, statuses=(OPEN,)):
        hold(conn, settings, get(conn, other.code), user=user, reason=f"swapped for {row.code}")
        out["held"] = other.code
    _set_status(conn, row, OPEN, n, user=user, action="pallet.resume", reason="resumed")
    return {**out, "cases": n, "status": OPEN, "changed": True}


def close(
    conn: Connection, settings, row: CodeRow, *, user: str, reason: str = "closed by hand"
) -> dict:
    """Close the open (or a held) pallet now (强制满垛): partial when short of its capacity."""
    _need(row, (OPEN, HELD), "close")
    n = len(children(conn, row.id))
    if n == 0:
        raise InputError(f"pallet {row.code} holds no case: there is nothing to close")
    status = PARTIAL if n < capacity(settings) else NORMAL
    _set_status(conn, row, status, n, user=user, action="pallet.close", reason=reason)
    return {
        "op": "close",
        "pallet": row.code,
        "batch": row.batch_id,
        "cases": n,
        "status": status,
        "was": row.container_status,
    }


def _esign(row: CodeRow, op: str, user: str, reason: str) -> audit.Change:
    return audit.Change("esign", row.code, None, op, f"signed by {user}: {reason}", row.batch_id)


def clear(conn: Connection, settings, row: CodeRow, *, user: str, reason: str = "cleared") -> dict:
    """Take every case off an open or held pallet (清空垛) and retire the pallet's code."""
    _need(row, (OPEN, HELD), "clear")
    kids = children(conn, row.id)
    _not_shipped(conn, [row.id, *(k.id for k in kids)])
    for k in kids:  # one links row (delete) and one audit entry each
        unlink(conn, k, user=user, reason=reason)
    linked = [k.id for k in kids if k.state == State.LINKED.value]
    lifecycle.move(conn, linked, State.VERIFIED, user=user, reason=reason, batch_id=row.batch_id)
    lifecycle.move(
        conn,
        [row.id],
        State.DECOMMISSIONED,
        user=user,
        reason=reason,
        batch_id=row.batch_id,
        extra={"reason": stored_reason("pallet_cleared")},
    )
    recount(
        conn,
        [row.id],
        capacity={PALLET: capacity(settings)},
        user=user,
        reason=f"{reason} {row.code}",
        status={row.id: RETIRED},
    )
    audit.record(
        conn,
        user,
        [
            audit.Change("pallet.clear", row.code, str(len(kids)), RETIRED, reason, row.batch_id),
            _esign(row, "clear", user, reason),
        ],
    )
    after_close(conn, [row], f"clear {row.code}", user)
    return {
        "op": "clear",
        "pallet": row.code,
        "batch": row.batch_id,
        "was": row.container_status,
        "cases": [k.code for k in kids],
        "status": RETIRED,
    }


def merge(
    conn: Connection, settings, a: CodeRow, b: CodeRow, *, user: str, reason: str = "merged"
) -> dict:
    """合垛: B's cases onto A within A's capacity (else nothing changes); B's code retired."""
    if a.id == b.id:
        raise InputError(f"pallet {a.code} given twice: name two pallets (A B)")
    _need(a, MERGEABLE, "merge")
    _need(b, MERGEABLE, "merge")
    if a.batch_id != b.batch_id:
        raise InputError(
            f"pallet {a.code} is of batch {a.batch_id}, {b.code} of batch {b.batch_id}: lots do "
            "not mix on a pallet; nothing changed"
        )
    ka, kb = children(conn, a.id), children(conn, b.id)
    if not kb:
        raise InputError(f"pallet {b.code} holds no case: there is nothing to move")
    cap, total = capacity(settings), len(ka) + len(kb)
    if total > cap:
        raise InputError(
            f"refused, nothing changed: pallet {a.code} holds {len(ka)} cases and {b.code} "
            f"{len(kb)}: {total} is more than a pallet's {cap}"
        )
    _not_shipped(conn, [a.id, b.id, *(k.id for k in kb)])
    why = f"{reason}: from {b.code} onto {a.code}"
    for k in kb:
        unlink(conn, k, user=user, reason=why)
        link(conn, a, k, user=user, reason=why)
    status = NORMAL if total >= cap else str(a.container_status)
    lifecycle.move(
        conn,
        [b.id],
        State.DECOMMISSIONED,
        user=user,
        reason=why,
        batch_id=b.batch_id,
        extra={"reason": stored_reason("pallet_merged")},
    )
    recount(
        conn,
        [a.id, b.id],
        capacity={PALLET: cap},
        user=user,
        reason=why,
        status={a.id: status, b.id: RETIRED},
    )
    audit.record(
        conn,
        user,
        [
            audit.Change("pallet.merge", a.code, str(len(ka)), str(total), why, a.batch_id),
            _esign(a, "merge", user, why),
        ],
    )
    after_close(conn, [a, b], f"merge {b.code} into {a.code}", user)
    return {
        "op": "merge",
        "into": a.code,
        "from": b.code,
        "batch": a.batch_id,
        "moved": [k.code for k in kb],
        "cases": total,
        "status": status,
        "was": {a.code: a.container_status, b.code: b.container_status},
        "label": status in (NORMAL, PARTIAL),
    }
