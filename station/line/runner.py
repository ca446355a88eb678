"""The runner: devices → verify → reject → aggregation → store, one loop per line.

One worker thread runs a short tick loop: poll the PLC's triggers, take the printer's
confirmations, keep the printer's queue filled (write-ahead), hand frames to the decoder pool,
decide items in sequence order before their deadline, check case layers, stack cases on pallets,
and group-commit. Blocking decoding runs in executor threads. State machine: see events.RunState.
"""

from __future__ import annotations

import gc
import logging
import os
import queue
import sys
import threading
import time
from collections import deque
from concurrent.futures import Future, ThreadPoolExecutor

from aggregation.levels import Hierarchy
from drivers.errors import DriverError
from station.codes.packs import length_ok
from station.config import Settings
from station.events import (
    Alarm,
    FinishReason,
    LineSignals,
    LineStatus,
    RunState,
)
from station.line.cases import ContainerStation
from station.line.feed import InkjetFeed
from station.line.items import ItemStation
from station.line.pallets import PalletStation
from station.line.parts import FrameSource, LatencyHistogram, LineDevices, ReaderSource, RunStats
from station.line.store import LineStore
from station.store.db import store_failure
from station.store.lifecycle import State

log = logging.getLogger("station.line.runner")


def raise_priority(nice: int) -> bool:
    """Give the calling thread (and the threads it starts later) the nice value `nice`.

    On Linux a nice value belongs to a thread: the line's thread, its decoder pool and the device
    readers it starts get the CPU first, while the UI thread of the same process keeps its own.
    Without the right (not root, no CAP_SYS_NICE) the line runs at normal priority and says so.
    """
    if not nice or not hasattr(os, "setpriority"):
        return False
    try:
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), nice)
    except OSError as exc:
        log.warning(
            "line priority not raised to nice %d (%s): under CPU load from other programs "
            "decisions may come late; run the station as its service (deploy/) or with "
            "CAP_SYS_NICE, or set [line] nice = 0 to silence this",
            nice,
            exc.strerror or exc,
        )
        return False
    return True


GRADES = "ABCDF"


