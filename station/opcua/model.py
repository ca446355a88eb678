"""Plain data the OPC UA face takes and gives: line snapshots, job orders, the handler Protocol."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from enum import IntEnum
from typing import Protocol


class OpcUaError(Exception):
    """The OPC UA server could not start or stop; the message says what, where and what to do."""

    def __init__(self, what: str, where: str, hint: str) -> None:
        self.what, self.where, self.hint = what, where, hint
        super().__init__(f"OPC UA server {where}: {what}; {hint}")


class PackMLState(IntEnum):
    """PackML machine states with their OPC 30050 state numbers (the nodeset's StateNumber)."""

    UNDEFINED = 0
    CLEARING = 1
    STOPPED = 2
    STARTING = 3
    IDLE = 4
    SUSPENDED = 5
    EXECUTE = 6
    STOPPING = 7
    ABORTING = 8
    ABORTED = 9
    HOLDING = 10
    HELD = 11
    UNHOLDING = 12
    SUSPENDING = 13
    UNSUSPENDING = 14
    RESETTING = 15
    COMPLETING = 16
    COMPLETE = 17


@dataclass(frozen=True)
class LineAlarm:
    """One alarm or warning the line shows; `code` is stable, `message` is for a person."""

    code: str
    message: str
    severity: str = "alarm"  # alarm | warning
    since: datetime | None = None


@dataclass(frozen=True)
class LineSnapshot:
    """What MES and SCADA see of the line at one moment; the face publishes what changed."""

    state: PackMLState = PackMLState.IDLE
    batch_id: str = ""
    product: str = ""
    lot: str = ""
    planned: int = 0
    produced: int = 0
    rejected_by_reason: Mapping[str, int] = field(default_factory=dict)
    rate_per_min: float = 0.0
    alarms: Sequence[LineAlarm] = ()

    @property
    def rejected(self) -> int:
        """All rejects of the batch, whatever the reason."""
        return sum(self.rejected_by_reason.values())

    @property
    def progress_percent(self) -> float:
        """Produced as a share of planned, 0 when nothing is planned."""
        return 100.0 * self.produced / self.planned if self.planned > 0 else 0.0


class JobOrderState(IntEnum):
    """Open-SCS JobOrderStateEnum (OPC 30260, ns OPENSCS-SER i=3009)."""

    UNDEFINED = 0
    WAITING = 1
    READY = 2
    LOADED = 3
    RUNNING = 4
    COMPLETED = 5
    ABORTED = 6
    HELD = 7
    SUSPENDED = 8
    CLOSED = 9


class JobStatus(IntEnum):
    """A job command's outcome as an ISA-95 job-control ReturnStatus bit (OPC 10031-4, B.2)."""

    OK = 1 << 0
    UNKNOWN_JOB = 1 << 1
    INVALID_COMMAND = 1 << 2
    INVALID_STATE = 1 << 3
    REJECTED = 1 << 4
    INVALID_REQUEST = 1 << 32


@dataclass(frozen=True)
class JobOrder:
    """A work order handed over by the plant's L3: one batch to run on this line."""

    job_id: str
    product: str
    lot: str
    planned_quantity: int
    produced_on: date | None = None
    expires_on: date | None = None
    comment: str = ""


@dataclass(frozen=True)
class JobResult:
    """What the handler made of a job command; `message` is shown to the calling MES."""

    status: JobStatus = JobStatus.OK
    message: str = ""

    @property
    def ok(self) -> bool:
        """True when the command was accepted."""
        return self.status == JobStatus.OK


@dataclass(frozen=True)
class JobInfo:
    """One job order the line knows, for the JobOrderList the MES reads."""

    job_id: str
    state: JobOrderState


class JobHandler(Protocol):
    """What the line does with job-order commands; called from the server's worker thread."""

    def store_job(self, job: JobOrder) -> JobResult:
        """Keep the job order for later; do not start it."""
        ...

    def start_job(self, job_id: str) -> JobResult:
        """Start a stored job order as soon as the line is ready."""
        ...

    def stop_job(self, job_id: str) -> JobResult:
        """Stop a started job order (the batch is closed as it stands)."""
        ...

    def list_jobs(self) -> Sequence[JobInfo]:
        """The job orders the line holds, with their states."""
        ...


Authenticate = Callable[[str, str], "str | None"]
"""(user, password) -> the user's role, or None when the user or password is wrong."""
