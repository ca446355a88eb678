"""The pallet station of the runner: cases read at the palletizer are stacked on the open pallet,
pallets close full (or partial at batch end) and get their label.

A mixin of LineRunner (station/line/runner.py); it shares the runner's state (store, devices,
signals, stats, self._reads, self.pallet_packer, self._open_pallet) and runs in the runner's thread.
"""

from __future__ import annotations

import queue

from aggregation.levels import Hierarchy
from aggregation.packer import ContainerClosed, Linked, Packer
from drivers.errors import DriverError
from station.events import Alarm
from station.line.store import CodeRow
from station.store.lifecycle import State


class PalletStation:
    """Pallets: stacking, closing, labels (mixin of LineRunner)."""

    def _restore_pallets(self) -> None:
        """Reopen the batch's open pallet, as the store has it, after a restart."""
        if not (self.pallet_level and self.case_level):
            return
        st = self.store
        h = Hierarchy.of(self.case_level, (self.pallet_level, self.s.level("pallet").capacity))
        self.pallet_packer = Packer(h, self._next_pallet_code, self.store.batch_id)
        for row in st.open_containers():
            if row.level == self.pallet_level:
                kids = st.children_of(row)
                self._open_pallet = row
                self._open_pallet_children = list(st.find_many(kids).values())
                self.pallet_packer.restore({self.pallet_level: (row.code, kids)})

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
                        key="not_a_case_code",
                        args=(("code", code),),
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
                        key="case_on_a_pallet" if row.parent else "case_in_wrong_state",
                        args=(("code", code), ("state", row.state), ("pallet", row.parent or "")),
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
                self._fault(
                    "pallet_labeler",
                    str(exc),
                    "reprint with `station qa relabel`",
                    "pallet_label_not_printed",
                    (("pallet", pallet.code), ("detail", str(exc))),
                )
        self._open_pallet = None
        self._open_pallet_children = []
        self.signals.container_closed.emit(self.pallet_level, pallet.code, n, partial)

    def _close_partial(self) -> None:
        """Batch end: the open pallet closes as partial."""
        if self.pallet_packer is not None and self._open_pallet is not None:
            for ev in self.pallet_packer.close_partial():
                if isinstance(ev, ContainerClosed):
                    self._close_pallet(self._open_pallet, True)
