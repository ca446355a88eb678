"""Typed events of a running line; the UI, the log and the world subscribe (psygnal, no Qt)."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

from psygnal import Signal


class RunState(StrEnum):
    """The runner's states.

    ```
    idle → starting → running ⇄ paused
                        │  ↘ faulted → (clear) → running
                        └→ stopping → idle
    ```
    """

    IDLE = "idle"
    STARTING = "starting"
    RUNNING = "running"
    PAUSED = "paused"
    STOPPING = "stopping"
    FAULTED = "faulted"


MOVING = frozenset({RunState.RUNNING, RunState.PAUSED})
"""States in which items on the conveyor are handled as usual (a pause stops only the infeed)."""


class FinishReason(StrEnum):
    """Why a run ended."""

    COMPLETED = "completed"
    STOPPED = "stopped"
    FAULTED = "faulted"


@dataclass(frozen=True)
class Alarm:
    """Something the operator must see: which device, what happened, what to do.

    `message` and `action` are English for the log, the CLI and the plant status. `key` names the
    message for screens that show it in another language; `args` are the values it needs
    (("seq", "42"), ("detail", what the driver said), ...), kept as a tuple so Alarm stays hashable.
    """

    code: str
    device: str
    message: str
    action: str
    severity: str = "alarm"  # alarm | warning
    key: str = ""
    args: tuple[tuple[str, str], ...] = ()


def said(alarms) -> str:
    """Alarms in one line for the CLI and the log: device: what happened (what to do); …"""
    return "; ".join(f"{a.device}: {a.message} ({a.action})" for a in alarms)


@dataclass(frozen=True)
class LineStatus:
    """A frozen snapshot of the line for screens and the status bar."""

    state: RunState = RunState.IDLE
    batch_id: str | None = None
    planned: int = 0
    triggered: int = 0
    printed: int = 0
    verified: int = 0
    rejected: int = 0
    cases: int = 0
    pallets: int = 0
    boxes: int = 0
    rate_per_min: float = 0.0
    rejects_by_reason: dict[str, int] = field(default_factory=dict)
    alarms: tuple[Alarm, ...] = ()
    late: int = 0


@dataclass(frozen=True)
class FrameView:
    """A decoded frame for the live camera view: codes with corners and whether each was good."""

    seq: int | None
    frame: object
    codes: tuple[tuple[str, tuple[tuple[int, int], ...], bool], ...]


class LineSignals:
    """The signals a line emits (past-tense names)."""

    item_printed = Signal(int, str)  # seq, code
    item_verified = Signal(int, str)  # seq, code
    item_rejected = Signal(object, object, str)  # seq | None, code | None, reason
    container_closed = Signal(str, str, int, bool)  # level, code, children, partial
    # A box or case at its gate: slot = (container number, level), then its code / what was wrong.
    case_rejected = Signal(object, object, object)  # slot, label, ((reason, code), ...)
    case_accepted = Signal(object, str)  # slot, container code
    case_palletized = Signal(str, str)  # case code, pallet code
    pallet_changed = Signal(str, object)  # operation (close|hold|resume|clear|merge), result dict
    alarm_raised = Signal(object)  # Alarm
    alarm_cleared = Signal(str)  # alarm code
    status_changed = Signal(object)  # LineStatus
    frame_decoded = Signal(object)  # FrameView
    run_finished = Signal(str)  # FinishReason
