"""The runner: devices → verify → reject → aggregation → store, one loop per line.

One worker thread runs a short tick loop: poll the PLC's triggers, take the printer's
confirmations, keep the printer's queue filled (write-ahead), hand frames to the decoder pool,
decide items in sequence order before their deadline, check case layers, stack cases on pallets,
and group-commit. Blocking decoding runs in executor threads. State machine: see events.RunState.
"""

from __future__ import annotations

import gc
import logging
import queue
import sys
import threading
import time
from collections import Counter, deque
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, Protocol

from aggregation.layer import check_layer
from aggregation.levels import Hierarchy
from aggregation.packer import ContainerClosed, Linked, Packer
from aggregation.reasons import RejectReason as R
from drivers.errors import DriverError
from drivers.plc.base import CASE_ACCEPTED, CASE_LABEL_REFUSED, CASE_REJECTED
from station.config import Settings
from station.events import Alarm, FinishReason, FrameView, LineSignals, LineStatus, RunState
from station.lifecycle import State
from station.linestore import CodeRow, LineStore
from station.secrets_mask import mask

log = logging.getLogger("station.line")
GRADES = "ABCDF"


class FrameSource(Protocol):
    """Frames tagged with the item's PLC sequence number (or a case slot id)."""

    def get(self, timeout_s: float) -> tuple[Any, Any] | None: ...


@dataclass
class LineDevices:
    """The concrete devices of one line, chosen by the composition root."""

    plc: Any
    inkjet: Any | None
    decoder: Any
    verify_frames: FrameSource
    case_frames: FrameSource | None = None
    case_labeler: Any | None = None
    pallet_labeler: Any | None = None
    pallet_reader: Any | None = None

    @classmethod
    def of(cls, devs: dict[str, Any], verify: FrameSource, case: FrameSource | None) -> LineDevices:
        """From build.open_devices' dict and the two cameras' frame sources."""
        return cls(
            plc=devs["plc"],
            inkjet=devs.get("inkjet"),
            decoder=devs["decoder"],
            verify_frames=verify,
            case_frames=case,
            case_labeler=devs.get("case_labeler"),
            pallet_labeler=devs.get("pallet_labeler"),
            pallet_reader=devs.get("reader"),
        )


@dataclass
class Item:
    """One item on the conveyor between trigger and decision."""

    seq: int
    deadline: float
    t0: float
    future: Future | None = None
    frame: Any = None


@dataclass
class Pending:
    """A case frame being decoded."""

    slot: Any
    final: bool
    future: Future


@dataclass
class RunStats:
    """Counters of the current run."""

    triggered: int = 0
    printed: int = 0
    verified: int = 0
    rejected: int = 0
    cases: int = 0
    pallets: int = 0
    late: int = 0
    reasons: Counter = field(default_factory=Counter)
    latencies_ms: list[float] = field(default_factory=list)


