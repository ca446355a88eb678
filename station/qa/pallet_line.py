"""Where a pallet operation runs: by the running line's runner, or on the store.

While a run is on (the station's run lock held by a live process), the runner is the one writer
of the line's pallets: `perform` queues the operation (station/store/commands.py) and waits for
the runner's outcome; a holder that takes nothing (another process's screen with no batch
running, or a stuck process) is told so, and nothing changes. The process that holds the lock
itself with no batch running (the touchscreen between batches) does it on the store. Without a
holder, `perform` takes the run lock (a `station run` starting meanwhile is refused, exit 2) and
carries the operation out on the store, printing the label of a pallet it closed on the
configured pallet labeler. A screen whose line runs asks its runner directly
(LineController.pallet).

`apply` is the one switch from an operation's name and arguments to station/qa/pallets.py, used
by both paths (the runner calls it in its own thread).
"""

from __future__ import annotations

from sqlalchemy import Engine
from sqlalchemy.engine import Connection

from station.errors import InputError, StationError
from station.qa import pallets as ops
from station.store import commands

OPS = ("close", "hold", "resume", "clear", "merge")
TAKE_S = 5.0  # a running line polls twice a second: 5 s is a line that takes nothing


def apply(
    conn: Connection, settings, op: str, args: dict, *, user: str, batch_id: str | None = None
) -> dict:
    """Carry out `op` in `conn`'s transaction; `batch_id`: the batch the line runs (if any).

    args: `code` (a pallet, or a case on it; default: the open pallet), `a`/`b` for merge,
    `reason`, `batch` (which batch's open pallet, when no line runs).
    """
    reason = args.get("reason")
    why = {"reason": reason} if reason else {}
    if op == "resume":
        if not args.get("code"):
            raise InputError("resume needs a code: scan any case on the held pallet, or its label")
        return ops.resume(
            conn, settings, ops.pallet_of(conn, args["code"]), user=user, batch_id=batch_id
        )
    if op == "merge":
        a, b = ops.pallet_of(conn, args["a"]), ops.pallet_of(conn, args["b"])
        _running(a, batch_id)
        _running(b, batch_id)
        return ops.merge(conn, settings, a, b, user=user, **why)
    if op not in OPS:
        raise InputError(f"unknown pallet operation {op!r}; one of {', '.join(OPS)}")
    code = args.get("code")
    row = (
        ops.pallet_of(conn, code)
        if code
        else ops.the_open(conn, settings, batch_id or args.get("batch"))
    )
    _running(row, batch_id)
    fn = {"close": ops.close, "hold": ops.hold, "clear": ops.clear}[op]
    return fn(conn, settings, row, user=user, **why)


def _running(row, batch_id: str | None) -> None:
    """While a batch runs, its runner acts on that batch's pallets only (their labels carry its
    product and lot)."""
    if batch_id is not None and row.batch_id != batch_id:
        raise InputError(
            f"pallet {row.code} belongs to batch {row.batch_id}, the line runs {batch_id}: do it "
            f"while batch {row.batch_id} runs, or when no batch runs"
        )


def line_holder(engine: Engine, station_id: str):
    """The live process holding the station's run lock, or None (none, or a dead one's row)."""
    from station.line import runlock

    with engine.connect() as conn:
        h = runlock.holder_of(conn, station_id)
    return h if h is not None and not runlock.is_stale(h) else None


def perform(engine: Engine, settings, op: str, args: dict, *, user: str) -> dict:
    """`op` through the running line, or on the store under the run lock (see the module)."""
    from station.line import runlock

    station = settings.station.id
    holder = line_holder(engine, station)
    if holder is not None and runlock.is_this_process(holder):  # a screen with no batch running
        return {**direct(engine, settings, op, args, user=user), "via": "store"}
    if holder is not None:
        cid = commands.queue(engine, station, op, args, user)
        try:
            result = commands.wait(engine, cid, take_s=TAKE_S)
        except commands.NotTaken as exc:
            raise commands.NotTaken(
                f"{exc}; {holder.describe()} holds the line but runs no batch (or is stuck). "
                "Nothing was changed: use that station's screen, or stop it and try again"
            ) from None
        return {**result, "via": "line"}
    lock = runlock.RunLock(engine, station, command=f"station pallet {op}")
    lock.acquire()  # LineBusy (exit 2) if a run started just now
    try:
        return {**direct(engine, settings, op, args, user=user), "via": "store"}
    finally:
        lock.release()


def direct(
    engine: Engine, settings, op: str, args: dict, *, user: str, batch_id: str | None = None
) -> dict:
    """`op` on the store (no runner is running): one transaction, then the label if one closed."""
    with engine.begin() as conn:
        result = apply(conn, settings, op, args, user=user, batch_id=batch_id)
    pallet = result["pallet"] if op == "close" else result["into"] if result.get("label") else None
    if pallet is not None:
        result["printed"], result["label_note"] = _label(engine, settings, pallet, user)
    return result


def _label(engine: Engine, settings, pallet: str, user: str) -> tuple[bool, str]:
    """Print the pallet's label (the same code) on the configured labeler; never raises."""
    from station.qa.label import relabel

    try:
        relabel(engine, settings, pallet, user=user)
    except StationError as exc:  # no labeler configured, or it is off: the pallet is closed
        return False, f"label not printed: {exc}; reprint with `station qa relabel {pallet}`"
    return True, "label printed"
