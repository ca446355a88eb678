"""Job orders from the plant's MES (OPC UA JobOrderControl) as the station's batches.

Store creates a batch whose id is the job order's id (state ready, marked "stored": `station
serve` does not run it yet); Start marks it started, and `station serve` runs started batches in
the order they were stored, one after another; Stop stops it if it is the batch on the line (the
batch is held and can be started again) or aborts nothing otherwise. `station demo` and `station
run` run their own batch: there Start only marks the order (the next `station serve` runs it).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

from sqlalchemy import Engine, select, update

from station.config import Settings
from station.errors import StationError
from station.store import batches
from station.store.batches import BatchState
from station.store.models import Batch

log = logging.getLogger("station.service.jobs")
_batches = Batch.__table__
STORED = "opcua:stored"
"""Batch note of a job order the MES stored and has not started."""
STARTED = "opcua:started"
"""Batch note of a job order the MES started."""
USER = "opcua"
"""Who the audit trail names for what the MES did."""


def started_batches(engine: Engine, station_id: str) -> list[str]:
    """Open batches `station serve` may run: not a stored-only job order, oldest first."""
    with engine.connect() as conn:
        rows = conn.execute(
            select(_batches.c.id, _batches.c.note, _batches.c.state)
            .where(
                _batches.c.station_id == station_id,
                _batches.c.state.in_(("ready", "running", "held")),
            )
            .order_by(_batches.c.created_at, _batches.c.id)
        ).all()
    # A running batch first: it was on the line when the station stopped (a crash, a restart).
    first = {"running": 0, "held": 1, "ready": 2}
    runnable = [r for r in rows if r.note != STORED]
    return [r.id for r in sorted(runnable, key=lambda r: first[r.state])]  # stable: oldest first


class BatchJobs:
    """A station.opcua JobHandler over the store's batches; thread-safe (one lock)."""

    def __init__(
        self,
        settings: Settings,
        engine: Engine,
        *,
        on_start: Callable[[str], str] | None = None,
        on_stop: Callable[[str], str | None] | None = None,
    ) -> None:
        self.settings = settings
        self.engine = engine
        self.on_start = on_start
        """Called with the batch id after Start marked it; returns what the MES is told."""
        self.on_stop = on_stop
        """Called with the batch id on Stop; returns what the MES is told, None: not running."""
        self._lock = threading.Lock()

    def store_job(self, job):
        """Create the batch (id = the job order's id), ready but not started."""
        from station.opcua import JobResult, JobStatus

        with self._lock:
            try:
                batches.check_batch_id(job.job_id)
                b = batches.create(
                    self.engine, self.settings, product=job.product, lot=job.lot,
                    quantity=job.planned_quantity, produced=job.produced_on,
                    expires=job.expires_on, batch_id=job.job_id, user=USER,
                )  # fmt: skip
            except StationError as exc:
                return JobResult(JobStatus.REJECTED, str(exc))
            self._note(b.id, STORED)
        log.info("OPC UA job %s stored as batch %s (%s)", job.job_id, b.id, job.comment)
        return JobResult(JobStatus.OK, f"stored as batch {b.id}, {b.quantity} × {b.product_sku}")

    def start_job(self, job_id: str):
        """Mark a stored job started; `station serve` runs it when the line is free."""
        from station.opcua import JobResult, JobStatus

        with self._lock:
            b = self._batch(job_id)
            if b is None:
                return JobResult(JobStatus.UNKNOWN_JOB, f"no job order {job_id} on this line")
            if b.state not in ("ready", "held"):
                return JobResult(JobStatus.INVALID_STATE, f"job {job_id} is {b.state}")
            self._note(b.id, STARTED)
        said = self.on_start(b.id) if self.on_start else (
            "marked started; this `station demo`/`run` runs its own batch: `station serve` "
            "runs it next"
        )  # fmt: skip
        return JobResult(JobStatus.OK, said)

    def stop_job(self, job_id: str):
        """Stop the job if it is the batch on the line (it is held and may be started again)."""
        from station.opcua import JobResult, JobStatus

        b = self._batch(job_id)
        if b is None:
            return JobResult(JobStatus.UNKNOWN_JOB, f"no job order {job_id} on this line")
        said = self.on_stop(b.id) if self.on_stop else None
        if said is None:
            return JobResult(
                JobStatus.INVALID_STATE, f"job {job_id} is not on the line ({b.state})"
            )
        return JobResult(JobStatus.OK, said)

    def list_jobs(self):
        """Every job order the MES handed over, oldest first, with its Open-SCS state."""
        from station.opcua import JobInfo, JobOrderState

        with self.engine.connect() as conn:
            rows = conn.execute(
                select(_batches.c.id, _batches.c.state, _batches.c.note)
                .where(_batches.c.note.in_((STORED, STARTED)))
                .order_by(_batches.c.created_at, _batches.c.id)
            ).all()
        states = {
            "waiting": JobOrderState.WAITING, "running": JobOrderState.RUNNING,
            "held": JobOrderState.HELD, "completed": JobOrderState.COMPLETED,
            "aborted": JobOrderState.ABORTED,
        }  # fmt: skip
        out = []
        for r in rows:
            if r.state == BatchState.READY:
                st = JobOrderState.WAITING if r.note == STORED else JobOrderState.READY
            else:
                st = states.get(r.state, JobOrderState.UNDEFINED)
            out.append(JobInfo(r.id, st))
        return out

    def _batch(self, job_id: str):
        try:
            return batches.get(self.engine, job_id)
        except StationError:
            return None

    def _note(self, batch_id: str, note: str) -> None:
        with self.engine.begin() as conn:
            conn.execute(update(_batches).where(_batches.c.id == batch_id).values(note=note))
