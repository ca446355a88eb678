"""`station run`: a batch on the configured line's devices (real ones, or `station sim`'s).

The same LineRunner as the demo, fed only by devices: triggers and kicks through the PLC, codes
to the inkjet, frames from the verify and case cameras (tagged frame streams or hardware-triggered
cameras), labels to the ZPL printers, case reads from the pallet reader; case verdicts and pallet
placements go back through the PLC's case gate and cases-placed registers.

The run ends when the batch's planned quantity has passed the photocell and the line has been
quiet (no trigger, frame or case read) for `finish_idle_s`: in-flight items are decided, the open
pallet is closed as partial and the batch is closed. What passed the photocell is the PLC's
count (its trigger counter, noted in the store across restarts: runnotes.PlcCount), not the
station's: items that went by while no station was alive are the batch's items too. A device
fault stops the run with the alarm (exit 1); the batch stays running, and `station run` again
resumes it. SIGTERM/SIGINT stop the run the same way. As it runs it notes its live figures in
the store (runnotes.LiveFigures).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

from sqlalchemy import Engine

from station.batch import closing
from station.build import open_devices, open_frame_source
from station.config import Settings
from station.errors import ConfigError
from station.events import FinishReason, LineSignals, said
from station.line.runner import LineDevices, LineRunner
from station.line.runnotes import RunNotes
from station.line.store import LineStore
from station.store import batches
from station.store.batches import BatchState
from station.store.db import store_failure
from station.store.lifecycle import State

log = logging.getLogger("station.line.run")


def pick_batch(engine: Engine, batch_id: str | None) -> str:
    """The batch to run: the one given, else the only released or running one."""
    if batch_id:
        return batches.get(engine, batch_id).id
    open_ = [b for b in batches.list_all(engine) if b.state in ("ready", "running", "held")]
    if len(open_) != 1:
        names = ", ".join(f"{b.id} ({b.state})" for b in open_) or "none"
        raise ConfigError(f"name the batch with --batch: released or running batches: {names}")
    return open_[0].id


def _close_all(things) -> None:
    for dev in things:
        close = getattr(dev, "close", None)
        if close is not None:
            try:
                close()
            except Exception:  # closing on the way out: the run's own error is what matters
                log.debug("close failed", exc_info=True)


def run_production(
    engine: Engine,
    settings: Settings,
    batch_id: str,
    *,
    user: str,
    signals: LineSignals | None = None,
    on_progress: Callable[[dict], None] | None = None,
    finish_idle_s: float = 3.0,
    stop: threading.Event | None = None,
    on_start: Callable[[LineRunner], None] | None = None,
    stop_on_fault: bool = True,
) -> dict:
    """Run (or resume) `batch_id` on the configured devices until done; returns a summary.

    Headless, a fault ends the run (`stop_on_fault`); with an operator at the screen it waits
    for them to clear it (LineRunner.resume).
    """
    d = settings.devices
    if d.plc is None or d.verify_camera is None:
        raise ConfigError("a production run needs [devices.plc] and [devices.verify_camera]")
    b = batches.get(engine, batch_id)
    if b.state not in ("ready", "running", "held"):
        raise ConfigError(f"batch {batch_id} is {b.state}: only a released batch can run")
    stop = stop or threading.Event()
    opened: list = []
    try:
        devs = open_devices(settings)
        opened += list(devs.values())
        frames = {}
        for role in dict.fromkeys(("verify_camera", *settings.shape.cameras)):
            cam = getattr(d, role, None)
            if cam is not None and hasattr(cam, "source"):  # every camera of the line's shape
                # (an item reader is a device opened with the others: LineDevices wraps it)
                frames[role] = open_frame_source(role, cam.source)
                opened.append(frames[role])
        for src in frames.values():
            src.connect()  # a camera that is not there fails here, before anything prints
        verify, case = frames["verify_camera"], frames.pop("case_camera", None)
        return _run(engine, settings, b, devs, (verify, case, frames), user, signals,
                    on_progress, finish_idle_s, stop, on_start, stop_on_fault)  # fmt: skip
    finally:
        _close_all(opened)


def _run(engine, settings, b, devs, cams, user, signals, on_progress, idle_s, stop,
         on_start, stop_on_fault) -> dict:  # fmt: skip
    signals = signals or LineSignals()
    store = LineStore(engine, b.id, b.product_sku, user)
    runner = LineRunner(
        settings,
        store,
        LineDevices.of(devs, *cams),
        planned=b.quantity,
        signals=signals,
    ).with_lot(b.lot)
    activity = [time.monotonic()]
    for sig in (signals.item_verified, signals.item_rejected, signals.case_accepted,
                signals.case_rejected, signals.case_palletized):  # fmt: skip
        sig.connect(lambda *_: activity.__setitem__(0, time.monotonic()))
    with engine.begin() as conn:
        batches.set_state(conn, b.id, BatchState.RUNNING, user=user)
    decided, unsure = _decided(engine, b.id, settings.line.printed_level)
    todo = b.quantity - decided
    notes = RunNotes(engine, b.id, devs["plc"], devs.get("inkjet"))
    count = notes.count
    t0 = time.monotonic()
    runner.start()
    if on_start is not None:
        on_start(runner)
    failed: str | None = None
    finished = False
    try:
        while not runner.wait(0.2):
            st = runner.status()
            if on_progress is not None:
                on_progress({"state": st.state.value, "triggered": st.triggered,
                             "verified": st.verified, "rejected": st.rejected,
                             "cases": st.cases, "pallets": st.pallets})  # fmt: skip
            if st.state.value == "faulted" and stop_on_fault:
                failed = said(st.alarms)
                break
            if stop.is_set():
                break
            notes.tick(runner)
            if count is not None:  # the PLC counted every item, seen by a station or not
                done = count.items() >= b.quantity
            else:  # codes sent and never confirmed by an earlier run may each have been an item
                done = st.triggered >= todo - unsure
            if done and time.monotonic() - activity[0] > idle_s and not finished:
                runner.finish()
                finished = True
        if finished and not runner.wait(120):
            failed = "the line did not finish within 120 s"
    finally:
        runner.stop()
        runner.wait(10)
        notes.tick(runner, force=True)
    elapsed = time.monotonic() - t0
    if failed is None and runner.finish_reason == FinishReason.FAULTED:
        # The loop itself ended on a fault (the store could not be written, an internal error):
        # say so, never report a clean stop.
        failed = said(runner.status().alarms)
    if failed is None and runner.finish_reason == FinishReason.COMPLETED:
        closed = closing.close_batch(engine, settings, b.id, user=user)
    else:
        closed = None
        try:
            with engine.begin() as conn:  # resumable: `station run` again continues the batch
                batches.set_state(
                    conn, b.id, BatchState.HELD, user=user, reason=failed or "stopped"
                )
        except Exception as exc:  # a store that cannot be written: the batch stays running,
            if store_failure(exc, engine.url.render_as_string(hide_password=True)) is None:
                raise  # which `station run` resumes just the same
    st = runner.status()

    summary = {
        "batch": b.id,
        "planned": b.quantity,
        "triggered": st.triggered,
        "printed": st.printed,
        "verified": st.verified,
        "rejected": st.rejected,
        "rejected_by_reason": dict(sorted(st.rejects_by_reason.items())),
        "cases": st.cases,
        "pallets": st.pallets,
        "late": st.late,
        # The PLC's count of the batch's items (every run), and how many of them passed while
        # no station ran before this one (never decided here: they carry a code the restart
        # voided, or none, and the case station refuses them).
        "plc_items": count.items() if count is not None else None,
        "unseen_at_start": count.unseen if count is not None else None,
        "latency_ms": runner.snapshot_latencies().summary(),
        "seconds": round(elapsed, 1),
        "closed": closed is not None,
        "finish": str(runner.finish_reason or "stopped"),
    }
    if failed:
        summary["fault"] = failed
    return summary


def _decided(engine: Engine, batch_id: str, item_level: str) -> tuple[int, int]:
    """Items of the batch earlier runs saw, and how many more they may have (before restart).

    Seen: verified items, item rejects, and items printed but not yet verified when the run
    ended (the restart rejects them as not verified: they went by). Unsure: codes sent to the
    printer and never confirmed; each may or may not have gone onto an item.
    """
    from sqlalchemy import func, select

    from station.store.models import Code, Reject

    codes, rejects = Code.__table__, Reject.__table__
    with engine.connect() as conn:
        good = conn.execute(
            select(func.count()).where(
                codes.c.batch_id == batch_id,
                codes.c.level == item_level,
                codes.c.state.in_((State.VERIFIED, State.LINKED, State.PRINTED)),
            )
        ).scalar_one()
        bad = conn.execute(
            select(func.count()).where(rejects.c.batch_id == batch_id, rejects.c.seq.is_not(None))
        ).scalar_one()
        unsure = conn.execute(
            select(func.count()).where(
                codes.c.batch_id == batch_id,
                codes.c.level == item_level,
                codes.c.state == State.RESERVED,
            )
        ).scalar_one()
    return good + bad, unsure
