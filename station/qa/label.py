"""Relabel: reprint a container's label with the SAME code on the configured label printer.

A case that already holds children never gets a new code: the reprint carries the code it has.
The reprint is recorded in the audit only once the printer took the label; a printer that is
unreachable or reports a fault is said so plainly and nothing is recorded.
"""

from __future__ import annotations

from station.errors import ConfigError, InputError, StationError, TransitionError
from station.qa.store import after_close, children, get, shown
from station.store import audit, lifecycle
from station.store.db import read_engine
from station.store.lifecycle import State


class PrinterUnavailable(StationError):
    """The label printer could not be reached or reports a fault; nothing was recorded."""


def relabel(engine, settings, container: str, *, user: str, reveal: bool = False) -> dict:
    """Reprint a container's label with the SAME code; recorded only once the printer took it."""
    from drivers.errors import DriverError
    from drivers.labels.factory import open_label_printer
    from drivers.labels.templates import any_pallet_label, case_label
    from station.store import batches

    with read_engine(engine).connect() as conn:
        row = get(conn, container)
        n = len(children(conn, row.id))
        b = batches.get(conn, row.batch_id) if row.batch_id else None
    if row.level not in ("box", "case", "pallet"):
        raise InputError(f"{row.level} codes have no label to reprint; give a box, case or pallet")
    if State(row.state) in lifecycle.FINAL or row.state == State.AVAILABLE.value:
        raise TransitionError(f"{row.level} {row.code} is {row.state}: its label must not print")
    device = "pallet_labeler" if row.level == "pallet" else "case_labeler"
    cfg = getattr(settings.devices, device)
    if cfg is None:
        raise ConfigError(f"no [devices.{device}] in config.toml: there is no printer to use")
    count = row.child_count if row.child_count is not None else n
    product = b.product_sku if b else ""
    lot = b.lot if b else ""
    try:
        if device == "pallet_labeler":
            zpl = any_pallet_label(row.code, product=product, lot=lot, cases=count)
        else:
            zpl = case_label(
                row.code, product=product, lot=lot, count=count, symbology=cfg.symbology
            )
    except ValueError as exc:
        raise InputError(f"{row.level} {row.code}: no label can be made: {exc}") from None
    printer = None
    try:
        printer = open_label_printer(cfg.url, name=device, timeout_s=cfg.timeout_ms / 1000)
        status = printer.status()
        if not status.ready:
            raise PrinterUnavailable(
                f"{device} at {cfg.url} is not ready ({', '.join(status.faults) or 'paused'}); "
                "the label was NOT reprinted and nothing was recorded; fix it and retry"
            )
        printer.print_label(zpl)
    except DriverError as exc:
        raise PrinterUnavailable(
            f"{exc}; the label was NOT reprinted and nothing was recorded; check the printer "
            f"(power, cable, network at {cfg.url}) and retry"
        ) from None
    finally:
        if printer is not None:
            printer.close()
    with engine.begin() as conn:
        audit.record(
            conn,
            user,
            [
                audit.Change(
                    "label.reprint",
                    row.code,
                    None,
                    str(count),
                    f"same code reprinted on {device} {cfg.url}",
                    row.batch_id,
                )
            ],
        )
        after_close(conn, [row], f"relabel {row.code}", user)
    return {
        "decision": "relabel",
        "container": shown(row, reveal),
        "level": row.level,
        "count": count,
        "printer": cfg.url,
        "user": user,
    }
