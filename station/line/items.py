"""The item station of the runner: frames to the decoder pool, a verdict per item in sequence
order before its deadline, rejects with their reason, the operator's camera view.

A mixin of LineRunner (station/line/runner.py), split off to keep each file readable; it shares
the runner's state (self._items, self._printed, self.store, self.dev, self.stats).
"""

from __future__ import annotations

import logging
import time

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
    """The verify side of LineRunner (mixin)."""

    def _take_frames(self, now: float) -> None:
        for k, src in enumerate(self.item_frames):
            self._take_from(k, src, now)

    def _take_from(self, k: int, src, now: float) -> None:
        """Frames of item camera `k`; each goes to the decoder pool tagged with its item."""
        while True:
            try:
                got = src.get(0.0)
            except DriverError as exc:
                self._fault(
                    "verify_camera",
                    str(exc),
                    "check the camera, its cable and light",
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
                item.frame = frame
                item.t0 = now  # latency counts from the camera's frame to the decision
            item.futures[k] = self._pool.submit(self.dev.decoder.decode, frame, n)

    def _decide(self, now: float) -> None:
        while self._items:
            item = self._items[0]
            if len(item.futures) == self.n_cameras and all(f.done() for f in item.futures.values()):
                self._items.popleft()
                if time.monotonic() > item.deadline:
                    self._late(item)
                else:
                    self._verdict(item, [item.futures[k].result() for k in sorted(item.futures)])
                continue
            if now > item.deadline or self.state not in MOVING:
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
        rows = self.store.find_many(
            [r.text for r in reads if not (marking and r.text in self._inflight)]
        )
        v = judge_item(
            reads,
            {t: self.store.info(r) for t, r in rows.items()},
            kind=self.item_kind,
            item_level=self.item_level,
            pair_level=self.pair_level,
            batch_id=self.store.batch_id,
            min_grade=self.min_grade,
            sent=self._inflight.__contains__,
            marking=self.dev.inkjet is not None,
            length_ok=self._length_ok,
        )
        row: CodeRow | None = None
        if v.code is not None and marking:
            row = self._inflight.pop(v.code)
            self._resolve_before(row)
        elif v.code is not None and rows[v.code].state == State.AVAILABLE.value:
            row = rows[v.code]  # a pre-printed code, unused: its item's fate is its fate
            self.store.set_fields(row, batch_id=self.store.batch_id)
        if not v.ok:
            self._reject(seq, row, v.reason, v.read)
            self._view(item, decoded, False)
            return
        if row.state == State.RESERVED.value:  # confirmation not in yet: the read proves the print
            self._sent_remove(row)
            self.store.move(row, State.PRINTED)
            self.stats.printed += 1
        self.store.move(row, State.VERIFIED)
        self.store.set_fields(row, seq=seq, grade=v.grade)
        if v.inner is not None:
            inner_row = rows[v.inner]
            self.store.move(inner_row, State.VERIFIED)
            self.store.set_fields(inner_row, batch_id=self.store.batch_id, pair_id=row.id)
            self.store.set_fields(row, pair_id=inner_row.id)
        self.stats.verified += 1
        self._rate_window.append(time.monotonic())
        self.stats.latencies_ms.append((time.monotonic() - item.t0) * 1000)
        self.signals.item_verified.emit(seq, v.code)
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

    def _resolve_before(self, row: CodeRow | None) -> None:
        """Codes printed before `row` (None: all) but never read belong to the items rejected
        without a code, in order."""
        while self._printed and self._printed[0] is not row:
            lost = self._printed.popleft()
            if lost.state != State.PRINTED.value:
                continue
            self._inflight.pop(lost.code, None)
            seq, reason = self._codeless.popleft() if self._codeless else (None, "not_verified")
            self.store.move(lost, State.REJECTED, reason)
            self.store.set_fields(lost, reason=reason, seq=seq)
            if seq is not None:
                self.store.attach(seq, lost)
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
                    "reject_not_delivered",
                    (("seq", str(seq)), ("detail", str(exc))),
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

    # -- alarms ----------------------------------------------------------------------------------
