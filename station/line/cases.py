"""An aggregate station of the runner: N children into a box or a case, checked from one frame.

One ContainerStation per camera-checked level of the line's shape (station/shape.py): a camera
sees the container's children and its code in one frame (a case top, an open box); the frame is
decoded in the runner's decoder pool, checked by aggregation/layer.py's pure rules, and the
verdict goes to the container gate through the PLC (pass on, or off to rework). The parent code is
either a label this station printed ahead (reserved from the pool, printed, then seen on the
container) or printed by the packaging supplier (read, and checked against its imported pack).

Composed into LineRunner (station/line/runner.py): `self.r` is the runner, whose store (the one
writer), devices, signals, counters and alarms it uses; it runs in the runner's thread.
"""

from __future__ import annotations

from collections import deque
from concurrent.futures import Future
from dataclasses import dataclass
from typing import Any

from aggregation.layer import check_layer
from aggregation.reasons import RejectReason as R
from drivers.errors import DriverError
from drivers.plc.base import CASE_ACCEPTED, CASE_LABEL_REFUSED, CASE_REJECTED
from station.events import MOVING
from station.line import weigh
from station.line.store import CodeRow
from station.shape import ContainerStep
from station.store.lifecycle import State

COUNT_REASONS = frozenset({R.TOO_MANY.value, R.TOO_FEW.value, R.COUNT_MISMATCH.value})
"""Reasons about the count, not about the container's code: the container comes back refilled."""


@dataclass
class Pending:
    """A container frame being decoded."""

    slot: Any
    final: bool
    future: Future