class LineRunner:
    """Runs one batch on one line; commands in (start/pause/resume/stop/finish), events out."""

    LABELS_AHEAD = 2

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
        names = settings.level_names
        self.item_level = settings.line.printed_level
        self.pair_level = "inner" if "inner" in names and self.item_level == "outer" else None
        self.case_level = "case" if "case" in names else None
        self.pallet_level = "pallet" if "pallet" in names else None
        self.case_cap = settings.level("case").capacity if self.case_level else 0
        self.min_grade = (
            settings.devices.verify_camera.min_grade if settings.devices.verify_camera else "F"
        )
        line = settings.line
        self.trigger_to_kicker_s = (line.trigger_to_camera_mm + line.camera_to_kicker_mm) / (
            line.speed_m_per_s * 1000
        )
        self.margin_s = line.decision_margin_ms / 1000
        self.depth = settings.devices.inkjet.depth if settings.devices.inkjet else 0
        self._inflight: dict[str, CodeRow] = {}  # reserved or printed item codes, by text
        self._sent: deque[CodeRow] = deque()  # sent to the printer, not yet confirmed
        self._printed: deque[CodeRow] = deque()  # confirmed printed, not yet resolved by a read
        self._codeless: deque[tuple[int, str]] = deque()  # rejected items whose code is unknown
        self._items: deque[Item] = deque()
        self._cases: deque[Pending] = deque()
        self._labels: deque[CodeRow] = deque()  # printed case labels not yet seen on a case
        self._pool = ThreadPoolExecutor(max_workers=2, thread_name_prefix="decode")
        self._cmd: queue.Queue[str] = queue.Queue()
        self._reads: queue.Queue[str] = queue.Queue()
        self._thread: threading.Thread | None = None
        self._done = threading.Event()
        self._alarms: dict[str, Alarm] = {}
        self._last_flush = 0.0
        self._last_status = 0.0
        self._last_hb = 0.0
        self._missed = 0
        self._rate_window: deque[float] = deque(maxlen=2000)
        self.pallet_packer: Packer | None = None
        self._open_pallet: CodeRow | None = None
        self._open_pallet_children: list[CodeRow] = []
        self.finish_reason: FinishReason | None = None
        self._finish_requested = False

    # -- commands --------------------------------------------------------------------------------
    def start(self) -> None:
        """Start the loop in its worker thread (resuming whatever the store says is open)."""
        self.state = RunState.STARTING
        self._restore()
        # A full collection walks every tracked object with all threads stopped: tens of ms with
        # SQLAlchemy, pymodbus and OpenCV loaded, longer than an item's margin. Frozen objects
        # are skipped by later collections; the run's own garbage is still collected.
        gc.collect()
        gc.freeze()
        # The line thread waits on sockets a dozen times a tick; each time it wants the GIL back
        # it may wait a whole switch interval per busy thread (decoders, a UI, simulators).
        # With Python's 5 ms the printer ran dry at 2,000/min on a saturated 2-core machine.
        sys.setswitchinterval(min(sys.getswitchinterval(), 0.001))
        self._thread = threading.Thread(target=self._run, name="line", daemon=True)
        self._thread.start()

    def pause(self) -> None:
        """Request a pause (the printer queue is kept; new items are rejected fail-safe)."""
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
        recent = [t for t in self._rate_window if now - t < 10]
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
        for row in st.in_state(None, State.PRINTED):
            if row.level == self.case_level and not st.children_of(row):
                st.move(row, State.VOID, "restart: label printed, never applied")
            elif row.level == self.item_level:
                st.move(row, State.REJECTED, "not_verified")
                st.set_fields(row, reason="not_verified")
            elif row.level == self.pallet_level:
                st.move(row, State.VERIFIED, "restart: pallet label printed")
        st.flush()
        if self.pallet_level and self.case_level:
            h = Hierarchy.of(self.case_level, (self.pallet_level, self.s.level("pallet").capacity))
            self.pallet_packer = Packer(h, self._next_pallet_code, self.store.batch_id)
            for row in st.open_containers():
                if row.level == self.pallet_level:
                    kids = st.children_of(row)
                    self._open_pallet = row
                    self._open_pallet_children = list(st.find_many(kids).values())
                    self.pallet_packer.restore({self.pallet_level: (row.code, kids)})

    # -- the loop --------------------------------------------------------------------------------
    def _run(self) -> None:
        try:
            self._connect()
            self.state = RunState.RUNNING
            self._light()
            while True:
                if not self._commands():
                    break
                self._tick()
                if self._finish_requested and self._drained():
                    self._close_partial()
                    self.finish_reason = FinishReason.COMPLETED
                    break
        except Exception as exc:  # the line must stop safely whatever happened
            log.exception("line loop failed")
            self._fault("line", f"{type(exc).__name__}: {exc}", "see the log; restart the run")
            self.finish_reason = FinishReason.FAULTED
        finally:
            try:
                self.store.flush()
            finally:
                self.state = RunState.IDLE
                gc.unfreeze()  # back to normal collection once the line is still
                self._pool.shutdown(wait=False, cancel_futures=True)
                self.signals.status_changed.emit(self.status())
                self.signals.run_finished.emit(str(self.finish_reason or FinishReason.STOPPED))
                self._done.set()

    def _connect(self) -> None:
        d = self.dev
        d.plc.connect()
        if d.inkjet is not None:
            d.inkjet.connect()
            d.inkjet.select_job(self.s.devices.inkjet.job)
        for dev in (d.case_labeler, d.pallet_labeler):
            if dev is not None:
                dev.connect()
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
            elif cmd == "resume" and self.state in (RunState.PAUSED, RunState.FAULTED):
                self._alarms.clear()
                if self.state == RunState.FAULTED:
                    self.state = RunState.STARTING
                    self._recover_printer()
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
        self._poll_printer()
        self._feed_printer()
        self._take_frames(now)
        self._decide(now)
        self._cases_tick()
        self._pallet_tick()
        if now - self._last_flush > 0.02 or self.store.pending > 500:
            self.store.flush()
            self._last_flush = now
        if now - self._last_hb > 0.5:
            self._last_hb = now
            try:
                self.dev.plc.heartbeat()
            except DriverError as exc:
                self._fault("plc", str(exc), "check the PLC and its network cable")
        if now - self._last_status > self.s.line.status_interval_ms / 1000:
            self._last_status = now
            self.signals.status_changed.emit(self.status())
        # A tick every ~2 ms: fast enough for 100 items/s, and the decoder threads get the CPU.
        spare = 0.002 - (time.monotonic() - now)
        if spare > 0:
            time.sleep(spare)

    def _drained(self) -> bool:
        return not self._items and not self._cases and self._reads.empty()

    # -- items -----------------------------------------------------------------------------------
    def _poll_triggers(self, now: float) -> None:
        try:
            triggers = self.dev.plc.poll_triggers()
        except DriverError as exc:
            lost = getattr(exc, "triggers", None)
            self._fault("plc", str(exc), "items passed unseen: clear the line up to the camera")
            triggers = lost or []
        for t in triggers:
            self.stats.triggered += 1
            self._items.append(Item(t.seq, now + self.trigger_to_kicker_s - self.margin_s, now))

    def _poll_printer(self) -> None:
        ink = self.dev.inkjet
        if ink is None:
            return
        try:
            done = ink.confirmations(0.0)
        except DriverError as exc:
            self._printer_lost(exc)
            return
        missed = getattr(ink, "missed_triggers", 0)
        if missed != self._missed:
            self._missed = missed
            self._printer_missed(ink)
        for text in done:
            row = self._inflight.get(text)
            if row is None:
                continue
            if self._sent and self._sent[0] is row:
                self._sent.popleft()
            else:
                try:
                    self._sent.remove(row)
                except ValueError:
                    pass
            if row.state == State.RESERVED.value:
                self.store.move(row, State.PRINTED)
                self._printed.append(row)
                self.stats.printed += 1

    def _printer_missed(self, ink) -> None:
        """The photocell fired with nothing printed: a printer fault, or a starved queue."""
        try:
            st = ink.status()
        except DriverError as exc:
            self._printer_lost(exc)
            return
        if st.faults and not st.ready:
            self._printer_lost(
                DriverError(ink.name, ink.url, "printer fault: " + ", ".join(st.faults))
            )
        else:
            self._alarm(
                Alarm(
                    "starved",
                    "inkjet",
                    "an item passed the printer with nothing queued",
                    "the station fed the printer too late: slow the line",
                    "warning",
                )
            )

    def _feed_printer(self) -> None:
        ink = self.dev.inkjet
        if ink is None or self.state != RunState.RUNNING or self._finish_requested:
            return
        room = self.depth - len(self._sent)
        # Refill in twos once the queue has room: half the commits, the same write-ahead bound.
        if room < min(2, self.depth):
            return
        rows = self.store.reserve(self.item_level, room)  # committed before the bytes leave
        for row in rows:
            try:
                ink.send(row.code)
            except DriverError as exc:
                # Nothing sent after this point; what was sent stays reserved → void on restart.
                for rest in rows[rows.index(row) :]:
                    self.store.move(rest, State.VOID, "printer refused")
                self._printer_lost(exc)
                return
            self._inflight[row.code] = row
            self._sent.append(row)

    def _printer_lost(self, exc: Exception) -> None:
        ink = self.dev.inkjet
        maybe = set(ink.in_flight()) if ink is not None else set()
        for row in list(self._sent):
            if row.code in maybe or row.state == State.RESERVED.value:
                self.store.move(row, State.VOID, "printer link lost: fate unknown")
                self._inflight.pop(row.code, None)
        self._sent.clear()
        self.store.flush()
        self._fault(
            "inkjet", str(exc), "check the printer (ink, head, cable), then clear the fault"
        )

    def _recover_printer(self) -> None:
        """Before printing again: reconnect, which empties the printer's queue of voided codes."""
        ink = self.dev.inkjet
        if ink is None:
            return
        try:
            ink.close()
            ink.connect()
            ink.select_job(self.s.devices.inkjet.job)
        except DriverError as exc:
            self._fault("inkjet", str(exc), "check the printer and its cable, then clear")

    def _take_frames(self, now: float) -> None:
        src = self.dev.verify_frames
        while True:
            try:
                got = src.get(0.0)
            except DriverError as exc:
                self._fault("verify_camera", str(exc), "check the camera, its cable and light")
                return
            if got is None:
                return
            seq, frame = got
            if seq is None:  # an untagged camera: frames come in trigger order
                item = next((i for i in self._items if i.future is None), None)
            else:
                item = next((i for i in self._items if i.seq == seq), None)
            if item is None:
                continue  # frame of an item already decided late
            n = 2 if self.pair_level else 1
            item.frame = frame
            item.t0 = now  # latency counts from the camera's frame to the decision
            item.future = self._pool.submit(self.dev.decoder.decode, frame, n)

    def _decide(self, now: float) -> None:
        while self._items:
            item = self._items[0]
            if item.future is not None and item.future.done():
                self._items.popleft()
                if time.monotonic() > item.deadline:
                    self._late(item)
                else:
                    self._verdict(item, item.future.result())
                continue
            if now > item.deadline or self.state != RunState.RUNNING:
                self._items.popleft()
                self._late(item)
                continue
            return

    def _late(self, item: Item) -> None:
        self.stats.late += 1
        self._reject(item.seq, None, R.LATE_DECISION, None)
        self._alarm(
            Alarm(
                "late",
                "line",
                f"item {item.seq}: no decision before its deadline",
                "slow the line or check the camera",
                "warning",
            )
        )

    def _verdict(self, item: Item, decoded: list) -> None:
        seq = item.seq
        texts = [d.text for d in decoded]
        outer = next((t for t in texts if t in self._inflight), None)
        known = (
            self.store.find_many([t for t in texts if t != outer])
            if len(texts) > (1 if outer else 0)
            else {}
        )
        inner_row = next((r for r in known.values() if r.level == self.pair_level), None)
        if outer is None:
            other = next(
                (known[t] for t in texts if t in known and known[t].level == self.item_level), None
            )
            if not texts or (self.pair_level and len(texts) == 1 and inner_row):
                reason = R.NO_READ
            elif other is not None:
                reason = self._why_not(other)
            else:
                reason = R.MISPRINT if self.dev.inkjet is not None else R.UNKNOWN_CODE
            read = next(
                (t for t in texts if t not in known or known[t].level != self.pair_level), None
            )
            self._reject(seq, None, reason, read)
            self._view(item, decoded, False)
            return
        row = self._inflight.pop(outer)
        self._resolve_before(row)
        grade = next((d.grade for d in decoded if d.text == outer), "") or "A"
        if GRADES.index(grade) > GRADES.index(self.min_grade):
            self._reject(seq, row, R.LOW_GRADE, outer)
            self._view(item, decoded, False)
            return
        if self.pair_level:
            if inner_row is None:
                self._reject(seq, row, R.MISSING_PAIR, outer)
                self._view(item, decoded, False)
                return
            if inner_row.state != State.AVAILABLE.value or inner_row.batch_id not in (
                None,
                self.store.batch_id,
            ):
                self._reject(
                    seq,
                    row,
                    R.DUPLICATE
                    if inner_row.state in ("verified", "linked")
                    else self._why_not(inner_row),
                    outer,
                )
                self._view(item, decoded, False)
                return
        if row.state == State.RESERVED.value:  # confirmation not in yet: the read proves the print
            self._sent_remove(row)
            self.store.move(row, State.PRINTED)
            self.stats.printed += 1
        self.store.move(row, State.VERIFIED)
        self.store.set_fields(row, seq=seq, grade=grade)
        if inner_row is not None:
            self.store.move(inner_row, State.VERIFIED)
            self.store.set_fields(inner_row, batch_id=self.store.batch_id, pair_id=row.id)
            self.store.set_fields(row, pair_id=inner_row.id)
        self.stats.verified += 1
        self._rate_window.append(time.monotonic())
        self.stats.latencies_ms.append((time.monotonic() - item.t0) * 1000)
        self.signals.item_verified.emit(seq, outer)
        self._view(item, decoded, True)

    def _sent_remove(self, row: CodeRow) -> None:
        try:
            self._sent.remove(row)
        except ValueError:
            pass
        try:
            self._printed.remove(row)
        except ValueError:
            pass

    def _why_not(self, other: CodeRow) -> R:
        if other.state == State.VOID.value:
            return R.VOID_CODE
        if other.batch_id not in (None, self.store.batch_id):
            return R.WRONG_BATCH
        if other.state in (State.VERIFIED.value, State.LINKED.value, State.REJECTED.value):
            return R.DUPLICATE
        if other.state == State.DECOMMISSIONED.value:
            return R.DECOMMISSIONED
        if other.state in (State.RESERVED.value, State.PRINTED.value):
            return R.DUPLICATE  # issued to another item already on its way
        return R.UNKNOWN_CODE  # in the pool but never issued: not printed by this line

    def _resolve_before(self, row: CodeRow) -> None:
        """Codes printed before `row` but never read belong to the items rejected without a code."""
        while self._printed and self._printed[0] is not row:
            lost = self._printed.popleft()
            if lost.state != State.PRINTED.value:
                continue
            self._inflight.pop(lost.code, None)
            seq, reason = self._codeless.popleft() if self._codeless else (None, "not_verified")
            self.store.move(lost, State.REJECTED, reason)
            self.store.set_fields(lost, reason=reason, seq=seq)
        if self._printed and self._printed[0] is row:
            self._printed.popleft()
        self._codeless.clear()

    def _reject(self, seq: int | None, row: CodeRow | None, reason: R, read: str | None) -> None:
        if seq is not None:
            try:
                self.dev.plc.request_reject(seq)  # time-critical: before any bookkeeping
            except DriverError as exc:
                self._fault(
                    "plc",
                    f"reject of item {seq} not delivered: {exc}",
                    "pull the item by hand and check the PLC",
                )
        if row is not None:
            self._inflight.pop(row.code, None)
            self._sent_remove(row)
            if row.state == State.RESERVED.value:
                self.store.move(row, State.PRINTED)
                self.stats.printed += 1
        elif seq is not None:
            self._codeless.append((seq, reason.value))
        self.store.reject(reason.value, row=row, read=read, seq=seq)
        self.stats.rejected += 1
        self.stats.reasons[reason.value] += 1
        self.signals.item_rejected.emit(
            seq, mask(read, self.item_level) if read else None, reason.value
        )

    def _view(self, item: Item, decoded: list, good: bool) -> None:
        if len(self.signals.frame_decoded) == 0:  # nobody watching: skip the copy
            return
        self.signals.frame_decoded.emit(
            FrameView(
                item.seq,
                item.frame,
                tuple((mask(d.text, self.item_level), d.corners, good) for d in decoded),
            )
        )

    # -- cases -----------------------------------------------------------------------------------
    def _cases_tick(self) -> None:
        if self.case_level is None or self.dev.case_frames is None:
            return
        self._keep_labels()
        while True:
            try:
                got = self.dev.case_frames.get(0.0)
            except DriverError as exc:
                self._fault("case_camera", str(exc), "check the case camera and its light")
                break
            if got is None:
                break
            slot, frame = got
            final = bool(isinstance(slot, tuple) and slot[1])
            fut = self._pool.submit(self.dev.decoder.decode, frame, self.case_cap + 1)
            self._cases.append(Pending(slot, final, fut))
        while self._cases and self._cases[0].future.done():
            p = self._cases.popleft()
            self._check_case(p, [d.text for d in p.future.result()])

    def _keep_labels(self) -> None:
        lab = self.dev.case_labeler
        if lab is None or self._finish_requested or self.state != RunState.RUNNING:
            return
        from drivers.labels.templates import case_label

        while len(self._labels) < self.LABELS_AHEAD:
            (row,) = self.store.reserve(self.case_level, 1)
            b = self.store
            zpl = case_label(
                row.code,
                product=b.product,
                lot=self.lot,
                count=self.case_cap,
                symbology=self.s.devices.case_labeler.symbology,
            )
            try:
                lab.print_label(zpl)
            except DriverError as exc:
                self.store.move(row, State.VOID, "label printer failed mid-label")
                self.store.flush()
                self._fault("case_labeler", str(exc), "check labels and ribbon, then clear")
                return
            self.store.move(row, State.PRINTED)
            self._labels.append(row)

    lot = ""

    def _drop_label(self, row: CodeRow) -> None:
        """A label the case station refused: it leaves the line (QA), a new one is printed."""
        if all(r.code != row.code for r in self._labels):
            return
        self._labels = deque(r for r in self._labels if r.code != row.code)
        if row.state == State.PRINTED.value:
            self.store.move(row, State.REJECTED, "label refused at the case station")

    def _check_case(self, p: Pending, texts: list[str]) -> None:
        rows = self.store.find_many(texts)
        labels = [t for t in texts if t in rows and rows[t].level == self.case_level]
        label = labels[0] if len(labels) == 1 else None
        items = [t for t in texts if t not in labels]
        label_row = rows.get(label) if label else None
        if label_row is not None and label_row.state in ("verified", "linked"):
            kids = set(self.store.children_of(label_row))
            if kids and kids == set(items):  # seen again after a restart: already closed
                self._gate(p.slot, CASE_ACCEPTED)
                self.signals.case_accepted.emit(p.slot, label)
                return
        # The case packer's infeed count, when it sends one: an item without a readable code is
        # still an item, so a last (partial) case must hold as many codes as items counted.
        counted = p.slot[2] if isinstance(p.slot, tuple) and len(p.slot) > 2 else None
        res = check_layer(
            items,
            label,
            expected=counted if counted else self.case_cap,
            case_level=self.case_level,
            batch_id=self.store.batch_id,
            product=self.store.product,
            lookup=lambda c: self.store.info(rows.get(c)),
            allow_partial=p.final and not counted,
        )
        if not res.ok:
            out = []
            for v in res.violations:
                reason = v.reason
                if reason == R.UNKNOWN_CODE and v.code != label:
                    reason = R.FOREIGN_ITEM  # an item that never passed our camera
                out.append((reason.value, v.code))
                self.store.reject(
                    reason.value,
                    row=None,
                    read=v.code or None,
                    seq=None,
                    detail=f"case {label}: {v.detail}",
                )
                self.stats.reasons[reason.value] += 1
            refused = label_row is not None and any(
                code == label and why != R.COUNT_MISMATCH.value for why, code in out
            )
            if refused:
                self._drop_label(label_row)
            self._gate(p.slot, CASE_LABEL_REFUSED if refused else CASE_REJECTED)
            self.signals.case_rejected.emit(p.slot, label, tuple(out))
            return
        case = label_row
        if case.state == State.PRINTED.value:
            self.store.move(case, State.VERIFIED)
        self._labels = deque(r for r in self._labels if r.code != case.code)
        for t in items:
            self.store.link(case, rows[t])
        partial = len(items) < self.case_cap
        self.store.container(case, "partial" if partial else "normal", len(items))
        self.store.flush()  # the case exists before anyone is told so
        self.stats.cases += 1
        self.signals.container_closed.emit(self.case_level, case.code, len(items), partial)
        self._gate(p.slot, CASE_ACCEPTED)
        self.signals.case_accepted.emit(p.slot, case.code)

    def _gate(self, slot: Any, verdict: int) -> None:
        """Open the case gate (pass on, or off to rework) for the case its frame numbered."""
        no = slot[0] if isinstance(slot, tuple) else slot
        if not isinstance(no, int):
            return
        try:
            self.dev.plc.report_case(no, verdict)
        except DriverError as exc:
            self._fault("plc", f"case {no}: verdict not delivered: {exc}", "check the PLC")

    def _placed(self) -> None:
        """The palletizer may place the case: its link is stored."""
        try:
            self.dev.plc.case_placed()
        except DriverError as exc:
            self._fault("plc", f"case placement not signalled: {exc}", "check the PLC")

    # -- pallets ---------------------------------------------------------------------------------
    def _next_pallet_code(self, level: str) -> str:
        (row,) = self.store.reserve(level, 1)
        self.store.move(row, State.PRINTED)  # label is printed at close; code committed now
        self.store.move(row, State.VERIFIED)
        self.store.container(row, "open", 0)
        self._open_pallet = row
        self._open_pallet_children = []
        return row.code

    def _pallet_tick(self) -> None:
        if self.pallet_packer is None:
            return
        while True:
            try:
                code = self._reads.get_nowait()
            except queue.Empty:
                return
            row = self.store.find(code)
            if row is None or row.level != self.case_level:
                self._alarm(
                    Alarm(
                        "pallet_read",
                        "pallet_reader",
                        f"not a case code: {code}",
                        "take the case off and check its label",
                        "warning",
                    )
                )
                continue
            if self._open_pallet is not None and row.parent == self._open_pallet.code:
                self._placed()
                self.signals.case_palletized.emit(code, row.parent)  # seen again after restart
                continue
            if row.parent is not None and self._reread_closed_pallet(row):
                continue
            if row.parent is not None or row.state != State.VERIFIED.value:
                where = f" in {row.parent}" if row.parent else ""
                self._alarm(
                    Alarm(
                        "pallet_case",
                        "pallet_reader",
                        f"case {code} is {row.state}{where}",
                        "take the case off for QA",
                        "warning",
                    )
                )
                continue
            self._stack(row, self.pallet_packer.add(code))

    def _reread_closed_pallet(self, case: CodeRow) -> bool:
        """A case read again after a restart, whose pallet closed before the restart.

        The palletizer never heard back: tell it again and reprint the pallet's label (the same
        code, never a new one) so the physical pallet gets the label the store gave it.
        """
        pallet = self.store.find(case.parent)
        if pallet is None or pallet.level != self.pallet_level:
            return False
        kids = self.store.children_of(pallet)
        self._placed()
        self.signals.case_palletized.emit(case.code, pallet.code)
        lab = self.dev.pallet_labeler
        if lab is not None:
            from drivers.labels.templates import pallet_label

            lab.print_label(
                pallet_label(pallet.code, product=self.store.product, lot=self.lot, cases=len(kids))
            )
        full = len(kids) >= self.s.level(self.pallet_level).capacity
        self.signals.container_closed.emit(self.pallet_level, pallet.code, len(kids), not full)
        return True

    def _stack(self, case: CodeRow, events: list) -> None:
        pallet = self._open_pallet
        for ev in events:
            if isinstance(ev, Linked):
                self.store.link(pallet, case)
                self._open_pallet_children.append(case)
                self.store.container(pallet, "open", len(self._open_pallet_children))
                self.store.flush()
                # The palletizer places the case once the link is stored, before any closing.
                self._placed()
                self.signals.case_palletized.emit(case.code, pallet.code)
            elif isinstance(ev, ContainerClosed):
                self._close_pallet(pallet, ev.partial)

    def _close_pallet(self, pallet: CodeRow, partial: bool) -> None:
        n = len(self._open_pallet_children)
        self.store.container(pallet, "partial" if partial else "normal", n)
        self.store.flush()
        self.stats.pallets += 1
        lab = self.dev.pallet_labeler
        if lab is not None:
            from drivers.labels.templates import pallet_label

            try:
                lab.print_label(
                    pallet_label(pallet.code, product=self.store.product, lot=self.lot, cases=n)
                )
            except DriverError as exc:
                self._fault("pallet_labeler", str(exc), "reprint with `station qa relabel`")
        self._open_pallet = None
        self._open_pallet_children = []
        self.signals.container_closed.emit(self.pallet_level, pallet.code, n, partial)

    def _close_partial(self) -> None:
        if self.pallet_packer is not None and self._open_pallet is not None:
            for ev in self.pallet_packer.close_partial():
                if isinstance(ev, ContainerClosed):
                    self._close_pallet(self._open_pallet, True)
        # Labels printed ahead and never used: printed, never applied to a case.
        for row in self._labels:
            self.store.move(row, State.VOID, "label printed ahead, batch ended")
        self._labels.clear()
        self.store.flush()

    # -- alarms ----------------------------------------------------------------------------------
    def _alarm(self, alarm: Alarm) -> None:
        first = alarm.code not in self._alarms
        self._alarms[alarm.code] = alarm
        if first:
            log.warning("%s: %s (%s)", alarm.device, alarm.message, alarm.action)
            self.signals.alarm_raised.emit(alarm)

    def _fault(self, device: str, message: str, action: str) -> None:
        self._alarm(Alarm(f"fault:{device}", device, message, action))
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

    def snapshot_latencies(self) -> list[float]:
        """Trigger → decision latencies (ms) of verified items."""
        return list(self.stats.latencies_ms)

    def with_lot(self, lot: str) -> LineRunner:
        """Set the lot printed on labels."""
        self.lot = lot
        return self


__all__ = ["FrameSource", "LineDevices", "LineRunner"]
