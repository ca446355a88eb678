"""The case and pallet stations of the runner: case labels, case-layer checks, stacking.

A mixin of LineRunner (station/line/runner.py), split off to keep each file readable; it shares the
runner's state (store, devices, signals, stats) and runs in the runner's thread.
"""

from __future__ import annotations

from collections import deque
from concurrent.futures import Future
from dataclasses import dataclass
from typing import Any

from aggregation.layer import check_layer
from aggregation.packer import ContainerClosed
from aggregation.reasons import RejectReason as R
from drivers.errors import DriverError
from drivers.plc.base import CASE_ACCEPTED, CASE_LABEL_REFUSED, CASE_REJECTED
from station.events import MOVING
from station.line import weigh
from station.line.store import CodeRow
from station.store.lifecycle import State


@dataclass
class Pending:
    """A case frame being decoded."""

    slot: Any
    final: bool
    future: Future


class CaseStation:
    """Cases (label ahead, layer check, case gate) and pallets (stacking, closing, labels)."""

    # -- cases -----------------------------------------------------------------------------------
    def _cases_tick(self) -> None:
        if self.case_level is None or self.dev.case_frames is None:
            return
        self._keep_labels()
        while True:
            try:
                got = self.dev.case_frames.get(0.0)
            except DriverError as exc:
                self._fault(
                    "case_camera",
                    str(exc),
                    "check the case camera and its light",
                    "case_camera_fault",
                    (("detail", str(exc)),),
                )
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
        if lab is None or self._finish_requested or self.state not in MOVING:
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
                self._fault(
                    "case_labeler",
                    str(exc),
                    "check labels and ribbon, then clear",
                    "case_labeler_fault",
                    (("detail", str(exc)),),
                )
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
        no = p.slot[0] if isinstance(p.slot, tuple) else p.slot
        gated = self.__dict__.setdefault("_gated_cases", {})
        if isinstance(no, int) and no in gated:
            # The same case shown again (the PLC re-fires the camera on a case still at the gate
            # when it missed our verdict): repeat the verdict, record nothing twice.
            self._gate(p.slot, gated[no])
            return
        rows = self.store.find_many(texts)
        labels = [t for t in texts if t in rows and rows[t].level == self.case_level]
        label = labels[0] if len(labels) == 1 else None
        items = [t for t in texts if t not in labels]
        label_row = rows.get(label) if label else None
        if label_row is not None and label_row.state in (State.VERIFIED, State.LINKED):
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
        if weigh.case_refused(self, p.slot, label, items):  # the checkweigher, when configured
            return
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
        gated = self.__dict__.setdefault("_gated_cases", {})
        gated[no] = verdict
        if len(gated) > 256:  # only recent cases can come back to the gate
            del gated[next(iter(gated))]
        try:
            self.dev.plc.report_case(no, verdict)
        except DriverError as exc:
            self._fault(
                "plc",
                f"case {no}: verdict not delivered: {exc}",
                "check the PLC",
                "case_verdict_not_delivered",
                (("case", str(no)), ("detail", str(exc))),
            )

    def _placed(self) -> None:
        """The palletizer may place the case: its link is stored."""
        try:
            self.dev.plc.case_placed()
        except DriverError as exc:
            self._fault(
                "plc",
                f"case placement not signalled: {exc}",
                "check the PLC",
                "case_placement_not_signalled",
                (("detail", str(exc)),),
            )

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