class ContainerStation:
    """Boxes or cases at one level: labels ahead (or pre-printed codes), frame check, gate."""

    LABELS_AHEAD = 2

    def __init__(self, runner: Any, step: ContainerStep) -> None:
        self.r = runner
        self.step = step
        self.level = step.level
        self.child = step.child
        self.capacity = step.capacity
        self.frames = runner.dev.frames_of(step.camera)
        self.labeler = runner.dev.labeler_of(step.labeler)
        self.camera = step.camera
        self.pending: deque[Pending] = deque()
        self.labels: deque[CodeRow] = deque()  # printed labels not yet seen on a container
        self.gated: dict[int, int] = {}  # container number → verdict (recent ones)

    @property
    def idle(self) -> bool:
        """No frame of this station is being decoded."""
        return not self.pending

    def restore(self) -> None:
        """After a crash: labels printed and never applied are void."""
        st = self.r.store
        if self.step.preprinted:
            return
        for row in st.in_state(self.level, State.PRINTED):
            if not st.children_of(row):
                st.move(row, State.VOID, "restart: label printed, never applied")

    # -- the tick --------------------------------------------------------------------------------
    def tick(self) -> None:
        """Print labels ahead, take frames, decide the containers whose frames are decoded."""
        if self.frames is None:
            return
        self._keep_labels()
        r = self.r
        while True:
            try:
                got = self.frames.get(0.0)
            except DriverError as exc:
                r._fault(
                    self.camera,
                    str(exc),
                    f"check the {self.level} camera and its light",
                    "box_camera_fault" if self.level == "box" else "case_camera_fault",
                    (("detail", str(exc)),),
                )
                break
            if got is None:
                break
            slot, frame = got
            final = bool(isinstance(slot, tuple) and slot[1])
            fut = r._pool.submit(r.dev.decoder.decode, frame, self.capacity + 1)
            self.pending.append(Pending(slot, final, fut))
        while self.pending and self.pending[0].future.done():
            p = self.pending.popleft()
            self._check(p, [d.text for d in p.future.result()])

    def _keep_labels(self) -> None:
        r = self.r
        lab = self.labeler
        if lab is None or r._finish_requested or r.state not in MOVING:
            return
        from drivers.labels.templates import case_label

        cfg = getattr(r.s.devices, self.step.labeler)
        while len(self.labels) < self.LABELS_AHEAD:
            (row,) = r.store.reserve(self.level, 1)
            zpl = case_label(
                row.code, product=r.store.product, lot=r.lot, count=self.capacity,
                symbology=cfg.symbology,
            )  # fmt: skip
            try:
                lab.print_label(zpl)
            except DriverError as exc:
                r.store.move(row, State.VOID, "label printer failed mid-label")
                r.store.flush()
                r._fault(
                    self.step.labeler, str(exc), "check labels and ribbon, then clear",
                    "box_labeler_fault" if self.level == "box" else "case_labeler_fault",
                    (("detail", str(exc)),),
                )  # fmt: skip
                return
            r.store.move(row, State.PRINTED)
            self.labels.append(row)

    def _drop_label(self, row: CodeRow) -> None:
        """A label the station refused: it leaves the line (QA), a new one is printed."""
        if all(r.code != row.code for r in self.labels):
            return
        self.labels = deque(r for r in self.labels if r.code != row.code)
        if row.state == State.PRINTED.value:
            self.r.store.move(row, State.REJECTED, f"label refused at the {self.level} station")

    def _check(self, p: Pending, texts: list[str]) -> None:
        r = self.r
        store = r.store
        no = p.slot[0] if isinstance(p.slot, tuple) else p.slot
        if isinstance(no, int) and no in self.gated:
            # The same container shown again (the PLC re-fires the camera on a container still
            # at the gate when it missed our verdict): repeat the verdict, record nothing twice.
            self._gate(p.slot, self.gated[no])
            return
        rows = store.find_many(texts)
        parents = [t for t in texts if t in rows and rows[t].level == self.level]
        if self.step.preprinted and not parents:
            # A pre-printed code in no pack is still the container's code when it is the one
            # read that is not a child's (children are known: they passed the stations before).
            parents = [t for t in texts if t not in rows]
        label = parents[0] if len(parents) == 1 else None
        items = [t for t in texts if t not in parents]
        label_row = rows.get(label) if label else None
        if label_row is not None and label_row.state in (State.VERIFIED, State.LINKED):
            kids = set(store.children_of(label_row))
            if kids and kids == set(items):  # seen again after a restart: already closed
                self._gate(p.slot, CASE_ACCEPTED)
                r.signals.case_accepted.emit(self.told(p.slot), label)
                return
        # The packer's infeed count, when it sends one: an item without a readable code is
        # still an item, so a last (partial) container must hold as many codes as items counted.
        counted = p.slot[2] if isinstance(p.slot, tuple) and len(p.slot) > 2 else None
        res = check_layer(
            items,
            label,
            expected=counted if counted else self.capacity,
            case_level=self.level,
            batch_id=store.batch_id,
            product=store.product,
            lookup=lambda c: store.info(rows.get(c)),
            allow_partial=p.final and not counted,
            preprinted=self.step.preprinted,
        )
        if not res.ok:
            self._refuse(p, label, label_row, res.violations)
            return
        case = label_row
        if self.level == "case" and weigh.case_refused(self, p.slot, label, items):
            return
        if case.state in (State.PRINTED.value, State.AVAILABLE.value):
            if case.state == State.AVAILABLE.value:  # pre-printed: now this batch's
                store.set_fields(case, batch_id=store.batch_id)
            store.move(case, State.VERIFIED)
        self.labels = deque(x for x in self.labels if x.code != case.code)
        for t in items:
            store.link(case, rows[t])
        partial = len(items) < self.capacity
        store.container(case, "partial" if partial else "normal", len(items))
        store.flush()  # the container exists before anyone is told so
        if self.level == r.case_level:
            r.stats.cases += 1
        elif self.level == "box":
            r.stats.boxes += 1
        r.signals.container_closed.emit(self.level, case.code, len(items), partial)
        self._gate(p.slot, CASE_ACCEPTED)
        r.signals.case_accepted.emit(self.told(p.slot), case.code)

    def _refuse(self, p: Pending, label: str | None, label_row, violations) -> None:
        r = self.r
        out = []
        for v in violations:
            reason = v.reason
            if reason == R.UNKNOWN_CODE and v.code != label:
                reason = R.FOREIGN_ITEM  # an item that never passed our camera
            out.append((reason.value, v.code))
            r.store.reject(
                reason.value, row=None, read=v.code or None, seq=None,
                detail=f"{self.level} {label}: {v.detail}",
            )  # fmt: skip
            r.stats.reasons[reason.value] += 1
        code_refused = label is not None and any(
            code == label and why not in COUNT_REASONS for why, code in out
        )
        if code_refused and label_row is not None:
            self._drop_label(label_row)
        self._gate(p.slot, CASE_LABEL_REFUSED if code_refused else CASE_REJECTED)
        r.signals.case_rejected.emit(self.told(p.slot), label, tuple(out))

    def told(self, slot: Any) -> tuple[Any, str]:
        """What the signals carry of a container: its number (from the frame) and its level."""
        return (slot[0] if isinstance(slot, tuple) else slot, self.level)

    def _gate(self, slot: Any, verdict: int) -> None:
        """Open the gate (pass on, or off to rework) for the container its frame numbered."""
        no = slot[0] if isinstance(slot, tuple) else slot
        if not isinstance(no, int):
            return
        self.gated[no] = verdict
        if len(self.gated) > 256:  # only recent containers can come back to the gate
            del self.gated[next(iter(self.gated))]
        try:
            self.r.dev.plc.report_case(no, verdict)
        except DriverError as exc:
            self.r._fault(
                "plc",
                f"{self.level} {no}: verdict not delivered: {exc}",
                "check the PLC",
                "case_verdict_not_delivered",
                (("case", str(no)), ("detail", str(exc))),
            )

    def finish(self) -> None:
        """Batch end: labels printed ahead and never used were never applied to a container."""
        for row in self.labels:
            self.r.store.move(row, State.VOID, "label printed ahead, batch ended")
        self.labels.clear()
