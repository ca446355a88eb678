"""A batch's units in the outbox: each sealed once, queued in order, with what it told recorded.

Keys (the outbox's and upstream's idempotency key): `B#P1`, `B#P2`… a closed pallet each, `B` the
close (what no pallet carried, with the batch's summary), `B#C1`… corrections, `B#R` QA's
release, `B#X` QA's rejection. A unit is computed (station.upstream.delta) in one read snapshot,
written to `<data_dir>/outbox/<batch>.units/<key>.<nonce>/` and then, in ONE transaction, its
`upstream_units` row, its outbox row (chain = the batch: sent strictly after the units before
it) and the `upstream_told` rows it leaves behind. The unit's number in the chain is read in the
snapshot and unique per batch, so two processes sealing at once cannot both win, nor seal a
unit from a stale picture: the loser throws its folder away. A pallet is sealed once (unique per
pallet), also across a crash: a folder without its row is never sent and is cleared later.
"""

from __future__ import annotations

import logging
import os
import shutil
import threading
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from sqlalchemy import Engine, delete, exists, func, insert, select, update
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError

from station.config import Settings
from station.store import audit, batches
from station.store.db import raw_sqlite, read_engine
from station.store.models import AuditEntry, OutboxItem, UpstreamMark, UpstreamTold, UpstreamUnit
from station.upstream import delta
from station.upstream.batchdata import capacities, info_of
from station.upstream.fileset import ExportFailed, export_formats, outbox_dir
from station.upstream.wake import wake_senders
from sync.durable import fsync_dir
from sync.model import CodeRecord, ExportError, safe_name
from sync.unitfiles import write_unit_files
from sync.units import UnitData, UnitInfo

log = logging.getLogger(__name__)
_units = UpstreamUnit.__table__
_told = UpstreamTold.__table__
_marks = UpstreamMark.__table__
_outbox = OutboxItem.__table__
_audit = AuditEntry.__table__
SYSTEM_USER = "sync"
SUFFIX = {"pallet": "P", "correction": "C", "release": "R", "reject": "X"}
CHUNK = 500


@dataclass(frozen=True)
class Sealed:
    """A unit sealed and queued now: its key, kind, outbox row id and folder."""

    key: str
    kind: str
    outbox_id: int
    path: Path


def unit_key(batch_id: str, kind: str, n: int = 1) -> str:
    """The unit's key: the batch id for the close, `B#P3` for its third pallet, …"""
    if kind == "close":
        return batch_id
    return f"{batch_id}#{SUFFIX[kind]}" + ("" if kind in ("release", "reject") else str(n))


def units_dir(settings: Settings, batch_id: str) -> Path:
    """Where a batch's unit folders live."""
    return outbox_dir(settings) / f"{safe_name(batch_id)}.units"


def head(conn: Connection, batch_id: str) -> tuple[int, str | None]:
    """(seq, key) of the batch's last unit; (0, None) before the first."""
    row = conn.execute(
        select(_units.c.seq, _units.c.key)
        .where(_units.c.batch_id == batch_id)
        .order_by(_units.c.seq.desc())
        .limit(1)
    ).first()
    return (row.seq, row.key) if row else (0, None)


def has_unit(conn: Connection, batch_id: str, *kinds: str) -> bool:
    """Whether the batch has a unit of one of `kinds`."""
    stmt = select(_units.c.id).where(_units.c.batch_id == batch_id, _units.c.kind.in_(kinds))
    return conn.execute(stmt.limit(1)).first() is not None


def _info(conn, settings: Settings, batch_id: str, kind: str, seq: int, prev, at, **kw) -> UnitInfo:
    b = batches.get(conn, batch_id)
    info = info_of(b, settings, b.closed_at or at)
    key = unit_key(batch_id, kind, kw.pop("n", 1))
    released = has_unit(conn, batch_id, "release")
    return UnitInfo(key, kind, seq, info, at, released, previous=prev, **kw)


def _told_live(conn: Connection, batch_id: str) -> list[delta.Now]:
    t, c = _told.c, delta._codes.c
    stmt = (
        select(*delta._cols())
        .select_from(_told.join(delta._codes, c.id == t.code_id))
        .where(t.batch_id == batch_id, t.fate == "live")
        .order_by(c.id)
    )
    return [delta._now(r) for r in conn.execute(stmt)]


