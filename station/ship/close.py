"""Closing an order: sealed in the store, then its signed file set queued in the outbox, once.

1. One transaction: the order (locked through its row) becomes `closed`, with one audit entry.
2. The file set is written in `<data_dir>/outbox/<unit>/` (temporary folder, renamed whole) and
   the outbox row inserted with the order's unit id as key; the unique key makes a second
   attempt a no-op, so `station ship close` on a closed order only finishes what a crash left.
3. The dispatch note: a PDF beside the set, and a ticket when a ticket printer is configured.
The outbox sends the set in queue order with the batches; the receiver stores the unit once.
"""

from __future__ import annotations

import logging
import os
import shutil
import threading
from pathlib import Path

from sqlalchemy import Engine, insert, select, update
from sqlalchemy.exc import IntegrityError

from station.errors import InputError
from station.ship.orders import CLOSED, entries, get_row, lock_open
from station.ship.settings import ship_settings
from station.store import audit
from station.store.db import read_engine
from station.store.models import Batch, OutboxItem, Shipment
from station.upstream import outbox
from station.upstream.batchdata import code_prefix
from station.upstream.fileset import outbox_dir
from sync.durable import fsync_dir
from sync.manifest import MANIFEST
from sync.shipping import ShipmentEntry, ShipmentInfo, write_shipment_files

log = logging.getLogger(__name__)
_ship = Shipment.__table__
_outbox = OutboxItem.__table__
_batches = Batch.__table__


def close(engine: Engine, settings, order: str, *, user: str) -> dict:
    """Seal order `order` and queue its file set; on a closed order, finish what is missing."""
    with engine.begin() as conn:
        row = get_row(conn, order)
        if row.state != CLOSED:
            row = lock_open(conn, order)
            if not entries(conn, row.id):
                raise InputError(f"order {order} has no codes; scan its pallets or cases first")
            at = audit.now()
            conn.execute(
                update(_ship).where(_ship.c.id == row.id)
                .values(state=CLOSED, closed_at=at, closed_by=user)
            )  # fmt: skip
            n = len(entries(conn, row.id))
            audit.record(
                conn,
                user,
                [
                    audit.Change(
                        "ship.close", order, "open", CLOSED, f"{n} entr(ies) to {row.distributor}"
                    )
                ],
                at,
            )
            closed_now = True
        else:
            closed_now = False
    info, items = shipment_data(engine, settings, order)
    queued = queue(engine, settings, info, items, user=user)
    result = {
        "order": order,
        "closed": closed_now,
        "unit_id": info.unit_id,
        "entries": len(items),
        "codes": sum(e.codes for e in items),
        "outbox": queued,
    }
    from station.ship.note import dispatch_note  # Pillow only when a note is made

    result["note"] = dispatch_note(settings, info, items, Path(queued.get("path") or
                                   outbox_dir(settings)))  # fmt: skip
    return result


def shipment_data(engine: Engine, settings, order: str) -> tuple[ShipmentInfo, list]:
    """The closed order as plain data for the exporters."""
    cfg = ship_settings(settings)
    with read_engine(engine).connect() as conn:
        row = get_row(conn, order)
        if row.state != CLOSED:
            raise InputError(f"order {order} is {row.state}; close it first")
        items = entries(conn, row.id)
        ids = {e["batch_id"] for e in items if e["batch_id"]}
        lots = {b.id: b for b in conn.execute(select(_batches).where(_batches.c.id.in_(ids))).all()}
    info = ShipmentInfo(
        unit_id=row.unit_id, order=order, station_id=settings.station.id,
        shipper=cfg.owner_name or settings.station.name, shipper_gln=cfg.gln,
        owner_gln=cfg.owner_gln, distributor=row.distributor, distributor_gln=row.gln,
        closed_at=row.closed_at, closed_by=row.closed_by, code_prefix=code_prefix(settings),
        resolver=settings.codes.resolver,
    )  # fmt: skip
    out = [
        ShipmentEntry(e["code"], e["level"], e["batch_id"],
                      lots[e["batch_id"]].lot if e["batch_id"] in lots else None,
                      lots[e["batch_id"]].product_gtin if e["batch_id"] in lots else None,
                      e["codes"])
        for e in items
    ]  # fmt: skip
    return info, out


