"""The pallet station of the runner: cases read at the palletizer are stacked on the open pallet,
pallets close full (or partial at batch end) and get their label; the pallet operations.

Composed into LineRunner (station/line/runner.py) like the other stations: `self.r` is the
runner, whose store (the one writer), devices, signals, counters, alarms and the reader's queue
of case codes it uses; it runs in the runner's thread.

Pallet operations (close now, hold, resume, clear, merge: station/qa/pallets.py) on a running
line are carried out here, by the runner's thread, the one writer: from a screen in this process
(`pallet_command`, a Future) and from another process (a row in `line_commands`, polled every
POLL_S). Each writes the runner's queued changes first, changes the store in one transaction,
then the packer is rebuilt from the store and the label printed. Held pallets of the batch are
closed as partial, with their labels, when the batch finishes.
"""

from __future__ import annotations

import logging
import queue
import time
from concurrent.futures import Future
from typing import Any

from aggregation.levels import Hierarchy
from aggregation.packer import ContainerClosed, Linked, Packer
from drivers.errors import DriverError
from station.errors import InputError, StationError
from station.events import Alarm
from station.line.store import CodeRow
from station.qa import pallet_line
from station.qa import pallets as ops
from station.store import commands
from station.store.db import read_engine
from station.store.lifecycle import State

log = logging.getLogger("station.line.pallets")
POLL_S = 0.5  # how often the runner looks for commands from other processes


