"""The one object the UI (or any front end) talks to: commands in, events out, no Qt.

Every command returns at once; work that touches devices or the network runs in a worker
thread, and results come back as signals (see events.LineSignals and ControllerSignals).
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass

from psygnal import Signal
from sqlalchemy import Engine, select

from station.config import Settings
from station.events import LineSignals, LineStatus, RunState
from station.store import batches
from station.store.batches import BatchView
from station.store.db import read_engine
from station.store.models import Code

log = logging.getLogger("station.line.controller")
_codes = Code.__table__


class ControllerSignals:
    """What the controller tells its front ends besides the line's own events."""

    batch_finished = Signal(object)  # summary dict
    command_failed = Signal(str, str)  # command, message for the operator
    batches_changed = Signal()


@dataclass(frozen=True)
class OpenContainer:
    """A container that closing the batch would close as partial (零箱)."""

    level: str
    code: str
    children: int


class LineController:
    """Runs batches on the simulated line (demo) or the configured devices; thread-safe commands."""

    def __init__(
        self,
        settings: Settings,
        engine: Engine,
        user: str,
        *,
        simulate: bool = True,
        rate_per_min: int | None = None,
        defects: float = 0.02,
    ) -> None:
        self.settings = settings
        self.engine = engine
        self.user = user
        self.simulate = simulate
        self.rate = rate_per_min or settings.line.rate_per_min
        self.defects = defects
        self.line = LineSignals()
        self.events = ControllerSignals()
        self._runner = None
        self._thread: threading.Thread | None = None
        self._status = LineStatus()
        self.line.status_changed.connect(self._keep_status)

    def _keep_status(self, status: LineStatus) -> None:
        self._status = status

    # -- queries ----------------------------------------------------------------------------------
    def status(self) -> LineStatus:
        """The latest snapshot."""
        r = self._runner
        return r.status() if r is not None and r.state != RunState.IDLE else self._status

    def released_batches(self) -> list[BatchView]:
        """Batches an operator may start or continue."""
        # The read engine: a screen refreshing its list must never take SQLite's write lock
        # (make_engine begins with BEGIN IMMEDIATE) while the line group-commits behind it.
        rows = batches.list_all(read_engine(self.engine))
        return [b for b in rows if b.state in ("ready", "running", "held")]

    def open_containers(self, batch_id: str) -> list[OpenContainer]:
        """Containers still open in a batch: what closing it will close as partial."""
        with read_engine(self.engine).connect() as conn:
            rows = conn.execute(
                select(_codes.c.level, _codes.c.code, _codes.c.child_count).where(
                    _codes.c.batch_id == batch_id,
                    _codes.c.container_status.in_(("open", "held")),  # held pallets close too
                )
            ).all()
        return [OpenContainer(r.level, r.code, r.child_count or 0) for r in rows]

    def pallets(self, batch_id: str | None) -> list:
        """Open and held pallets of a batch (station.qa.pallets.PalletView), oldest first."""
        from station.qa import pallets

        if batch_id is None:
            return []
        with read_engine(self.engine).connect() as conn:
            return pallets.listing(conn, self.settings, batch_id=batch_id)

    def pallet(self, op: str, args: dict, user: str) -> dict:
        """A pallet operation (close, hold, resume, clear, merge), blocking: call it off the UI
        thread. The running line's runner carries it out in its own thread; with no batch
        running, it is done on the store (station/qa/pallet_line.py)."""
        from station.qa import pallet_line

        r = self._runner
        if r is not None and not r.wait(0):
            return {**r.pallet_command(op, args, user).result(60), "via": "line"}
        return pallet_line.perform(self.engine, self.settings, op, args, user=user)

    @property
    def running(self) -> bool:
        """True while a batch runs."""
        return self._thread is not None and self._thread.is_alive()

    # -- commands ---------------------------------------------------------------------------------
    def start(self, batch_id: str, items: int | None = None) -> None:
        """Start (or resume) a batch in the background."""
        if self.running:
            self.events.command_failed.emit("start", "a batch is already running; stop it first")
            return
        b = batches.get(self.engine, batch_id)
        self._thread = threading.Thread(
            target=self._run, args=(b, items or b.quantity), name="controller", daemon=True
        )
        self._thread.start()

    def _run(self, b: BatchView, items: int) -> None:
        from station.line.run import run_production
        from station.sim import demo

        def keep(runner) -> None:  # the controller holds the runner it starts
            self._runner = runner

        try:
            if self.simulate:
                plan = demo.DemoPlan(
                    items=items,
                    batches=1,
                    rate=self.rate,
                    defects=self.defects,
                    seed=1,
                    product=b.product_sku,
                )
                demo.ensure_pools(self.engine, self.settings, plan, self.user)
                summary = demo.run_batch(
                    self.engine, self.settings, plan, b.id, user=self.user, signals=self.line,
                    on_start=lambda _sims, runner, _world: keep(runner),
                )  # fmt: skip
            else:  # the configured devices; faults wait for the operator to clear them
                summary = run_production(
                    self.engine, self.settings, b.id, user=self.user, signals=self.line,
                    on_start=keep, stop_on_fault=False,
                )  # fmt: skip
            self.events.batch_finished.emit(summary)
        except Exception as exc:  # shown to the operator, logged in full
            log.exception("batch %s failed", b.id)
            self.events.command_failed.emit("start", str(exc))
        finally:
            self._runner = None
            self.events.batches_changed.emit()

    def pause(self) -> None:
        """Pause the line."""
        if self._runner is not None:
            self._runner.pause()

    def resume(self) -> None:
        """Resume after a pause or a cleared fault."""
        if self._runner is not None:
            self._runner.resume()

    def stop(self) -> None:
        """Stop the line (the batch stays open)."""
        if self._runner is not None:
            self._runner.stop()

    def acknowledge(self, alarm_code: str) -> None:
        """The operator acknowledged an alarm."""
        if self._runner is not None:
            self._runner.acknowledge(alarm_code)
        self.line.alarm_cleared.emit(alarm_code)

    def close_batch(self, batch_id: str) -> dict:
        """Close a batch that is not running: partial containers closed, unused codes voided."""
        from station.batch import closing

        if self.running:
            raise RuntimeError("stop the line before closing the batch")
        summary = closing.close_batch(self.engine, self.settings, batch_id, user=self.user)
        self.events.batches_changed.emit()
        return summary

    # -- beside the line: OPC UA and alerts ------------------------------------------------------
    def open_links(self):
        """Start [opcua] and [alerts] on this line's events; MES job orders start and stop here.

        Returns the station.service.links.Links to close when the front end ends.
        """
        from station.service.links import open_links

        links = open_links(
            self.settings, self.engine, on_start=self._job_start, on_stop=self._job_stop
        )
        links.attach(self.line)
        return links

    def _job_start(self, batch_id: str) -> str:
        if self.running:
            return f"marked started; the line runs another batch: start {batch_id} after it"
        self.start(batch_id)
        return f"batch {batch_id} starting"

    def _job_stop(self, batch_id: str) -> str | None:
        if not self.running or self.status().batch_id != batch_id:
            return None
        self.stop()
        return f"stopping batch {batch_id}: it stays open and can be started again"

    def wait(self, timeout_s: float | None = None) -> bool:
        """Wait for the running batch to end."""
        t = self._thread
        if t is None:
            return True
        t.join(timeout_s)
        return not t.is_alive()