def seal(settings, info: ShipmentInfo, items: list) -> Path:
    """The order's signed file set in <data_dir>/outbox/<unit>/, written once."""
    from sync.model import safe_name

    folder = outbox_dir(settings) / safe_name(info.unit_id)
    if (folder / MANIFEST).exists():
        return folder
    folder.parent.mkdir(parents=True, exist_ok=True)
    tmp = folder.with_name(f".{folder.name}.{os.getpid()}.{threading.get_ident()}.tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    try:
        write_shipment_files(info, items, tmp, key=settings.station.signing_key.encode("utf-8"),
                             key_id=f"{settings.station.id}:hmac")  # fmt: skip
        if folder.exists():
            shutil.rmtree(folder)  # an unsealed leftover (no manifest): never a signed set
        os.rename(tmp, folder)
        fsync_dir(folder.parent)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return folder


def _batches_first(engine: Engine, settings, items: list, *, user: str) -> str | None:
    """Queue any batch of the order not in the outbox yet, so upstream hears of the codes before
    they ship (a batch whose sealing failed at close); the first failure, or None."""
    for batch_id in sorted({e.batch_id for e in items if e.batch_id}):
        if outbox.find(engine, batch_id) is None:
            try:
                outbox.queue_batch(engine, settings, batch_id, user=user)
            except Exception as exc:
                log.exception("batch %s: sealing before its shipment failed", batch_id)
                return (
                    f"batch {batch_id} of this order is not in the outbox and could not be "
                    f"sealed ({type(exc).__name__}: {exc}); the shipment waits behind it"
                )
    # The release (and any correction) of those batches goes up before the shipment does: a
    # platform must hear the codes are released before it hears they left for a distributor.
    from station.upstream import chain

    try:
        chain.discover(
            engine, settings, batch_ids=sorted({e.batch_id for e in items if e.batch_id})
        )
    except Exception as exc:
        log.exception("sealing the release before a shipment failed")
        return f"the release of this order's batches could not be sealed first ({exc})"
    return None


def queue(engine: Engine, settings, info: ShipmentInfo, items: list, *, user: str) -> dict:
    """Seal and add the order to the outbox (idempotent: the unit id is the outbox key)."""
    row = outbox.find(engine, info.unit_id)
    if row is not None:
        return {"state": row.state, "path": row.path, "queued": False}
    blocked = _batches_first(engine, settings, items, user=user)
    if blocked:
        with engine.begin() as conn:
            audit.record(conn, user, [audit.Change("sync.queue_failed", info.unit_id, None,
                                                   None, blocked)])  # fmt: skip
        return {"state": "error", "error": blocked, "queued": False}
    try:
        folder = seal(settings, info, items)
    except Exception as exc:  # the order stays closed; `station ship close` again retries
        log.exception("order %s: sealing its file set failed", info.order)
        text = f"{type(exc).__name__}: {exc}"
        with engine.begin() as conn:
            audit.record(conn, user, [audit.Change("sync.queue_failed", info.unit_id, None,
                                                   None, text)])  # fmt: skip
        return {"state": "error", "error": text, "queued": False}
    at = audit.now()
    try:
        with engine.begin() as conn:
            conn.execute(insert(_outbox).values(
                batch_id=info.unit_id, path=str(folder), state="pending", attempts=0,
                next_attempt_at=at, created_at=at, updated_at=at))  # fmt: skip
            audit.record(conn, user, [audit.Change("sync.queue", info.unit_id, None, "pending",
                                                   str(folder))], at)  # fmt: skip
    except IntegrityError:
        row = outbox.find(engine, info.unit_id)
        if row is None:
            raise
        return {"state": row.state, "path": row.path, "queued": False}
    outbox.wake_senders()
    return {"state": "pending", "path": str(folder), "queued": True}


def queue_missing(engine: Engine, settings, *, user: str) -> list[dict]:
    """Queue every closed order with no outbox row (a crash between close and queue)."""
    with read_engine(engine).connect() as conn:
        orders_ = conn.execute(
            select(_ship.c.order_no)
            .where(_ship.c.state == CLOSED, _ship.c.unit_id.not_in(select(_outbox.c.batch_id)))
            .order_by(_ship.c.closed_at)
        ).scalars().all()  # fmt: skip
    out = []
    for order in orders_:
        info, items = shipment_data(engine, settings, order)
        out.append({"order": order, **queue(engine, settings, info, items, user=user)})
    return out