class PalletStation:
    """Pallets: stacking cases from the reader, closing, labels, the pallet operations."""

    def __init__(self, runner: Any) -> None:
        self.r = runner
        self.pallet_level: str | None = runner.pallet_level
        self.case_level: str | None = runner.case_level  # the pallet's children
        self.pallet_packer: Packer | None = None
        self._open_pallet: CodeRow | None = None
        self._open_pallet_children: list[CodeRow] = []
        self._pallet_q: queue.Queue = queue.Queue()
        self._pallet_polled = 0.0
        self._held_closed = False

    def restore(self) -> None:
        """Reopen the batch's open pallet, as the store has it, after a restart (or an operation).

        Only an `open` pallet is reopened: a held one waits for `resume`.
        """
        self._open_pallet, self._open_pallet_children = None, []
        if not (self.pallet_level and self.case_level):
            return
        st = self.r.store
        h = Hierarchy.of(self.case_level, (self.pallet_level, self.r.s.level("pallet").capacity))
        self.pallet_packer = Packer(h, self._next_pallet_code, self.r.store.batch_id)
        for row in st.open_containers():
            if row.level == self.pallet_level:
                kids = st.children_of(row)
                self._open_pallet = row
                self._open_pallet_children = list(st.find_many(kids).values())
                self.pallet_packer.restore({self.pallet_level: (row.code, kids)})

    def _placed(self) -> None:
        """The palletizer may place the case: its link is stored."""
        try:
            self.r.dev.plc.case_placed()
        except DriverError as exc:
            self.r._fault(
                "plc",
                f"case placement not signalled: {exc}",
                "check the PLC",
                "case_placement_not_signalled",
                (("detail", str(exc)),),
            )

    def _next_pallet_code(self, level: str) -> str:
        if self.r.s.line.pallet_number:  # the plant's own numbers: counter committed, then used
            from station.codes.pallet_number import issue

            self.r.store.flush()
            code_id, number = issue(
                self.r.store.engine,
                self.r.s,
                self.r.store.batch_id,
                user=self.r.store.user,
                level=level,
            )
            row = CodeRow(code_id, number, level, State.RESERVED.value, self.r.store.batch_id)
        else:
            (row,) = self.r.store.reserve(level, 1)
        self.r.store.move(row, State.PRINTED)  # label is printed at close; code committed now
        self.r.store.move(row, State.VERIFIED)
        self.r.store.container(row, "open", 0)
        self._open_pallet = row
        self._open_pallet_children = []
        return row.code

    def tick(self) -> None:
        if self.pallet_packer is None:
            return
        while True:
            try:
                code = self.r._reads.get_nowait()
            except queue.Empty:
                return
            row = self.r.store.find(code)
            if row is None or row.level != self.case_level:
                self.r._alarm(
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
                self.r.signals.case_palletized.emit(code, row.parent)  # seen again after restart
                continue
            if row.parent is not None and self._on_held_pallet(row):
                continue
            if row.parent is not None and self._reread_closed_pallet(row):
                continue
            if row.parent is not None or row.state != State.VERIFIED.value:
                where = f" in {row.parent}" if row.parent else ""
                self.r._alarm(
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

    def _on_held_pallet(self, case: CodeRow) -> bool:
        """A case of a held pallet read at the palletizer: it belongs on that pallet (alarm)."""
        pallet = self.r.store.find(case.parent or "")
        if pallet is None or pallet.level != self.pallet_level:
            return False
        with read_engine(self.r.store.engine).connect() as conn:
            status = ops.pallet_of(conn, pallet.code).container_status
        if status != ops.HELD:
            return False
        self.r._alarm(
            Alarm(
                "pallet_case",
                "pallet_reader",
                f"case {case.code} is on held pallet {pallet.code}",
                "take the case off, or resume that pallet (提取未成垛) and read it again",
                "warning",
                key="case_on_held_pallet",
                args=(("code", case.code), ("pallet", pallet.code)),
            )
        )
        return True

    def _reread_closed_pallet(self, case: CodeRow) -> bool:
        """A case read again after a restart, whose pallet closed before the restart.

        The palletizer never heard back: tell it again and reprint the pallet's label (the same
        code, never a new one) so the physical pallet gets the label the store gave it.
        """
        pallet = self.r.store.find(case.parent)
        if pallet is None or pallet.level != self.pallet_level:
            return False
        kids = self.r.store.children_of(pallet)
        self._placed()
        self.r.signals.case_palletized.emit(case.code, pallet.code)
        lab = self.r.dev.pallet_labeler
        if lab is not None:
            from drivers.labels.templates import any_pallet_label

            lab.print_label(
                any_pallet_label(
                    pallet.code, product=self.r.store.product, lot=self.r.lot, cases=len(kids)
                )
            )
        full = len(kids) >= self.r.s.level(self.pallet_level).capacity
        self.r.signals.container_closed.emit(self.pallet_level, pallet.code, len(kids), not full)
        return True

    def _stack(self, case: CodeRow, events: list) -> None:
        pallet = self._open_pallet
        for ev in events:
            if isinstance(ev, Linked):
                self.r.store.link(pallet, case)
                self._open_pallet_children.append(case)
                self.r.store.container(pallet, "open", len(self._open_pallet_children))
                self.r.store.flush()
                # The palletizer places the case once the link is stored, before any closing.
                self._placed()
                self.r.signals.case_palletized.emit(case.code, pallet.code)
            elif isinstance(ev, ContainerClosed):
                self._close_pallet(pallet, ev.partial)

    def _close_pallet(self, pallet: CodeRow, partial: bool) -> None:
        n = len(self._open_pallet_children)
        self.r.store.container(pallet, "partial" if partial else "normal", n)
        self.r.store.flush()
        self.r.stats.pallets += 1
        self._print_pallet_label(pallet.code, n)
        self._open_pallet = None
        self._open_pallet_children = []
        self.r.signals.container_closed.emit(self.pallet_level, pallet.code, n, partial)

    def close_partial(self) -> None:
        """Batch end: the open pallet closes as partial."""
        if self.pallet_packer is not None and self._open_pallet is not None:
            for ev in self.pallet_packer.close_partial():
                if isinstance(ev, ContainerClosed):
                    self._close_pallet(self._open_pallet, True)

    def _print_pallet_label(self, code: str, cases: int) -> bool:
        """Print a pallet's label (same code, always); a failure is a fault naming the fix."""
        lab = self.r.dev.pallet_labeler
        if lab is None:
            return False
        from drivers.labels.templates import any_pallet_label

        try:
            lab.print_label(
                any_pallet_label(code, product=self.r.store.product, lot=self.r.lot, cases=cases)
            )
        except DriverError as exc:
            self.r._fault(
                "pallet_labeler",
                str(exc),
                "reprint with `station qa relabel`",
                "pallet_label_not_printed",
                (("pallet", code), ("detail", str(exc))),
            )
            return False
        return True

    # -- pallet operations -----------------------------------------------------------------------
    def pallet_command(self, op: str, args: dict, user: str) -> Future:
        """Carry out a pallet operation in the runner's thread (any thread may call); a Future of
        its result dict (or the StationError that refused it)."""
        fut: Future = Future()
        self._pallet_q.put((op, args, user, fut))
        return fut

    def ops(self, now: float) -> None:
        """The tick's hook: operations from screens at once, from other processes twice a second;
        held pallets closed when the batch finishes."""
        q: queue.Queue = self._pallet_q
        while not q.empty():
            op, args, user, fut = q.get_nowait()
            try:
                fut.set_result(self._pallet_op(op, args, user))
            except Exception as exc:  # handed to the caller, who shows it
                fut.set_exception(exc)
        if now - self._pallet_polled >= POLL_S:
            self._pallet_polled = now
            self._pallet_commands()
        if self.r._finish_requested and not self._held_closed:
            self._held_closed = True
            self._close_held()

    def _pallet_commands(self) -> None:
        station = self.r.s.station.id
        if not commands.pending(read_engine(self.r.store.engine), station):
            return
        for cmd in commands.take(self.r.store.engine, station):
            try:
                result = self._pallet_op(cmd.command, cmd.args, cmd.user)
            except StationError as exc:
                commands.finish(
                    self.r.store.engine,
                    cmd.id,
                    ok=False,
                    result={"error": str(exc), "exit": exc.exit_code},
                )
                continue
            except Exception as exc:  # the caller must hear of it; the line goes on
                log.exception("pallet command %s failed", cmd.command)
                commands.finish(
                    self.r.store.engine,
                    cmd.id,
                    ok=False,
                    result={"error": f"{type(exc).__name__}: {exc}"},
                )
                continue
            commands.finish(self.r.store.engine, cmd.id, ok=True, result=result)

    def _pallet_op(self, op: str, args: dict, user: str) -> dict:
        """One operation: queued changes written, the store changed, the packer rebuilt."""
        if self.pallet_packer is None:
            raise InputError("this line stacks no pallets (no case and pallet levels)")
        if op == "resume" and self.r._finish_requested:
            raise InputError("the batch is finishing: its held pallets are being closed")
        t0 = time.monotonic()
        self.r.store.flush()
        with self.r.store.engine.begin() as conn:
            result = pallet_line.apply(
                conn, self.r.s, op, args, user=user, batch_id=self.r.store.batch_id
            )
        self.restore()
        self._after_pallet_op(op, result)
        log.info("pallet %s by %s in %.0f ms: %s", op, user, (time.monotonic() - t0) * 1000, result)
        return result

    def _after_pallet_op(self, op: str, r: dict) -> None:
        """Labels and signals: a pallet closed now gets its label, a merged-into sealed one a new
        one (its count changed); the world and the screens hear `pallet_changed`."""
        if op == "close":
            self.r.stats.pallets += 1
            r["printed"] = self._print_pallet_label(r["pallet"], r["cases"])
            if r["was"] == ops.OPEN:  # the pallet on the palletizer: closed as at batch end
                self.r.signals.container_closed.emit(
                    self.pallet_level, r["pallet"], r["cases"], r["status"] == ops.PARTIAL
                )
        elif op == "merge" and r["label"]:
            if r["status"] == ops.NORMAL and r["was"][r["into"]] in (ops.OPEN, ops.HELD):
                self.r.stats.pallets += 1  # closed by the cases it took
            r["printed"] = self._print_pallet_label(r["into"], r["cases"])
        self.r.signals.pallet_changed.emit(op, r)

    def _close_held(self) -> None:
        """Batch end: every held pallet of the batch closes as it is, with its label."""
        with read_engine(self.r.store.engine).connect() as conn:
            held = ops.listing(conn, self.r.s, batch_id=self.r.store.batch_id, statuses=(ops.HELD,))
        for p in held:
            try:
                self._pallet_op("close", {"code": p.code}, self.r.store.user)
            except StationError as exc:
                log.error("held pallet %s not closed at batch end: %s", p.code, exc)