class LineRunner:
    """Runs one batch on one line; commands in (start/pause/resume/stop/finish), events out."""

    def __init__(
        self,
        settings: Settings,
        store: LineStore,
        devices: LineDevices,
        *,
        planned: int,
        signals: LineSignals | None = None,
    ) -> None:
        self.s = settings
        self.store = store
        self.dev = devices
        self.planned = planned
        self.signals = signals or LineSignals()
        self.state = RunState.IDLE
        self.stats = RunStats()
        self.hierarchy = Hierarchy.from_settings(settings.levels)
        shape = settings.shape
        self.shape = shape
        self.item_level = shape.item.level
        self.pallet_level = shape.pallet_level
        # The pallet's children: the level the last container station closes.
        self.case_level = shape.containers[-1].level if shape.containers else None
        self.case_cap = settings.level(self.case_level).capacity if self.case_level else 0
        line = settings.line
        self.trigger_to_kicker_s = (line.trigger_to_camera_mm + line.camera_to_kicker_mm) / (
            line.speed_m_per_s * 1000
        )
        self.margin_s = line.decision_margin_ms / 1000
        self._pool = ThreadPoolExecutor(max_workers=2, thread_name_prefix="decode")
        self._cmd: queue.Queue[str] = queue.Queue()
        self._reads: queue.Queue[str] = queue.Queue()
        self._thread: threading.Thread | None = None
        self._done = threading.Event()
        self._alarms: dict[str, Alarm] = {}
        self._last_flush = 0.0
        self._last_status = 0.0
        self._last_hb = 0.0
        self._rate_window: deque[float] = deque(maxlen=2000)
        self.finish_reason: FinishReason | None = None
        self._finish_requested = False
        # The stations, in the order the items meet them (station/shape.py).
        self.feed = InkjetFeed(self)
        self.items = ItemStation(self)
        self.containers = [ContainerStation(self, step) for step in shape.containers]
        self.pallets = PalletStation(self)

    # -- commands --------------------------------------------------------------------------------
    def start(self) -> None:
        """Start the loop in its worker thread (resuming whatever the store says is open)."""
        self.state = RunState.STARTING
        self._restore()
        # A full collection walks every tracked object with all threads stopped: tens of ms with
        # SQLAlchemy, pymodbus and OpenCV loaded, 90-380 ms with the UI's ~160k objects, longer
        # than an item's margin. Frozen objects are skipped by later collections; the run's own
        # garbage is still collected. (The one place: demo, `station run` and the UI all start
        # the line here.)
        gc.collect()
        gc.freeze()
        # The line thread waits on sockets a dozen times a tick; each time it wants the GIL back
        # it may wait a whole switch interval per busy thread (decoders, a UI, simulators).
        # With Python's 5 ms the printer ran dry at 2,000/min on a saturated 2-core machine.
        sys.setswitchinterval(min(sys.getswitchinterval(), 0.001))
        self._thread = threading.Thread(target=self._run, name="line", daemon=True)
        self._thread.start()

    def pause(self) -> None:
        """Request a pause: a controlled stop of the infeed (PLC line stop, amber light).

        Items already past the photocell are printed, verified and kicked or passed as usual, so a
        pause rejects nothing that is good; resume lifts the line stop. (Pausing only the station
        while the conveyor ran on kicked every item that came by as a "late decision".)
        """
        self._cmd.put("pause")

    def resume(self) -> None:
        """Request a resume after pause or a cleared fault."""
        self._cmd.put("resume")

    def stop(self) -> None:
        """Request a stop; in-flight items are decided first."""
        self._cmd.put("stop")

    def finish(self) -> None:
        """Batch end: decide what is in flight, close the open pallet as partial, then stop."""
        self._cmd.put("finish")

    def wait(self, timeout_s: float | None = None) -> bool:
        """Wait until the loop has ended."""
        return self._done.wait(timeout_s)

    def status(self) -> LineStatus:
        """A frozen snapshot."""
        st = self.stats
        now = time.monotonic()
        # Screens and `station run` ask from other threads while the line appends: copy first
        # (list() of a deque is one step under the GIL; iterating it raised "mutated").
        recent = [t for t in list(self._rate_window) if now - t < 10]
        rate = len(recent) * 6.0 if recent else 0.0
        return LineStatus(
            state=self.state,
            batch_id=self.store.batch_id,
            planned=self.planned,
            triggered=st.triggered,
            printed=st.printed,
            verified=st.verified,
            rejected=st.rejected,
            cases=st.cases,
            pallets=st.pallets,
            boxes=st.boxes,
            rate_per_min=rate,
            rejects_by_reason=dict(st.reasons),
            alarms=tuple(self._alarms.values()),
            late=st.late,
        )

    # -- resume ----------------------------------------------------------------------------------
    def _restore(self) -> None:
        """After a crash: unacknowledged codes become void, unverified ones rejected."""
        st = self.store
        for row in st.in_state(None, State.RESERVED):
            st.move(row, State.VOID, "restart: sent, never acknowledged")
        for c in self.containers:
            c.restore()
        for row in st.in_state(None, State.PRINTED):
            if row.level == self.item_level:
                st.move(row, State.REJECTED, "not_verified")
                st.set_fields(row, reason="not_verified")
            elif row.level == self.pallet_level:
                st.move(row, State.VERIFIED, "restart: pallet label printed")
        st.flush()
        self.pallets.restore()

    # -- the loop --------------------------------------------------------------------------------
    def _run(self) -> None:
        try:
            raise_priority(self.s.line.nice)  # before the threads it starts: they inherit it
            self._connect()
            # A run that ended paused or faulted left the line stop on: this run lifts it.
            self.dev.plc.set_line_stop(False)
            self.state = RunState.RUNNING
            self._light()
            while True:
                if not self._commands():
                    break
                self._tick()
                if self._finish_requested and self._drained():
                    self.items.finish()  # the last codes printed and never read
                    self.pallets.close_partial()
                    for c in self.containers:
                        c.finish()
                    self.store.flush()
                    self.finish_reason = FinishReason.COMPLETED
                    break
        except Exception as exc:  # the line must stop safely whatever happened
            self._failed(exc)
            self.finish_reason = FinishReason.FAULTED
        finally:
            try:
                self.store.flush()
            except Exception as exc:  # the store is what failed: what it has is consistent
                log.error(
                    "%d queued change(s) not written (%s); a restart recovers them as after a "
                    "power cut",
                    self.store.pending,
                    exc,
                )
            finally:
                self.store.close_reader()
                for src in self.items.item_frames:
                    if isinstance(src, ReaderSource):
                        src.close()
                self.state = RunState.IDLE
                gc.unfreeze()  # back to normal collection once the line is still
                self._pool.shutdown(wait=False, cancel_futures=True)
                self.signals.status_changed.emit(self.status())
                self.signals.run_finished.emit(str(self.finish_reason or FinishReason.STOPPED))
                self._done.set()

    def _failed(self, exc: Exception) -> None:
        """The loop cannot go on: stop the line (line stop, red) with what happened and what to do.

        A store that cannot be written (disk full, read-only, I/O error) is said as such: every
        transaction before the failed one is kept, the failed one rolled back whole, so starting
        the batch again resumes as after a power cut. Anything else is an internal error.
        """
        failure = store_failure(exc, self.store.engine.url.render_as_string(hide_password=True))
        if failure is not None:
            log.error("line stopped: %s (%s)", failure.message, failure.action)
            self._fault(
                "store",
                failure.message,
                failure.action,
                # spelled out: the screens translate by these keys (tests/ui/test_alarm_texts.py)
                "store_full"
                if failure.key == "store_full"
                else "store_read_only"
                if failure.key == "store_read_only"
                else "store_io",
                (("where", failure.where), ("detail", str(getattr(exc, "orig", exc)))),
            )
            return
        log.exception("line loop failed")
        error = f"{type(exc).__name__}: {exc}"
        self._fault(
            "line", error, "see the log; restart the run", "line_failed", (("detail", error),)
        )

    def _connect(self) -> None:
        d = self.dev
        d.plc.connect()
        if d.inkjet is not None:
            d.inkjet.connect()
            d.inkjet.select_job(self.s.devices.inkjet.job)
        for dev in (d.case_labeler, d.pallet_labeler, *d.labelers.values()):
            if dev is not None:
                dev.connect()
        if d.checkweigher is not None:
            d.checkweigher.connect()
        for src in self.items.item_frames:
            if isinstance(src, ReaderSource):
                src.connect()  # an item reader's messages are read by its own thread
        if d.pallet_reader is not None:
            d.pallet_reader.connect()
            threading.Thread(target=self._reader_loop, name="pallet-reader", daemon=True).start()

    def _reader_loop(self) -> None:
        reader = self.dev.pallet_reader
        while not self._done.is_set():
            try:
                res = reader.read(timeout_s=0.2)
            except DriverError:
                continue
            for code in res.codes:
                self._reads.put(code)

    def _commands(self) -> bool:
        while True:
            try:
                cmd = self._cmd.get_nowait()
            except queue.Empty:
                return True
            if cmd == "pause" and self.state == RunState.RUNNING:
                self.state = RunState.PAUSED
                self._light()
                try:
                    self.dev.plc.set_line_stop(True)
                except DriverError as exc:
                    self._fault(
                        "plc",
                        f"line stop for the pause not set: {exc}",
                        "stop the conveyor by hand and check the PLC",
                        "plc_fault",
                        (("detail", str(exc)),),
                    )
            elif cmd == "resume" and self.state in (RunState.PAUSED, RunState.FAULTED):
                self._alarms.clear()
                if self.state == RunState.FAULTED:
                    self.state = RunState.STARTING
                    self.feed.recover()
                    if self.state == RunState.FAULTED:
                        continue
                self.state = RunState.RUNNING
                self.dev.plc.set_line_stop(False)
                self._light()
            elif cmd == "stop":
                self.state = RunState.STOPPING
                self.finish_reason = FinishReason.STOPPED
                return False
            elif cmd == "finish":
                self._finish_requested = True

    def _tick(self) -> None:
        now = time.monotonic()
        self._poll_triggers(now)
        self.feed.poll()
        self.feed.fill()
        self.items.take_frames(now)
        self.items.decide(now)
        for c in self.containers:
            c.tick()
        self.pallets.tick()
        self.pallets.ops(now)  # pallet operations: screens, other processes (line/pallets.py)
        if now - self._last_flush > 0.02 or self.store.pending > 500:
            self.store.flush()
            self._last_flush = now
        if now - self._last_hb > 0.5:
            self._last_hb = now
            try:
                self.dev.plc.heartbeat()
            except DriverError as exc:
                self._fault(
                    "plc",
                    str(exc),
                    "check the PLC and its network cable",
                    "plc_fault",
                    (("detail", str(exc)),),
                )
        if now - self._last_status > self.s.line.status_interval_ms / 1000:
            self._last_status = now
            self.signals.status_changed.emit(self.status())
        # A tick every ~2 ms: fast enough for 100 items/s, and the decoder threads get the CPU.
        spare = 0.002 - (time.monotonic() - now)
        if spare > 0:
            time.sleep(spare)

    def _drained(self) -> bool:
        return all(c.idle for c in self.containers) and self.items.idle and self._reads.empty()

    # -- items -----------------------------------------------------------------------------------
    def _poll_triggers(self, now: float) -> None:
        try:
            triggers = self.dev.plc.poll_triggers()
        except DriverError as exc:
            lost = getattr(exc, "triggers", None)
            self._fault(
                "plc",
                str(exc),
                "items passed unseen: clear the line up to the camera",
                "triggers_lost",
                (("detail", str(exc)),),
            )
            triggers = lost or []
        self.items.triggered([t.seq for t in triggers], now)

    def _alarm(self, alarm: Alarm) -> None:
        """Keep the alarm; tell the screens when it is new or its code now means something else.

        Warnings that repeat per item (every late decision) only refresh the snapshot, so the
        banner is not flooded; a fault that changed (ink out, then head fault; a PLC timeout, then
        lost triggers) is raised again, or the banner would keep showing the first one.
        """
        before = self._alarms.get(alarm.code)
        self._alarms[alarm.code] = alarm
        if (
            before is None
            or before.key != alarm.key
            or (alarm.severity == "alarm" and before.message != alarm.message)
        ):
            log.warning("%s: %s (%s)", alarm.device, alarm.message, alarm.action)
            self.signals.alarm_raised.emit(alarm)

    def _fault(
        self,
        device: str,
        message: str,
        action: str,
        key: str = "",
        args: tuple[tuple[str, str], ...] = (),
    ) -> None:
        self._alarm(Alarm(f"fault:{device}", device, message, action, key=key, args=args))
        if self.state in (RunState.RUNNING, RunState.PAUSED, RunState.STARTING):
            self.state = RunState.FAULTED
        self._light()

    def _light(self) -> None:
        from drivers.plc.base import StackLight

        light = {
            RunState.RUNNING: StackLight.GREEN,
            RunState.PAUSED: StackLight.AMBER,
            RunState.FAULTED: StackLight.RED,
        }.get(self.state, StackLight.OFF)
        try:
            self.dev.plc.set_stack_light(light, buzzer=self.state == RunState.FAULTED)
            if self.state == RunState.FAULTED:
                self.dev.plc.set_line_stop(True)
        except DriverError as exc:
            log.error("stack light / line stop not set: %s", exc)

    def acknowledge(self, code: str) -> None:
        """The operator saw an alarm; warnings go away, faults stay until resume."""
        a = self._alarms.get(code)
        if a is not None and a.severity == "warning":
            del self._alarms[code]
            self.signals.alarm_cleared.emit(code)

    def snapshot_latencies(self) -> LatencyHistogram:
        """Trigger → decision latencies (ms) of verified items, as a fixed-size histogram."""
        return self.stats.latencies_ms

    def pallet_command(self, op: str, args: dict, user: str) -> Future:
        """A pallet operation carried out in the line's thread (station/line/pallets.py)."""
        return self.pallets.pallet_command(op, args, user)

    def _length_ok(self, level: str, code: str) -> bool:
        return length_ok(self.s, level, code)

    lot = ""

    def with_lot(self, lot: str) -> LineRunner:
        """Set the lot printed on labels."""
        self.lot = lot
        return self


__all__ = ["FrameSource", "LineDevices", "LineRunner"]
