"""The item station: frames from its cameras to the decoder pool, a verdict per item in sequence
order before its deadline (aggregation/item.py), rejects with their reason, the camera view.

A mark station resolves the codes its inkjet feed (station/line/feed.py) printed; a read station
checks pre-printed codes against the packs. Composed into LineRunner (station/line/runner.py):
`self.r` is the runner, whose store (the one writer), devices, signals and alarms it uses; it
runs in the runner's thread.
"""

from __future__ import annotations

import logging
import time
from collections import deque
from concurrent.futures import Future
from typing import Any

from aggregation.item import Read, judge_item, merge_reads
from aggregation.reasons import RejectReason as R
from drivers.errors import DriverError
from station.codes.masking import mask
from station.events import MOVING, Alarm, FrameView
from station.line.parts import Item
from station.line.store import CodeRow
from station.store.lifecycle import State

log = logging.getLogger("station.line.runner")
GRADES = "ABCDF"


class ItemStation:
    """Items between the trigger and the kicker: read, decided in order, passed or kicked."""

    def __init__(self, runner: Any) -> None:
        self.r = runner
        self.feed = runner.feed
        step = runner.shape.item
        self.item_level = step.level
        self.item_kind = step.kind
        self.pair_level = step.pair_level if step.level == "outer" else None
        self.separator = step.separator
        found = [(role, runner.dev.frames_of(role)) for role in step.cameras]
        self.item_roles = [role for role, src in found if src is not None]
        self.item_frames = [src for _role, src in found if src is not None]
        self.n_cameras = len(self.item_frames)
        cam = runner.s.devices.verify_camera
        self.min_grade = cam.min_grade if cam else "F"
        self._items: deque[Item] = deque()
        self._codeless: deque[tuple[int, str]] = deque()  # rejected items whose code is unknown

    @property
    def idle(self) -> bool:
        """No item between the trigger and its decision."""
        return not self._items

    def triggered(self, seqs: list[int], now: float) -> None:
        """Items passed the photocell: each must be decided before it reaches the kicker."""
        r = self.r
        for seq in seqs:
            r.stats.triggered += 1
            self._items.append(Item(seq, now + r.trigger_to_kicker_s - r.margin_s, now))

    def finish(self) -> None:
        """Batch end: the last codes printed and never read."""
        self.feed.resolve_before(None, self._codeless)

    def take_frames(self, now: float) -> None:
        for k, src in enumerate(self.item_frames):
            self._take_from(k, src, now)

    def _take_from(self, k: int, src, now: float) -> None:
        """Frames of item camera `k`; each goes to the decoder pool tagged with its item."""
        while True:
            try:
                got = src.get(0.0)
            except DriverError as exc:
                self.r._fault(
                    self.item_roles[k],
                    str(exc),
                    "check the camera (or reader), its cable and light",
                    "camera_fault",
                    (("detail", str(exc)),),
                )
                return
            if got is None:
                return
            seq, frame = got
            if seq is None:  # an untagged camera: frames come in trigger order
                item = next((i for i in self._items if k not in i.futures), None)
            else:
                item = next((i for i in self._items if i.seq == seq), None)
            if item is None or k in item.futures:
                continue  # frame of an item already decided late
            n = 2 if self.pair_level else 1
            if k == 0:
                item.t0 = now  # latency counts from the first camera's frame to the decision
            if item.frame is None and not isinstance(frame, tuple):
                item.frame = frame  # the picture the operator sees
            if isinstance(frame, tuple):  # a reader's message: decoded on the device already
                done: Future = Future()
                done.set_result(list(frame))
                item.futures[k] = done
                continue
            item.futures[k] = self.r._pool.submit(self.r.dev.decoder.decode, frame, n)

    def decide(self, now: float) -> None:
        while self._items:
            item = self._items[0]
            if len(item.futures) == self.n_cameras and all(f.done() for f in item.futures.values()):
                self._items.popleft()
                if time.monotonic() > item.deadline:
                    self._late(item)
                else:
                    self._verdict(item, [item.futures[k].result() for k in sorted(item.futures)])
                continue
            if now > item.deadline or self.r.state not in MOVING:
                self._items.popleft()
                self._late(item)
                continue
            return

    def _late(self, item: Item) -> None:
        self.r.stats.late += 1
        self._reject(item.seq, None, R.LATE_DECISION, None)
        self.r._alarm(
            Alarm(
                "late",
                "line",
                f"item {item.seq}: no decision before its deadline",
                "slow the line or check the camera",
                "warning",
                key="late_decision",
                args=(("seq", str(item.seq)),),
            )
        )

    def _verdict(self, item: Item, per_camera: list[list]) -> None:
        seq = item.seq
        decoded = [d for found in per_camera for d in found]
        reads = merge_reads(
            [[Read(d.text, d.grade or "") for d in found] for found in per_camera],
            self.separator,
        )
        marking = self.item_kind == "mark"
        rows = self.r.store.find_many(
            [r.text for r in reads if not (marking and r.text in self.feed.inflight)]
        )
        v = judge_item(
            reads,
            {t: self.r.store.info(r) for t, r in rows.items()},
            kind=self.item_kind,
            item_level=self.item_level,
            pair_level=self.pair_level,
            batch_id=self.r.store.batch_id,
            min_grade=self.min_grade,
            sent=self.feed.inflight.__contains__,
            marking=self.r.dev.inkjet is not None,
            length_ok=self.r._length_ok,
        )
        row: CodeRow | None = None
        if v.code is not None and marking:
            row = self.feed.inflight.pop(v.code)
            self.feed.resolve_before(row, self._codeless)
        elif v.code is not None and rows[v.code].state == State.AVAILABLE.value:
            row = rows[v.code]  # a pre-printed code, unused: its item's fate is its fate
            self.r.store.set_fields(row, batch_id=self.r.store.batch_id)
        if not v.ok:
            self._reject(seq, row, v.reason, v.read)
            self._view(item, decoded, False)
            return
        if row.state == State.RESERVED.value:  # confirmation not in yet: the read proves the print
            self.feed.remove(row)
            self.r.store.move(row, State.PRINTED)
            self.r.stats.printed += 1
        self.r.store.move(row, State.VERIFIED)
        self.r.store.set_fields(row, seq=seq, grade=v.grade)
        if v.inner is not None:
            inner_row = rows[v.inner]
            self.r.store.move(inner_row, State.VERIFIED)
            self.r.store.set_fields(inner_row, batch_id=self.r.store.batch_id, pair_id=row.id)
            self.r.store.set_fields(row, pair_id=inner_row.id)
        self.r.stats.verified += 1
        self.r._rate_window.append(time.monotonic())
        self.r.stats.latencies_ms.append((time.monotonic() - item.t0) * 1000)
        self.r.signals.item_verified.emit(seq, v.code)
        self._view(item, decoded, True)

    def _reject(self, seq: int | None, row: CodeRow | None, reason: R, read: str | None) -> None:
        if seq is not None:
            try:
                self.r.dev.plc.request_reject(seq)  # time-critical: before any bookkeeping
            except DriverError as exc:
                self.r._fault(
                    "plc",
                    f"reject of item {seq} not delivered: {exc}",
                    "pull the item by hand and check the PLC",
                    "reject_not_delivered",
                    (("seq", str(seq)), ("detail", str(exc))),
                )
        if row is not None:
            self.feed.inflight.pop(row.code, None)
            self.feed.remove(row)
            if row.state == State.RESERVED.value:
                self.r.store.move(row, State.PRINTED)
                self.r.stats.printed += 1
        elif seq is not None and self.item_kind == "mark":  # its code may be printed, unread
            self._codeless.append((seq, reason.value))
        self.r.store.reject(reason.value, row=row, read=read, seq=seq)
        self.r.stats.rejected += 1
        self.r.stats.reasons[reason.value] += 1
        self.r.signals.item_rejected.emit(
            seq, mask(read, self.item_level) if read else None, reason.value
        )

    def _view(self, item: Item, decoded: list, good: bool) -> None:
        if item.frame is None or len(self.r.signals.frame_decoded) == 0:  # nobody watching
            return
        self.r.signals.frame_decoded.emit(
            FrameView(
                item.seq,
                item.frame,
                tuple((mask(d.text, self.item_level), d.corners, good) for d in decoded),
            )
        )
