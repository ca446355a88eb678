"""What is due upstream, found in the store: closed pallets, corrections, closes, QA's verdicts.

`discover` never relies on a hook having run: it looks at the store and seals what is missing,
for each batch in chain order — corrections to what was told, closed pallets not yet sent, the
close, then QA's verdict (the release activates the codes, a rejection decommissions them). It
is idempotent and safe from several processes at once (the demo's or the service's background
sender and `station sync push`): each unit is sealed once (station.upstream.units).

A correction is due when QA changed something of a batch (an audit entry `qa.*` or `link.*`
carrying the batch) after the last unit's mark; the correction itself is the difference the
store shows, so a crash between the QA action and the unit loses nothing.
"""

from __future__ import annotations

import logging
import threading

from sqlalchemy import Engine, and_, exists, func, or_, select
from sqlalchemy.engine import Connection

from station.config import Settings
from station.errors import BatchStateError
from station.store import audit, batches
from station.store.db import read_engine
from station.store.models import AuditEntry, Batch, BatchRelease, Code, OutboxItem
from station.upstream import units
from station.upstream.delta import LIVE, SEALED
from station.upstream.units import SYSTEM_USER, Sealed

log = logging.getLogger(__name__)
_u = units._units
_marks = units._marks
_outbox = OutboxItem.__table__
_audit = AuditEntry.__table__
_batches = Batch.__table__
_releases = BatchRelease.__table__
_codes = Code.__table__
PALLET = "pallet"
REJECT_ACTION = "qa.batch_reject"
_failed: dict[str, str] = {}  # unit → error already audited by this process
_failed_lock = threading.Lock()


def _only(stmt, column, batch_ids):
    return stmt if batch_ids is None else stmt.where(column.in_(batch_ids))


def correcting(column):
    """The audit actions that may change what upstream was told."""
    return or_(column.like("qa.%"), column.like("link.%"))


def pending_corrections(conn: Connection, batch_ids: list[str] | None = None) -> dict[str, int]:
    """Batches with QA changes after their last unit's mark: batch → how many audit entries."""
    a, m = _audit.c, _marks.c
    verdict = select(_u.c.id).where(_u.c.batch_id == m.batch_id, _u.c.kind == "reject")
    stmt = (
        select(m.batch_id, func.count(a.id))
        .select_from(_marks.join(_audit, and_(a.batch_id == m.batch_id, a.id > m.audit_id)))
        .where(correcting(a.action), ~exists(verdict))
        .group_by(m.batch_id)
        .order_by(m.batch_id)
    )
    return dict(conn.execute(_only(stmt, m.batch_id, batch_ids)).all())


def _no_close():
    return select(_batches.c.id).where(~exists().where(_outbox.c.batch_id == _batches.c.id))


def closed_pallets(
    conn: Connection, settings: Settings, batch_ids: list[str] | None = None
) -> list[tuple[int, str]]:
    """(pallet id, batch) of closed pallets with no unit, of batches whose close is not queued."""
    if PALLET not in settings.level_names:
        return []
    c = _codes.c
    sent = select(_u.c.id).where(_u.c.kind == "pallet", _u.c.subject_id == c.id)
    stmt = (
        select(c.id, c.batch_id)
        .where(c.level == PALLET, c.state.in_(LIVE), c.container_status.in_(SEALED))
        .where(c.batch_id.in_(_no_close()), ~exists(sent))
        .order_by(c.id)
    )
    return [(r.id, r.batch_id) for r in conn.execute(_only(stmt, c.batch_id, batch_ids))]


def closes_due(conn: Connection, batch_ids: list[str] | None = None) -> list[str]:
    """Closed batches whose close is not in the outbox yet (a crash, a sealing that failed)."""
    b = _batches.c
    stmt = _no_close().where(b.closed_at.is_not(None)).order_by(b.closed_at)
    return list(conn.execute(_only(stmt, b.id, batch_ids)).scalars())


def verdicts_due(conn: Connection, batch_ids: list[str] | None = None) -> list[tuple]:
    """(batch, kind, reason) of QA verdicts recorded and not sent, for batches already closed
    upstream; when a batch has both, the first one recorded stands."""
    u = _u.c
    closed = select(u.batch_id).where(u.kind == "close")
    judged = select(u.batch_id).where(u.kind.in_(("release", "reject")))
    out: dict[str, tuple] = {}
    stmt = select(_releases).where(
        _releases.c.batch_id.in_(closed), _releases.c.batch_id.not_in(judged)
    )
    for r in conn.execute(_only(stmt, _releases.c.batch_id, batch_ids)):
        out[r.batch_id] = (r.released_at, "release", r.reason or f"released by {r.released_by}")
    stmt = select(_audit.c.batch_id, _audit.c.time, _audit.c.reason).where(
        _audit.c.action == REJECT_ACTION,
        _audit.c.batch_id.in_(closed),
        _audit.c.batch_id.not_in(judged),
    )
    for r in conn.execute(_only(stmt, _audit.c.batch_id, batch_ids)):
        if r.batch_id not in out or r.time < out[r.batch_id][0]:
            out[r.batch_id] = (r.time, "reject", r.reason or "rejected by QA")
    return [(b, kind, why) for b, (_, kind, why) in sorted(out.items(), key=lambda i: i[1][0])]


