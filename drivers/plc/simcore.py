"""PlcCore: the PLC side of every line handshake, on a Layout, whatever the wire protocol.

A simulator (SimS7PLC, SimMCPLC) owns a server speaking its protocol and a `SignalStore` over
that server's memory; it tells the core what the station wrote (`station_wrote_words`,
`station_wrote_bits`) from inside the server, before the answer goes out, so a test sees the
effect as soon as the driver call returns. The core does what a PLC program would: an item at the
photocell fills a trigger ring slot and bumps the counter; reject requests are consumed up to the
station's pointer and counted in rejects done (or a kick bit kicks the last item); the PLC
heartbeat ticks; a line stop halts the conveyor.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Protocol

from drivers.plc.base import BUZZER_BIT, STACK_BITS, StackLight
from drivers.plc.layout import Bit, Layout, Word

U16 = 0x10000


class SignalStore(Protocol):
    """The server's memory seen as words and bits; each call atomic against the server."""

    def get(self, word: Word) -> int:
        """One word, unsigned."""
        ...

    def put(self, word: Word, value: int) -> None:
        """Set one word."""
        ...

    def get_bit(self, bit: Bit) -> bool:
        """One bit."""
        ...

    def put_bit(self, bit: Bit, on: bool) -> None:
        """Set or clear one bit."""
        ...

    def clear(self) -> None:
        """Every word and bit to 0 (a power cycle)."""
        ...


class PlcCore:
    """The simulated PLC program; see the module docstring. Thread-safe."""

    def __init__(
        self,
        layout: Layout,
        store: SignalStore,
        *,
        name: str = "sim-plc",
        first_seq: int = 1,
        heartbeat_period_s: float = 0.1,
        station_timeout_ms: int = 2000,
    ) -> None:
        self.layout = layout
        self.store = store
        self.name = name
        self.heartbeat_period_s = heartbeat_period_s
        self.station_timeout_ms = station_timeout_ms
        self.errors: list[str] = []
        self.on_trigger: Callable[[int], None] | None = None
        """Called with each seq as the item passes the photocell (conveyor: in the tick thread)."""
        self.lock = threading.RLock()
        self._seq = (first_seq - 1) % U16
        self._triggered = 0
        self._rejects: list[int] = []
        self._hold = False
        self._hb_running = True
        self._station_hb_at: float | None = None
        self._rate = 0.0
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    # -- the tick thread: heartbeat and conveyor ------------------------------------------------
    def start(self) -> None:
        """Start ticking the heartbeat (and the conveyor, if it has a rate)."""
        if self._thread is not None:
            return
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name=f"{self.name}-tick", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Stop ticking; start() resumes."""
        thread, self._thread = self._thread, None
        if thread is not None:
            self._stop.set()
            self._wake.set()
            thread.join(timeout=5)

    def _run(self) -> None:
        now = time.monotonic()
        next_hb, next_item, rate = now + self.heartbeat_period_s, now, 0.0
        while not self._stop.is_set():
            if self._rate != rate:
                rate = self._rate
                next_item = time.monotonic() + (60.0 / rate if rate else 0)
            due = min(next_hb, next_item) if rate else next_hb
            self._wake.wait(max(0.0, due - time.monotonic()))
            self._wake.clear()
            now = time.monotonic()
            if now >= next_hb:
                next_hb += self.heartbeat_period_s
                if self._hb_running:
                    with self.lock:
                        w = self.layout.plc_heartbeat
                        self.store.put(w, (self.store.get(w) + 1) % U16)
            if rate and self._rate == rate and now >= next_item:
                next_item += 60.0 / rate
                if not self.line_stop:
                    self.trigger()

    def conveyor(self, rate_per_min: float) -> None:
        """Let items pass the photocell at this rate (0 stops); paused while line stop is set."""
        self._rate = max(0.0, rate_per_min)
        self._wake.set()

    # -- what the station wrote (called by the server, before it answers) ------------------------
    def station_wrote_words(self, area: str, lo: int, hi: int) -> None:
        """The station wrote words [lo, hi) of `area`."""
        m = self.layout
        keys = m.words_touched(area, lo, hi)
        if m.bits_in_words:
            keys |= m.bits_touched(area, lo * 16, hi * 16)
        self._react(keys)

    def station_wrote_bits(self, area: str, lo: int, hi: int) -> None:
        """The station wrote bits [lo, hi) of `area`."""
        self._react(self.layout.bits_touched(area, lo, hi))

    def _react(self, keys: set[str]) -> None:
        m = self.layout
        with self.lock:
            if "station_heartbeat" in keys:
                self._station_hb_at = time.monotonic()
            kick = m.reject_bit
            if "reject_bit" in keys and kick is not None and self.store.get_bit(kick):
                # A simple PLC kicks the item at the kicker now (the last one triggered)
                # and resets the bit once it has latched it.
                self._rejects.append(self._seq)
                self._bump(m.rejects_done)
                self.store.put_bit(kick, False)
            if "reject_write_ptr" in keys and m.reject_bit is None:
                done, ptr = self.store.get(m.rejects_done), self.store.get(m.reject_write_ptr)
                pending = (ptr - done) % U16
                if pending > m.reject_ring_len:
                    self.errors.append(f"reject ring overrun: {pending} pending")
                if not self._hold:
                    self._consume_rejects()

    def _bump(self, w: Word) -> None:
        self.store.put(w, (self.store.get(w) + 1) % U16)

    def _consume_rejects(self) -> None:
        m = self.layout
        while (done := self.store.get(m.rejects_done)) != self.store.get(m.reject_write_ptr):
            self._rejects.append(self.store.get(m.reject_ring.at(done % m.reject_ring_len)))
            self.store.put(m.rejects_done, (done + 1) % U16)

    # -- world hooks --------------------------------------------------------------------------
    def trigger(self) -> int:
        """An item passes the photocell: ring slot, then counter, in one scan; returns the seq."""
        m = self.layout
        with self.lock:
            self._seq = seq = (self._seq + 1) % U16
            count = self.store.get(m.trigger_counter)
            self.store.put(m.trigger_ring.at(count % m.trigger_ring_len), seq)
            self.store.put(m.trigger_counter, (count + 1) % U16)
            self._triggered += 1
        if self.on_trigger is not None:
            self.on_trigger(seq)
        return seq

    @property
    def triggered(self) -> int:
        """Triggers made since this simulator was built."""
        return self._triggered

    def rejects(self) -> list[int]:
        """Sequence numbers the PLC consumed for rejection since the last call, in order."""
        with self.lock:
            out, self._rejects = self._rejects, []
            return out

    @property
    def hold_rejects(self) -> bool:
        """While True the PLC does not consume reject requests (a busy or stuck PLC)."""
        return self._hold

    @hold_rejects.setter
    def hold_rejects(self, hold: bool) -> None:
        with self.lock:
            self._hold = hold
            if not hold and self.layout.reject_bit is None:
                self._consume_rejects()

    @property
    def stack_light(self) -> StackLight:
        """The colour the station set."""
        bits = self.store.get(self.layout.stack_light) & 7
        return next((k for k, v in STACK_BITS.items() if v == bits), StackLight.OFF)

    @property
    def buzzer(self) -> bool:
        """True when the station switched the buzzer on."""
        return bool(self.store.get(self.layout.stack_light) & BUZZER_BIT)

    @property
    def line_stop(self) -> bool:
        """True while the station requests a line stop (the conveyor halts)."""
        m = self.layout
        if m.line_stop_bit is not None:
            return self.store.get_bit(m.line_stop_bit)
        assert m.line_stop_word is not None
        return bool(self.store.get(m.line_stop_word))

    @property
    def case_result(self) -> tuple[int, int] | None:
        """(case number, verdict) the station wrote last, or None before its first verdict."""
        w = self.layout.case_result
        if w is None:
            return None
        with self.lock:
            no, verdict = self.store.get(w), self.store.get(w.at(1))
        return (no, verdict) if verdict else None

    @property
    def cases_placed(self) -> int:
        """The station's cases-placed counter (u16)."""
        w = self.layout.cases_placed
        return self.store.get(w) if w is not None else 0

    def set_heartbeat_running(self, running: bool) -> None:
        """Stop (False) or restart the PLC's heartbeat counter."""
        self._hb_running = running

    @property
    def station_heartbeat(self) -> int:
        """The station's heartbeat word as it last wrote it (a restarted station counts from 1)."""
        with self.lock:
            return self.store.get(self.layout.station_heartbeat)

    @property
    def station_alive(self) -> bool:
        """True when the station's heartbeat word was written within station_timeout_ms."""
        at = self._station_hb_at
        return at is not None and (time.monotonic() - at) * 1000 <= self.station_timeout_ms

    def power_cycle(self) -> None:
        """Every word and bit to 0 (the server is restarted around this by the simulator)."""
        with self.lock:
            self.store.clear()


