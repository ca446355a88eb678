"""The inkjet feed of a mark station: keep the printer's queue filled write-ahead (reserve →
send → confirm), and void what a lost or silent printer may have printed.

Its own object, composed into LineRunner (station/line/runner.py): it holds the codes in flight
(reserved or printed, by text), those sent and not yet confirmed, those confirmed and not yet
resolved by a read; `self.r` is the runner, whose store (the one writer), devices and alarms it
uses. It runs in the runner's thread.
"""

from __future__ import annotations

import logging
from collections import deque
from typing import Any

from drivers.errors import DriverError
from station.events import MOVING, Alarm
from station.line.store import CodeRow
from station.store.lifecycle import State

log = logging.getLogger("station.line.runner")


class InkjetFeed:
    """Reserve → send → confirm → void on loss, for the item codes the line prints."""

    def __init__(self, runner: Any) -> None:
        self.r = runner
        self.inflight: dict[str, CodeRow] = {}  # reserved or printed item codes, by text
        self.sent: deque[CodeRow] = deque()  # sent to the printer, not yet confirmed
        self.printed: deque[CodeRow] = deque()  # confirmed printed, not yet resolved by a read
        self.missed = 0
        inkjet = runner.s.devices.inkjet
        self.depth = inkjet.depth if inkjet else 0

    def poll(self) -> None:
        """Take the printer's confirmations (and notice triggers it missed)."""
        ink = self.r.dev.inkjet
        if ink is None:
            return
        try:
            done = ink.confirmations(0.0)
        except DriverError as exc:
            self.lost(exc)
            return
        missed = getattr(ink, "missed_triggers", 0)
        if missed != self.missed:
            self.missed = missed
            self._printer_missed(ink)
        for text in done:
            row = self.inflight.get(text)
            if row is None:
                continue
            if self.sent and self.sent[0] is row:
                self.sent.popleft()
            else:
                try:
                    self.sent.remove(row)
                except ValueError:
                    pass
            if row.state == State.RESERVED.value:
                self.r.store.move(row, State.PRINTED)
                self.printed.append(row)
                self.r.stats.printed += 1

    def _printer_missed(self, ink) -> None:
        """The photocell fired with nothing printed: a printer fault, or a starved queue."""
        try:
            st = ink.status()
        except DriverError as exc:
            self.lost(exc)
            return
        if st.faults and not st.ready:
            self.lost(DriverError(ink.name, ink.url, "printer fault: " + ", ".join(st.faults)))
        else:
            self.r._alarm(
                Alarm(
                    "starved",
                    "inkjet",
                    "an item passed the printer with nothing queued",
                    "the station fed the printer too late: slow the line",
                    "warning",
                    key="printer_starved",
                )
            )

    def fill(self) -> None:
        """Keep the printer's queue filled, each code committed as reserved before it is sent."""
        ink = self.r.dev.inkjet
        if ink is None or self.r.state not in MOVING or self.r._finish_requested:
            return
        room = self.depth - len(self.sent)
        # Refill in twos once the queue has room: half the commits, the same write-ahead bound.
        if room < min(2, self.depth):
            return
        rows = self.r.store.reserve(self.r.item_level, room)  # committed before the bytes leave
        for row in rows:
            try:
                ink.send(row.code)
            except DriverError as exc:
                # Nothing sent after this point; what was sent stays reserved → void on restart.
                for rest in rows[rows.index(row) :]:
                    self.r.store.move(rest, State.VOID, "printer refused")
                self.lost(exc)
                return
            self.inflight[row.code] = row
            self.sent.append(row)

    def lost(self, exc: Exception) -> None:
        ink = self.r.dev.inkjet
        maybe = set(ink.in_flight()) if ink is not None else set()
        for row in list(self.sent):
            if row.code in maybe or row.state == State.RESERVED.value:
                self.r.store.move(row, State.VOID, "printer link lost: fate unknown")
                self.inflight.pop(row.code, None)
        self.sent.clear()
        self.r.store.flush()
        self.r._fault(
            "inkjet",
            str(exc),
            "check the printer (ink, head, cable), then clear the fault",
            "printer_fault",
            (("detail", str(exc)),),
        )

    def recover(self) -> None:
        """Before printing again: reconnect, which empties the printer's queue of voided codes."""
        ink = self.r.dev.inkjet
        if ink is None:
            return
        try:
            ink.close()
            ink.connect()
            ink.select_job(self.r.s.devices.inkjet.job)
        except DriverError as exc:
            self.r._fault(
                "inkjet",
                str(exc),
                "check the printer and its cable, then clear",
                "printer_reconnect_failed",
                (("detail", str(exc)),),
            )

    def remove(self, row: CodeRow) -> None:
        """`row` is decided: it is no longer waiting for a confirmation or a read."""
        try:
            self.sent.remove(row)
        except ValueError:
            pass
        try:
            self.printed.remove(row)
        except ValueError:
            pass

    def resolve_before(self, row: CodeRow | None, codeless: deque[tuple[int, str]]) -> None:
        """Codes printed before `row` (None: all) but never read belong to the items rejected
        without a code (`codeless`, in order)."""
        store = self.r.store
        while self.printed and self.printed[0] is not row:
            lost = self.printed.popleft()
            if lost.state != State.PRINTED.value:
                continue
            self.inflight.pop(lost.code, None)
            seq, reason = codeless.popleft() if codeless else (None, "not_verified")
            store.move(lost, State.REJECTED, reason)
            store.set_fields(lost, reason=reason, seq=seq)
            if seq is not None:
                store.attach(seq, lost)
        if self.printed and self.printed[0] is row:
            self.printed.popleft()
        codeless.clear()
