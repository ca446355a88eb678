"""The operator's view of the line: batches, run state, counters, alarms, device lights."""

from __future__ import annotations

import threading

from psygnal import Signal

from station.devices import ROLES
from station.events import Alarm, FrameView, LineStatus, RunState
from station.store import audit
from ui.viewmodels import Runner, run_now
from ui.viewmodels.reads import ReadLog

# Device lights on the status bar, keyed like Alarm.device; `line` covers the runner itself.
DEVICE_KEYS: dict[str, tuple[str, ...]] = {r.key: (r.key, *r.aliases) for r in ROLES if r.in_line}
ACTIVE = (RunState.STARTING, RunState.RUNNING, RunState.PAUSED, RunState.FAULTED)


class LineViewModel:
    """State of the operator screen; every command goes to the LineController."""

    status_changed = Signal(object)  # LineStatus
    alarms_changed = Signal()
    batches_changed = Signal()
    selection_changed = Signal(object)  # BatchView | None
    message = Signal(str, str)  # kind (info|error), text
    close_planned = Signal(str, object)  # batch id, [OpenContainer]
    batch_closed = Signal(object)  # summary dict
    rejects_reset = Signal()  # the operator reset the reject counter (audited)
    stopped_safely = Signal()  # the line stopped after safe_stop (the window may close)

    def __init__(self, controller, *, run: Runner = run_now) -> None:
        self.controller = controller
        self.run = run
        self.status: LineStatus = controller.status()
        self.alarms: dict[str, Alarm] = {}
        self.batches: list = []
        self.selected = None
        self.last_summary: dict | None = None
        self._frame: FrameView | None = None
        self._stop_requested = False
        self._frame_lock = threading.Lock()
        self.reads = ReadLog(controller.settings)
        self.reads.escalated.connect(self.on_alarm_raised)
        # The reject counter shows rejects since the operator's last reset (audited).
        self.reject_base: tuple[str | None, int, dict[str, int]] = (None, 0, {})

    # -- events from the line (called on the UI thread by the bridge) -------------------------
    def on_status(self, status: LineStatus) -> None:
        """A new snapshot from the runner."""
        changed = status.state != self.status.state
        self.status = status
        for a in status.alarms:
            self.alarms.setdefault(a.code, a)
        self.status_changed.emit(status)
        if changed and status.state in (RunState.RUNNING, RunState.IDLE):
            self.refresh_batches()  # the batch's own state moved with the line

    def shown_rejects(self) -> tuple[int, dict[str, int]]:
        """Rejects and rejects by reason since the last reset (of this batch)."""
        batch, n, by = self.reject_base
        s = self.status
        if batch != s.batch_id:
            return s.rejected, dict(s.rejects_by_reason)
        out = {k: v - by.get(k, 0) for k, v in s.rejects_by_reason.items()}
        return max(0, s.rejected - n), {k: v for k, v in out.items() if v > 0}

    def reset_rejects(self, user: str) -> None:
        """Set the reject counter to zero; the reset is audited with the user and the count."""
        s = self.status
        count, _ = self.shown_rejects()
        self.reject_base = (s.batch_id, s.rejected, dict(s.rejects_by_reason))
        engine = self.controller.engine

        def work() -> None:
            change = audit.Change(
                "counter.reset", "rejected", str(count), "0", "reject counter reset", s.batch_id
            )
            with engine.begin() as conn:
                audit.record(conn, user, [change])

        self.run(work, lambda _: self.rejects_reset.emit(), self._error("reset"))
        self.status_changed.emit(self.status)

    def on_alarm_raised(self, alarm: Alarm) -> None:
        """Show an alarm until the operator acknowledges it."""
        self.alarms[alarm.code] = alarm
        self.alarms_changed.emit()

    def on_alarm_cleared(self, code: str) -> None:
        """An alarm went away (acknowledged or cleared by the line)."""
        if self.alarms.pop(code, None) is not None:
            self.alarms_changed.emit()

    def on_batch_finished(self, summary: dict) -> None:
        """The controller finished (and closed) a batch."""
        self.last_summary = summary
        self.message.emit("info", f"batch {summary.get('batch', '')}")
        self.refresh_batches()

    def on_command_failed(self, command: str, text: str) -> None:
        """A command the controller could not carry out."""
        if self._stop_requested and "the line stopped" in text:
            self._stop_requested = False  # the run ended because the operator stopped it
            self.message.emit("info", "stopped")
            return
        self.message.emit("error", f"{command}: {text}")

    def on_run_finished(self, reason: str) -> None:
        """The run ended: refresh the snapshot and the batch list."""
        self.on_status(self.controller.status())
        self.refresh_batches()

    # -- frames: the runner thread writes, a UI timer reads the latest (older ones dropped) --
    def put_frame(self, view: FrameView) -> None:
        """Keep only the newest decoded frame (any thread)."""
        with self._frame_lock:
            self._frame = view

    def take_frame(self) -> FrameView | None:
        """The newest frame since the last call, or None."""
        with self._frame_lock:
            view, self._frame = self._frame, None
        return view

    # -- batches ------------------------------------------------------------------------------
    def refresh_batches(self) -> None:
        """Reload released batches off the UI thread."""
        self.run(self.controller.released_batches, self._got_batches, self._error("batches"))

    def _got_batches(self, rows: list) -> None:
        self.batches = rows
        ids = [b.id for b in rows]
        running = self.status.batch_id if self.status.state in ACTIVE else None
        want = running or (self.selected.id if self.selected else None)
        if want not in ids:
            want = ids[0] if ids else None
        self.batches_changed.emit()
        self.select(want)

    def select(self, batch_id: str | None) -> None:
        """Choose the batch the buttons act on."""
        found = next((b for b in self.batches if b.id == batch_id), None)
        if found is not self.selected:
            self.selected = found
            self.selection_changed.emit(found)

    # -- commands -----------------------------------------------------------------------------
    @property
    def running(self) -> bool:
        """A batch is on the line (running, paused or faulted)."""
        return self.controller.running or self.status.state in ACTIVE

    def start(self) -> None:
        """Start the selected batch (or resume a paused line)."""
        if self.status.state in (RunState.PAUSED, RunState.FAULTED):
            self.controller.resume()
            return
        if self.selected is None:
            self.message.emit("error", "no batch")
            return
        self._stop_requested = False
        batch_id = self.selected.id
        self.run(lambda: self.controller.start(batch_id), lambda _: None, self._error("start"))
        self.status = LineStatus(
            state=RunState.STARTING, batch_id=self.selected.id, planned=self.selected.quantity
        )
        self.status_changed.emit(self.status)

    def pause(self) -> None:
        """Pause the line."""
        self.controller.pause()

    def safe_stop(self) -> None:
        """Leave the line safe (the window closes): pause (PLC line stop), then stop; waits off
        the UI thread and emits stopped_safely when the run has ended."""
        self._stop_requested = True
        self.controller.pause()
        self.controller.stop()
        self.run(
            lambda: self.controller.wait(60),
            lambda _: self.stopped_safely.emit(),
            lambda _exc: self.stopped_safely.emit(),
        )

    def stop(self) -> None:
        """Stop the line; the batch stays open."""
        self._stop_requested = True
        self.controller.stop()

    def acknowledge(self, code: str) -> None:
        """The operator saw the alarm."""
        self.controller.acknowledge(code)
        self.on_alarm_cleared(code)

    def plan_close(self) -> None:
        """Ask what closing the selected batch will close as partial; emits close_planned."""
        b = self.selected
        if b is None:
            return
        self.run(
            lambda: self.controller.open_containers(b.id),
            lambda rows: self.close_planned.emit(b.id, rows),
            self._error("close"),
        )

    def close_batch(self, batch_id: str) -> None:
        """Close a batch that is not running (after the operator confirmed)."""
        self.run(lambda: self.controller.close_batch(batch_id), self._closed, self._error("close"))

    def _closed(self, summary: dict) -> None:
        self.batch_closed.emit(summary)
        self.refresh_batches()

    def _error(self, what: str):
        return lambda exc: self.message.emit("error", f"{what}: {exc}")

    # -- derived ------------------------------------------------------------------------------
    def device_lights(self, configured: list[str]) -> dict[str, str]:
        """Each configured device → 'ok' | 'warning' | 'alarm' | 'off' (line idle)."""
        idle = self.status.state == RunState.IDLE
        out: dict[str, str] = {}
        for dev in configured:
            names = DEVICE_KEYS.get(dev, (dev,))
            hit = [a for a in self.alarms.values() if a.device in names]
            if any(a.severity == "alarm" for a in hit):
                out[dev] = "alarm"
            elif hit:
                out[dev] = "warning"
            else:
                out[dev] = "off" if idle else "ok"
        return out

    def sorted_alarms(self) -> list[Alarm]:
        """Alarms first, then warnings, newest last."""
        return sorted(self.alarms.values(), key=lambda a: a.severity != "alarm")
