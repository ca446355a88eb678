"""Shipment orders: create, read, list, remove an entry; the order's state lives in the store.

An order is `open` while codes are scanned onto it and `closed` once sealed (`station.ship.close`);
every change bumps its `revision`, so a handheld that lost its connection reloads what is there.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import datetime

from sqlalchemy import Engine, delete, func, insert, select, update
from sqlalchemy.engine import Connection

from station.errors import InputError, NotFound
from station.ship.settings import check_gln
from station.ship.texts import ShipRefused
from station.store import audit
from station.store.db import read_engine
from station.store.models import Batch, Code, OutboxItem, Shipment, ShipmentCode

_ship = Shipment.__table__
_sc = ShipmentCode.__table__
_codes = Code.__table__
UNIT_PREFIX = "SHIP-"  # the outbox key of an order: never a batch id (batches refuse it)
OPEN, CLOSED = "open", "closed"
_BAD = '/\\:*?"<>|'


@dataclass
class OrderView:
    """An order as the CLI and the handheld show it."""

    order: str
    unit_id: str
    distributor: str
    gln: str | None
    state: str
    revision: int
    created_at: datetime
    created_by: str
    closed_at: datetime | None
    closed_by: str | None
    entries: int = 0
    codes: int = 0
    by_level: dict[str, int] = field(default_factory=dict)
    items: list[dict] = field(default_factory=list)

    def to_json(self) -> dict:
        """A JSON-ready dict."""
        d = asdict(self)
        for k in ("created_at", "closed_at"):
            d[k] = d[k].isoformat(timespec="seconds") + "Z" if d[k] else None
        return d


def check_order_no(order: str) -> str:
    """The order number, or InputError: it names files and the outbox entry."""
    bad = next((c for c in order if c in _BAD or not c.isprintable()), None)
    if not order.strip() or order != order.strip() or len(order) > 48 or bad or order[0] == ".":
        why = f"character {bad!r} is not allowed" if bad else "give 1 to 48 characters"
        raise InputError(
            f"--order {order!r}: {why}; use letters, digits, '-', '_' or '.' (it names the "
            "order's files)"
        )
    return order


def create(engine: Engine, *, order: str, to: str, gln: str | None, user: str) -> OrderView:
    """A new open order `order` to distributor `to` (GLN optional, check digit verified)."""
    check_order_no(order)
    if not to.strip() or len(to) > 200 or not to.isprintable():
        raise InputError(f"--to {to!r}: name the distributor in 1 to 200 printable characters")
    try:
        gln = check_gln(gln)
    except ValueError as exc:
        raise InputError(str(exc)) from None
    unit = UNIT_PREFIX + order
    now = audit.now()
    with engine.begin() as conn:
        old = conn.execute(select(_ship.c.state).where(_ship.c.order_no == order)).scalar()
        if old is not None:
            raise InputError(f"order {order} exists already ({old}); choose another number")
        clash = (
            conn.execute(select(Batch.id).where(Batch.id == unit)).first()
            or conn.execute(select(OutboxItem.id).where(OutboxItem.batch_id == unit)).first()
        )
        if clash:
            raise InputError(f"order {order}: {unit} already names a batch; choose another number")
        conn.execute(
            insert(_ship).values(
                order_no=order, unit_id=unit, distributor=to.strip(), gln=gln, state=OPEN,
                revision=0, created_at=now, created_by=user,
            )
        )  # fmt: skip
        reason = f"to {to.strip()}" + (f" (GLN {gln})" if gln else "")
        audit.record(conn, user, [audit.Change("ship.create", order, None, OPEN, reason)], now)
    return view(engine, order)


def get_row(conn: Connection, order: str):
    """The shipments row of `order`; NotFound naming the command that lists orders."""
    row = conn.execute(select(_ship).where(_ship.c.order_no == order)).first()
    if row is None:
        raise NotFound(f"order {order} does not exist; `station ship list` shows the orders")
    return row


def lock_open(conn: Connection, order: str):
    """The open order's row, its revision bumped (this locks the row until commit).

    A closed order refuses: ShipRefused order_closed. Scans and close both go through the row,
    so a scan can never slip onto an order that another handheld is closing.
    """
    row = get_row(conn, order)
    bumped = conn.execute(
        update(_ship)
        .where(_ship.c.id == row.id, _ship.c.state == OPEN)
        .values(revision=_ship.c.revision + 1)
    ).rowcount
    if not bumped:
        row = get_row(conn, order)
        raise ShipRefused("order_closed", order=order, closed_at=_t(row.closed_at))
    return row


def _t(value: datetime | None) -> str:
    return f"{value:%Y-%m-%d %H:%M}" if value else "-"


def _view(conn: Connection, row, with_items: bool) -> OrderView:
    v = OrderView(
        row.order_no, row.unit_id, row.distributor, row.gln, row.state, row.revision,
        row.created_at, row.created_by, row.closed_at, row.closed_by,
    )  # fmt: skip
    for level, n in conn.execute(
        select(_codes.c.level, func.count())
        .select_from(_sc.join(_codes, _codes.c.id == _sc.c.code_id))
        .where(_sc.c.shipment_id == row.id)
        .group_by(_codes.c.level)
    ):
        v.by_level[level] = n
        v.codes += n
    v.entries = conn.execute(
        select(func.count()).where(_sc.c.shipment_id == row.id, _sc.c.top_id == _sc.c.code_id)
    ).scalar_one()
    if with_items:
        v.items = entries(conn, row.id)
    return v


def entries(conn: Connection, shipment_id: int) -> list[dict]:
    """The order's top-level entries in scan order: code, level, batch, codes it brings."""
    top = _codes.alias("t")
    n = (
        select(_sc.c.top_id, func.count().label("n"))
        .where(_sc.c.shipment_id == shipment_id)
        .group_by(_sc.c.top_id)
        .subquery()
    )
    rows = conn.execute(
        select(top.c.code, top.c.level, top.c.batch_id, n.c.n, _sc.c.added_at, _sc.c.added_by)
        .select_from(_sc.join(top, top.c.id == _sc.c.code_id).join(n, n.c.top_id == _sc.c.code_id))
        .where(_sc.c.shipment_id == shipment_id, _sc.c.top_id == _sc.c.code_id)
        .order_by(_sc.c.id)
    ).all()
    return [
        {"code": r.code, "level": r.level, "batch_id": r.batch_id, "codes": r.n,
         "added_at": r.added_at.isoformat(timespec="seconds") + "Z", "added_by": r.added_by}
        for r in rows
    ]  # fmt: skip