def _try(engine: Engine, batch_id: str, what: str, make) -> Sealed | None:
    """Seal one unit; a failure is logged and audited once, and tried again next time."""
    try:
        got = make()
    except Exception as exc:
        text = f"{type(exc).__name__}: {exc}"
        with _failed_lock:
            seen = _failed.get(what) == text
            _failed[what] = text
        if not seen:
            log.warning("upstream: %s of batch %s not sealed: %s", what, batch_id, text)
            try:
                with engine.begin() as conn:
                    audit.record(
                        conn,
                        SYSTEM_USER,
                        [
                            audit.Change(
                                "sync.queue_failed", what, None, None, text[:4000], batch_id
                            )
                        ],
                    )
            except Exception:
                log.exception("upstream: could not audit the failure")
        return None
    with _failed_lock:
        _failed.pop(what, None)
    return got


def discover(
    engine: Engine,
    settings: Settings,
    *,
    batch_ids: list[str] | None = None,
    user: str = SYSTEM_USER,
) -> list[Sealed]:
    """Seal every unit due (of `batch_ids`, or all); returns the units sealed now."""
    with read_engine(engine).connect() as conn:
        fixes = pending_corrections(conn, batch_ids)
        pallets = closed_pallets(conn, settings, batch_ids)
        closes = closes_due(conn, batch_ids)
        verdicts = verdicts_due(conn, batch_ids)
    out: list[Sealed | None] = []
    for b in fixes:
        out.append(
            _try(
                engine,
                b,
                f"{b} correction",
                lambda b=b: units.seal(engine, settings, b, "correction", user=user),
            )
        )
    for pid, b in pallets:
        out.append(
            _try(
                engine,
                b,
                f"{b} pallet {pid}",
                lambda b=b, p=pid: units.seal(
                    engine, settings, b, "pallet", pallet_id=p, user=user
                ),
            )
        )
    for b in closes:
        out.extend(
            _try(engine, b, b, lambda b=b: queue_close(engine, settings, b, user=user)) or []
        )
    for b, kind, why in verdicts:
        out.append(
            _try(
                engine,
                b,
                f"{b} {kind}",
                lambda b=b, k=kind, w=why: units.seal(engine, settings, b, k, reason=w, user=user),
            )
        )
    return [s for s in out if s is not None]


def queue_close(
    engine: Engine, settings: Settings, batch_id: str, *, user: str = SYSTEM_USER
) -> list[Sealed]:
    """The closed batch's pallets not yet sent, then its close: what no pallet carried."""
    b = batches.get(read_engine(engine), batch_id)
    if b.closed_at is None:
        raise BatchStateError(
            f"batch {batch_id} is {b.state}; its close goes upstream when it is closed "
            f"(`station batch close {batch_id}`); its closed pallets go before"
        )
    out = []
    with read_engine(engine).connect() as conn:
        pallets = closed_pallets(conn, settings, [batch_id])
    for pid, _ in pallets:
        out.append(units.seal(engine, settings, batch_id, "pallet", pallet_id=pid, user=user))
    with read_engine(engine).connect() as conn:
        done = units.unit_exists(conn, batch_id)
    if not done:
        out.append(units.seal(engine, settings, batch_id, "close", user=user))
    return [s for s in out if s is not None]


def after_pallet_close(engine: Engine, settings: Settings, pallet: str) -> Sealed | None:
    """Seal and queue one closed pallet's unit now (the runner may call this after a close);
    never raises: the periodic look finds anything this misses."""
    try:
        with read_engine(engine).connect() as conn:
            row = conn.execute(
                select(_codes.c.id, _codes.c.batch_id).where(_codes.c.code == pallet)
            ).first()
            due = row is not None and any(
                pid == row.id for pid, _ in closed_pallets(conn, settings, [row.batch_id])
            )
        if not due:
            return None
        return units.seal(engine, settings, row.batch_id, "pallet", pallet_id=row.id)
    except Exception:
        log.exception("upstream: pallet %s not sealed now; the next look tries again", pallet)
        return None