def _build(engine, settings, conn, batch_id, kind, *, pallet_id, reason, at):
    """(UnitData, told rows, audit mark) for one unit, read in `conn`'s snapshot."""
    mark = conn.execute(select(func.max(_audit.c.id))).scalar() or 0
    seq, prev = head(conn, batch_id)
    n = conn.execute(
        select(func.count()).where(_units.c.batch_id == batch_id, _units.c.kind == kind)
    ).scalar_one()
    closed = batches.get(conn, batch_id).closed_at is not None
    subject = None
    d = delta.Delta()
    activate: list[CodeRecord] = []
    summary = None
    if kind == "pallet":
        rows = delta.pallet_scope(conn, pallet_id, batch_id)
        subject = rows[pallet_id].code if pallet_id in rows else None
        d = delta.compute(conn, rows, any_parent=False)
    elif kind in ("correction", "close"):
        scope = delta.full_scope if closed else delta.told_scope
        d = delta.compute(conn, scope(conn, batch_id), any_parent=closed)
    elif kind == "release":
        activate = [
            CodeRecord(r.code, r.level, r.state, r.time) for r in _told_live(conn, batch_id)
        ]
    elif kind == "reject":
        live = _told_live(conn, batch_id)
        before = delta.told_of(conn, [r.id for r in live])
        for r in live:
            d.retire.append(CodeRecord(r.code, r.level, "decommissioned", at, reason))
            t = before[r.id]
            d.told[r.id] = delta.Told("decommissioned", t.parent_id, t.pair_id, t.status)
    if kind == "close":
        from station.upstream.batchdata import batch_data
        from sync.manifest import count_batch

        summary = count_batch(batch_data(engine, settings, batch_id))
        held = delta._codes.c
        summary["codes_in_qa_hold"] = conn.execute(
            select(func.count()).where(held.batch_id == batch_id, held.state == "rejected")
        ).scalar_one()  # rejects go when QA decides: released (commissioned) or retired
    info = _info(
        conn, settings, batch_id, kind, seq + 1, prev, at, n=n + 1, subject=subject, reason=reason
    )
    unit = UnitData(
        info, activate=activate, levels=settings.level_names, summary=summary, **d.parts()
    )
    return unit, d.told, mark


def seal(
    engine: Engine,
    settings: Settings,
    batch_id: str,
    kind: str,
    *,
    pallet_id: int | None = None,
    reason: str | None = None,
    user: str = SYSTEM_USER,
) -> Sealed | None:
    """Compute, write and queue one unit of `kind`; None when a correction has nothing to say or
    another process sealed this place in the chain first (it then holds what this one would)."""
    at = audit.now()
    with read_engine(engine).connect() as conn:
        unit, told, mark = _build(
            engine, settings, conn, batch_id, kind, pallet_id=pallet_id, reason=reason, at=at
        )
    if kind == "correction" and unit.is_empty():
        with engine.begin() as conn:
            _set_mark(conn, batch_id, mark)
        return None
    info = unit.info
    folder = _write(settings, unit)
    try:
        with engine.begin() as conn:
            unit_id = conn.execute(
                insert(_units)
                .values(
                    key=info.unit_id,
                    batch_id=batch_id,
                    seq=info.seq,
                    kind=kind,
                    subject_id=pallet_id,
                    audit_id=mark,
                    created_at=at,
                )
                .returning(_units.c.id)
            ).scalar_one()
            outbox_id = conn.execute(
                insert(_outbox)
                .values(
                    batch_id=info.unit_id,
                    chain=batch_id,
                    path=str(folder),
                    state="pending",
                    attempts=0,
                    next_attempt_at=at,
                    created_at=at,
                    updated_at=at,
                )
                .returning(_outbox.c.id)
            ).scalar_one()
            _write_told(conn, batch_id, unit_id, told)
            _set_mark(conn, batch_id, mark)
            counts = ", ".join(f"{k} {v}" for k, v in unit.counts().items() if v) or "nothing new"
            what = f"{kind} unit" + (f" of pallet {info.subject}" if info.subject else "")
            audit.record(
                conn,
                user,
                [
                    audit.Change(
                        "sync.queue", info.unit_id, None, "pending", f"{what}: {counts}", batch_id
                    )
                ],
                at,
            )
    except IntegrityError:
        shutil.rmtree(folder, ignore_errors=True)
        log.info("unit %s of batch %s: sealed by another process first", info.unit_id, batch_id)
        return None
    wake_senders()
    return Sealed(info.unit_id, kind, outbox_id, folder)