def view(engine: Engine, order: str, *, with_items: bool = True) -> OrderView:
    """The order with its counts (and its entries)."""
    with read_engine(engine).connect() as conn:
        return _view(conn, get_row(conn, order), with_items)


def list_orders(engine: Engine, state: str | None = None) -> list[OrderView]:
    """Every order (or those in `state`), newest first, with counts."""
    stmt = select(_ship).order_by(_ship.c.id.desc())
    if state:
        stmt = stmt.where(_ship.c.state == state)
    with read_engine(engine).connect() as conn:
        return [_view(conn, r, False) for r in conn.execute(stmt).all()]


def remove(engine: Engine, order: str, code: str, *, user: str) -> dict:
    """Take an entry (and everything that came with it) off an open order."""
    code = code.strip()
    with engine.begin() as conn:
        row = lock_open(conn, order)
        found = conn.execute(
            select(_sc.c.top_id, _codes.c.id, _codes.c.level)
            .select_from(_sc.join(_codes, _codes.c.id == _sc.c.code_id))
            .where(_sc.c.shipment_id == row.id, _codes.c.code == code)
        ).first()
        if found is None:
            raise ShipRefused("not_on_order", code=code, order=order)
        if found.top_id != found.id:
            top = conn.execute(
                select(_codes.c.code, _codes.c.level).where(_codes.c.id == found.top_id)
            ).one()
            raise ShipRefused("remove_container", code=code, top=top.code, top_level=top.level)
        n = conn.execute(
            delete(_sc).where(_sc.c.shipment_id == row.id, _sc.c.top_id == found.id)
        ).rowcount
        audit.record(
            conn, user, [audit.Change("ship.remove", code, order, None, f"{n} code(s) off {order}")]
        )
    return {"order": order, "code": code, "level": found.level, "removed": n}
