"""The inkjet feed of the runner: keep the printer's queue filled write-ahead (reserve → send →
confirm), and void what a lost or silent printer may have printed.

A mixin of LineRunner (station/line/runner.py), split off to keep each file readable; it shares
the runner's state (self._sent, self._printed, self._inflight, self.store, self.dev).
"""

from __future__ import annotations

import logging

from drivers.errors import DriverError
from station.events import MOVING, Alarm
from station.store.lifecycle import State

log = logging.getLogger("station.line.runner")


class PrinterFeed:
    """The printer side of LineRunner (mixin)."""

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
                    key="printer_starved",
                )
            )

    def _feed_printer(self) -> None:
        ink = self.dev.inkjet
        if ink is None or self.state not in MOVING or self._finish_requested:
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
            "inkjet",
            str(exc),
            "check the printer (ink, head, cable), then clear the fault",
            "printer_fault",
            (("detail", str(exc)),),
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
            self._fault(
                "inkjet",
                str(exc),
                "check the printer and its cable, then clear",
                "printer_reconnect_failed",
                (("detail", str(exc)),),
            )