def _write(settings: Settings, unit: UnitData) -> Path:
    """The unit's file set in a folder of its own, renamed into place complete."""
    parent = units_dir(settings, unit.info.batch.batch_id)
    parent.mkdir(parents=True, exist_ok=True)
    stem = safe_name(unit.info.unit_id)
    nonce = os.urandom(4).hex()
    folder = parent / f"{stem}.{nonce}"
    tmp = parent / f".{stem}.{os.getpid()}.{threading.get_ident()}.tmp"
    shutil.rmtree(tmp, ignore_errors=True)
    try:
        write_unit_files(
            unit,
            tmp,
            export_formats(settings),
            key=settings.station.signing_key.encode("utf-8"),
            key_id=f"{settings.station.id}:hmac",
            pair_event=settings.upstream.pair_event,
            capacities=capacities(settings),
        )
        os.rename(tmp, folder)
        fsync_dir(parent)
    except ExportError as exc:
        raise ExportFailed(f"unit {unit.info.unit_id}: {exc}") from exc
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return folder


def _write_told(conn: Connection, batch_id: str, unit_id: int, told: dict) -> None:
    """Replace the told rows of these codes (through sqlite3 directly on SQLite: the writer
    lock is held for a few ms per pallet, not the ~20 ms Core spends building statements)."""
    rows = [(c, batch_id, unit_id, t.fate, t.parent_id, t.pair_id, t.status)
            for c, t in sorted(told.items())]  # fmt: skip
    raw = raw_sqlite(conn)
    if raw is not None:
        raw.executemany("DELETE FROM upstream_told WHERE code_id = ?", [(r[0],) for r in rows])
        raw.executemany(
            "INSERT INTO upstream_told (code_id, batch_id, unit_id, fate, parent_id, pair_id, "
            "status) VALUES (?, ?, ?, ?, ?, ?, ?)",
            rows,
        )
        return
    names = ("code_id", "batch_id", "unit_id", "fate", "parent_id", "pair_id", "status")
    for i in range(0, len(rows), CHUNK):
        part = rows[i : i + CHUNK]
        conn.execute(delete(_told).where(_told.c.code_id.in_([r[0] for r in part])))
        conn.execute(insert(_told), [dict(zip(names, r, strict=True)) for r in part])


def _set_mark(conn: Connection, batch_id: str, mark: int) -> None:
    old = conn.execute(select(_marks.c.audit_id).where(_marks.c.batch_id == batch_id)).scalar()
    if old is None:
        conn.execute(insert(_marks).values(batch_id=batch_id, audit_id=mark))
    elif mark > old:
        conn.execute(update(_marks).where(_marks.c.batch_id == batch_id).values(audit_id=mark))


def clear_leftovers(settings: Settings, engine: Engine, batch_id: str, age_s: float = 600) -> int:
    """Remove unit folders of the batch no outbox row names, older than `age_s` (a crash between
    the folder and its row; a younger one may be another process's, about to be queued)."""
    import time

    parent = units_dir(settings, batch_id)
    if not parent.is_dir():
        return 0
    with read_engine(engine).connect() as conn:
        named = set(
            conn.execute(select(_outbox.c.path).where(_outbox.c.chain == batch_id)).scalars()
        )
    n = 0
    for folder in parent.iterdir():
        if str(folder) in named or time.time() - folder.stat().st_mtime < age_s:
            continue
        shutil.rmtree(folder, ignore_errors=True)
        n += 1
    return n


def unit_exists(conn: Connection, key: str) -> bool:
    """Whether the outbox holds an entry with this key."""
    return conn.execute(select(exists().where(_outbox.c.batch_id == key))).scalar()


def when(value: datetime | None) -> str | None:
    """A stored time as ISO 8601 UTC text."""
    return value.isoformat(timespec="seconds") + "Z" if value else None