class CoreFacade:
    """The world hooks and state of a simulator's PlcCore, as the simulator's own attributes."""

    core: PlcCore

    def trigger(self) -> int:
        """An item passes the photocell; returns its seq."""
        return self.core.trigger()

    def conveyor(self, rate_per_min: float) -> None:
        """Let items pass the photocell at this rate (0 stops); paused while line stop is set."""
        self.core.conveyor(rate_per_min)

    def rejects(self) -> list[int]:
        """Sequence numbers the PLC consumed for rejection since the last call, in order."""
        return self.core.rejects()

    def set_heartbeat_running(self, running: bool) -> None:
        """Stop (False) or restart the PLC's heartbeat counter."""
        self.core.set_heartbeat_running(running)

    @property
    def on_trigger(self) -> Callable[[int], None] | None:
        """Called with each seq as the item passes the photocell."""
        return self.core.on_trigger

    @on_trigger.setter
    def on_trigger(self, fn: Callable[[int], None] | None) -> None:
        self.core.on_trigger = fn

    @property
    def hold_rejects(self) -> bool:
        """While True the PLC does not consume reject requests."""
        return self.core.hold_rejects

    @hold_rejects.setter
    def hold_rejects(self, hold: bool) -> None:
        self.core.hold_rejects = hold

    @property
    def triggered(self) -> int:
        """Triggers made since this simulator was built."""
        return self.core.triggered

    @property
    def errors(self) -> list[str]:
        """Handshake violations the PLC saw (a reject ring overrun)."""
        return self.core.errors

    @property
    def stack_light(self) -> StackLight:
        """The colour the station set."""
        return self.core.stack_light

    @property
    def buzzer(self) -> bool:
        """True when the station switched the buzzer on."""
        return self.core.buzzer

    @property
    def line_stop(self) -> bool:
        """True while the station requests a line stop."""
        return self.core.line_stop

    @property
    def case_result(self) -> tuple[int, int] | None:
        """(case number, verdict) the station wrote last, or None."""
        return self.core.case_result

    @property
    def cases_placed(self) -> int:
        """The station's cases-placed counter."""
        return self.core.cases_placed

    @property
    def station_heartbeat(self) -> int:
        """The station's heartbeat word as it last wrote it."""
        return self.core.station_heartbeat

    @property
    def station_alive(self) -> bool:
        """True when the station's heartbeat came within station_timeout_ms."""
        return self.core.station_alive
