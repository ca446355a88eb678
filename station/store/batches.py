"""Batch (work order) lifecycle, after the Open-SCS job states."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import Engine, func, insert, select, update
from sqlalchemy.engine import Connection

from station.config import Settings
from station.errors import BatchStateError, InputError, NotFound
from station.store import audit
from station.store.models import Batch, Code

_batches = Batch.__table__
_codes = Code.__table__


class BatchState(StrEnum):
    """Open-SCS job states."""

    WAITING = "waiting"
    READY = "ready"
    RUNNING = "running"
    HELD = "held"
    COMPLETED = "completed"
    ABORTED = "aborted"


B = BatchState
MOVES: dict[BatchState, frozenset[BatchState]] = {
    B.WAITING: frozenset({B.READY, B.ABORTED}),
    B.READY: frozenset({B.RUNNING, B.HELD, B.ABORTED, B.COMPLETED}),
    B.RUNNING: frozenset({B.HELD, B.COMPLETED, B.ABORTED, B.READY}),
    B.HELD: frozenset({B.RUNNING, B.READY, B.COMPLETED, B.ABORTED}),
    B.COMPLETED: frozenset(),
    B.ABORTED: frozenset(),
}
CLOSED = frozenset({B.COMPLETED, B.ABORTED})


@dataclass(frozen=True)
class BatchView:
    """A batch as the CLI, UI and exporters see it."""

    id: str
    product_sku: str
    product_gtin: str | None
    product_name: str
    lot: str
    quantity: int
    produced: date | None
    expires: date | None
    line: str
    station_id: str
    state: str
    created_at: datetime
    started_at: datetime | None
    closed_at: datetime | None

    def to_json(self) -> dict:
        """A JSON-ready dict."""
        return {
            k: (v.isoformat() if isinstance(v, date | datetime) else v)
            for k, v in self.__dict__.items()
        }


def _view(row) -> BatchView:
    return BatchView(**{f: getattr(row, f) for f in BatchView.__dataclass_fields__})


def parse_date(value: str | None, what: str) -> date | None:
    """YYYY-MM-DD or None; InputError naming the option otherwise."""
    if value in (None, ""):
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise InputError(f"{what}: {value!r} is not a date; write it as YYYY-MM-DD") from None


MAX_QUANTITY = 1_000_000_000


def check_batch_id(batch_id: str) -> None:
    """InputError unless `batch_id` can name a batch: it becomes a folder name in the outbox."""
    bad = next((c for c in batch_id if c in '/\\:*?"<>|' or not c.isprintable()), None)
    if not batch_id.strip() or batch_id in (".", "..") or len(batch_id) > 64 or bad:
        why = (
            f"character {bad!r} is not allowed"
            if bad
            else "give 1 to 64 characters, not only dots or spaces"
        )
        raise InputError(
            f"--id {batch_id!r}: {why}; use letters, digits, '-', '_' or '.' "
            "(it names the batch's files)"
        )
    if batch_id.upper().startswith("SHIP-"):
        raise InputError(
            f"--id {batch_id!r}: ids starting with SHIP- name shipment orders in the outbox; "
            "choose another id"
        )


def create(
    engine: Engine,
    settings: Settings,
    *,
    product: str,
    lot: str,
    quantity: int,
    produced: date | None = None,
    expires: date | None = None,
    batch_id: str | None = None,
    user: str,
) -> BatchView:
    """Create a batch in state ready (its product known, its quantity positive)."""
    prod = settings.product(product)
    if quantity < 1:
        raise InputError("--quantity must be at least 1")
    if quantity > MAX_QUANTITY:
        raise InputError(f"--quantity {quantity}: at most {MAX_QUANTITY:,} items per batch")
    if batch_id is not None:
        check_batch_id(batch_id)
    if not lot.strip():
        raise InputError("--lot must not be empty")
    if produced and expires and expires <= produced:
        raise InputError(f"--expires {expires} is not after --produced {produced}")
    now = audit.now()
    with engine.begin() as conn:
        if batch_id is None:
            n = conn.execute(select(func.count()).select_from(_batches)).scalar_one() + 1
            batch_id = f"{settings.station.id}-{now:%Y%m%d}-{n:04d}"
            while conn.execute(select(_batches.c.id).where(_batches.c.id == batch_id)).first():
                n += 1
                batch_id = f"{settings.station.id}-{now:%Y%m%d}-{n:04d}"
        elif conn.execute(select(_batches.c.id).where(_batches.c.id == batch_id)).first():
            raise InputError(f"batch {batch_id} exists already; choose another id")
        conn.execute(
            insert(_batches).values(
                id=batch_id,
                product_sku=prod.sku,
                product_gtin=prod.gtin,
                product_name=prod.name,
                lot=lot,
                quantity=quantity,
                produced=produced,
                expires=expires,
                line=settings.station.line,
                station_id=settings.station.id,
                state=B.READY.value,
                created_at=now,
            )
        )
        audit.record(
            conn,
            user,
            [audit.Change("batch.create", batch_id, None, B.READY.value, f"lot={lot}", batch_id)],
            now,
        )
    return get(engine, batch_id)


def get(engine_or_conn: Engine | Connection, batch_id: str) -> BatchView:
    """The batch `batch_id`; NotFound otherwise."""
    stmt = select(_batches).where(_batches.c.id == batch_id)
    if isinstance(engine_or_conn, Connection):
        row = engine_or_conn.execute(stmt).first()
    else:
        with engine_or_conn.connect() as conn:
            row = conn.execute(stmt).first()
    if row is None:
        raise NotFound(f"batch {batch_id} does not exist; `station batch list` shows the batches")
    return _view(row)


def list_all(engine: Engine) -> list[BatchView]:
    """Every batch, newest first."""
    with engine.connect() as conn:
        rows = conn.execute(select(_batches).order_by(_batches.c.created_at.desc())).all()
    return [_view(r) for r in rows]


def set_state(
    conn: Connection, batch_id: str, new: BatchState, *, user: str, reason: str | None = None
) -> None:
    """Move a batch to `new` in the caller's transaction; BatchStateError if not allowed."""
    cur = get(conn, batch_id)
    old = BatchState(cur.state)
    if old == new:
        return
    if new not in MOVES[old]:
        if old in CLOSED:
            raise BatchStateError(f"batch {batch_id} is {old} and can no longer change")
        raise BatchStateError(f"batch {batch_id}: {old} → {new} is not allowed")
    values: dict = {"state": new.value}
    now = audit.now()
    if new == B.RUNNING and cur.started_at is None:
        values["started_at"] = now
    if new in CLOSED:
        values["closed_at"] = now
    conn.execute(update(_batches).where(_batches.c.id == batch_id).values(**values))
    audit.record(
        conn, user, [audit.Change("batch.state", batch_id, old, new, reason, batch_id)], now
    )


def ensure_open(conn: Connection, batch_id: str) -> BatchView:
    """The batch, or BatchStateError when it is closed (closed batches are immutable)."""
    b = get(conn, batch_id)
    if b.state in CLOSED:
        raise BatchStateError(f"batch {batch_id} is {b.state}; a closed batch cannot be changed")
    return b


def counts(conn: Connection, batch_id: str) -> dict[str, dict[str, int]]:
    """Codes of the batch by level and state."""
    out: dict[str, dict[str, int]] = {}
    stmt = (
        select(_codes.c.level, _codes.c.state, func.count())
        .where(_codes.c.batch_id == batch_id)
        .group_by(_codes.c.level, _codes.c.state)
    )
    for lv, st, n in conn.execute(stmt):
        out.setdefault(lv, {})[st] = n
    return out
