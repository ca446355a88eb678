"""HandshakePLC: the line PLC handshakes over any word-and-bit bus (S7, MELSEC MC protocol).

The same semantics as ModbusPLC (see modbus.py and README.md), on a `layout.Layout`: one read of
counter + trigger ring per poll, the reject pointer and ring in one write, a kick bit instead of a
ring for PLCs without tracking, the stack light bits, the line stop bit or word, heartbeats both
ways, case verdicts and the cases-placed counter. A bus (`WordBus`) moves words and bits; a
`BusLink` gives it the shared connect/backoff behaviour.
"""

from __future__ import annotations

import threading
import time
from typing import Protocol

from drivers.errors import DeviceFault, DriverConnectionError
from drivers.plc.base import BUZZER_BIT, STACK_BITS, StackLight, Trigger, TriggersLost
from drivers.plc.layout import Bit, Layout, Word

U16 = 0x10000


class WordBus(Protocol):
    """Moves 16-bit words and single bits; every call bounded, errors are DriverErrors."""

    connects: int

    def open(self) -> bool:
        """Connect if not connected; True when this call made a new connection."""
        ...

    def close(self) -> None:
        """Close; the next call reconnects."""
        ...

    def read(self, word: Word, count: int, what: str) -> list[int]:
        """Read `count` words from `word` on (unsigned)."""
        ...

    def write(self, word: Word, values: list[int], what: str) -> None:
        """Write words from `word` on, in one request."""
        ...

    def write_bit(self, bit: Bit, on: bool, what: str) -> None:
        """Set or clear one bit (the PLC's other bits in that byte or word untouched)."""
        ...


class BusLink:
    """Connect-on-demand with backoff: a failed connect doubles the wait (50 ms..5 s) before the
    next attempt, and calls inside that wait fail at once. Subclasses give `_connect`/`_drop`."""

    def __init__(self, url: str, name: str, timeout_s: float) -> None:
        self.url, self.name, self.timeout_s = url, name, timeout_s
        self.backoff_min_s, self.backoff_max_s = 0.05, 5.0
        self.backoff_s = 0.0
        self.connects = 0
        self._connected = False
        self._next_attempt = 0.0
        self._lock = threading.RLock()

    def _connect(self) -> None:
        raise NotImplementedError

    def _drop(self) -> None:
        raise NotImplementedError

    @property
    def connected(self) -> bool:
        """True while a connection is open."""
        return self._connected

    def open(self) -> bool:
        """Connect if not connected; True when this call made a new connection."""
        with self._lock:
            if self._connected:
                return False
            now = time.monotonic()
            if now < self._next_attempt:
                wait_ms = (self._next_attempt - now) * 1000
                raise DriverConnectionError(
                    self.name, self.url, f"not connected; next attempt in {wait_ms:.0f} ms"
                )
            try:
                self._connect()
            except Exception as exc:
                self._drop()
                doubled = max(self.backoff_min_s, self.backoff_s * 2)
                self.backoff_s = min(self.backoff_max_s, doubled)
                self._next_attempt = time.monotonic() + self.backoff_s
                raise DriverConnectionError(
                    self.name,
                    self.url,
                    f"cannot connect within {self.timeout_s} s: {exc}",
                    f"retrying in {self.backoff_s * 1000:.0f} ms; "
                    "check power, cable, IP address and port",
                ) from exc
            self._connected = True
            self.backoff_s = 0.0
            self.connects += 1
            return True

    def close(self) -> None:
        """Close the connection; the next call reconnects."""
        with self._lock:
            self._drop()
            self._connected = False


class HandshakePLC:
    """The line PLC on a Layout over a WordBus; implements base.LinePLC."""

    def __init__(
        self,
        url: str,
        bus: WordBus,
        layout: Layout,
        *,
        name: str = "plc",
        heartbeat_timeout_ms: int = 2000,
    ) -> None:
        self.url = url
        self.name = name
        self.bus = bus
        self.layout = layout
        self.heartbeat_timeout_ms = heartbeat_timeout_ms
        self._lock = threading.Lock()
        self._last_raw: int | None = None
        self._total = 0
        self._reject_ptr: int | None = None
        self._reject_slots: list[int] = [0] * layout.reject_ring_len
        self._rejects_done: int | None = None
        self._station_hb = 0
        self._plc_hb: int | None = None
        self._plc_hb_at = time.monotonic()
        self._synced_connects = -1
        self._placed: int | None = None

    # -- lifecycle ----------------------------------------------------------------------------
    def connect(self) -> None:
        """Open the link; take the trigger counter and the reject pointer as baselines."""
        with self._lock:
            self.bus.open()
            self._read_status("read trigger counter")
            self._after_connect()

    def close(self) -> None:
        """Release the link; idempotent."""
        with self._lock:
            self.bus.close()

    def __enter__(self) -> HandshakePLC:
        """connect() and return self."""
        self.connect()
        return self

    def __exit__(self, *exc: object) -> None:
        """close()."""
        self.close()

    @property
    def kicks_now(self) -> bool:
        """True when a reject request fires the kicker at once (kick bit, no item tracking)."""
        return self.layout.reject_bit is not None

    @property
    def trigger_count(self) -> int:
        """Triggers counted so far (the PLC's counter, unwrapped past 65535)."""
        return self._total

    # -- triggers -----------------------------------------------------------------------------
    def _read_status(self, what: str = "poll triggers") -> list[int]:
        m = self.layout
        lo, hi = m.poll_span
        words = self.bus.read(Word(m.trigger_counter.area, lo), hi - lo, what)
        if m.in_poll(m.plc_heartbeat):
            self._see_plc_heartbeat(words[m.plc_heartbeat.index - lo])
        if m.in_poll(m.rejects_done):
            self._rejects_done = words[m.rejects_done.index - lo]
        if self._last_raw is None:
            self._last_raw = self._total = words[m.trigger_counter.index - lo]
        return words

    def poll_triggers(self) -> list[Trigger]:
        """New triggers since the last poll, oldest first; TriggersLost on overrun or restart."""
        with self._lock:
            m = self.layout
            lo, _ = m.poll_span
            words = self._read_status()
            raw = words[m.trigger_counter.index - lo]
            assert self._last_raw is not None
            old = last = self._last_raw
            delta = (raw - last) % U16
            # Half the counter range between two polls is minutes at line rate, long after the
            # heartbeat faulted: a counter that moved that far went back, the PLC restarted.
            restarted = delta >= U16 // 2
            if restarted:
                last, delta = 0, raw
            if not delta and not restarted:
                return []
            n = m.trigger_ring_len
            lost = max(0, delta - n)
            ring = m.trigger_ring.index - lo
            out = [
                Trigger(seq=words[ring + (last + k) % n], counter=self._total + k + 1)
                for k in range(lost, delta)
            ]
            self._last_raw = raw
            self._total += delta
            if restarted:
                raise TriggersLost(
                    self.name,
                    self.url,
                    f"trigger counter went back from {old} to {raw}: "
                    f"PLC restarted, triggers before the restart unknown, {len(out)} after it",
                    lost=lost,
                    triggers=out,
                    restarted=True,
                )
            if lost:
                raise TriggersLost(
                    self.name,
                    self.url,
                    f"trigger ring overrun: {lost} triggers lost, {len(out)} recovered "
                    f"(counter moved {delta} since the last poll, ring holds {n})",
                    lost=lost,
                    triggers=out,
                )
            return out

    # -- rejects ------------------------------------------------------------------------------
    def _after_connect(self) -> None:
        """After each (re)connect: restart the heartbeat clock, read the reject pointer and ring."""
        m = self.layout
        self._plc_hb_at = time.monotonic()
        self._synced_connects = self.bus.connects
        if m.reject_bit is not None:
            return
        if not m.in_poll(m.rejects_done):
            self._rejects_done = self.bus.read(m.rejects_done, 1, "read rejects done")[0]
        if m.reject_block:
            first = min(m.reject_write_ptr, m.reject_ring)
            words = self.bus.read(first, m.reject_ring_len + 1, "read reject ring")
            self._reject_ptr = words[m.reject_write_ptr.index - first.index]
            start = m.reject_ring.index - first.index
            self._reject_slots = words[start : start + m.reject_ring_len]
        else:
            self._reject_ptr = self.bus.read(m.reject_write_ptr, 1, "read reject pointer")[0]
            self._reject_slots = self.bus.read(m.reject_ring, m.reject_ring_len, "read ring")

    def _sync(self) -> None:
        self.bus.open()
        if self._synced_connects != self.bus.connects:
            self._after_connect()

    def request_reject(self, seq: int) -> None:
        """Queue a kick for the item with this sequence number (kick bit: kick now)."""
        if not 0 <= seq < U16:
            raise ValueError(f"seq {seq} out of 0..65535")
        with self._lock:
            m = self.layout
            if m.reject_bit is not None:
                self.bus.write_bit(m.reject_bit, True, f"reject seq {seq} (kick bit)")
                return
            self._sync()
            assert self._reject_ptr is not None
            ptr = self._reject_ptr
            if self._pending(ptr) >= m.reject_ring_len:
                self._rejects_done = self.bus.read(m.rejects_done, 1, "read rejects done")[0]
                if self._pending(ptr) >= m.reject_ring_len:
                    raise DeviceFault(
                        self.name,
                        self.url,
                        f"reject seq {seq}: reject ring full, PLC has not consumed "
                        f"{self._pending(ptr)} requests",
                        "check the PLC program consumes reject_ring and bumps rejects_done",
                    )
            slots = list(self._reject_slots)
            slots[ptr % m.reject_ring_len] = seq
            new_ptr = (ptr + 1) % U16
            what = f"reject seq {seq}"
            if m.reject_block:
                if m.reject_write_ptr < m.reject_ring:
                    self.bus.write(m.reject_write_ptr, [new_ptr, *slots], what)
                else:
                    self.bus.write(m.reject_ring, [*slots, new_ptr], what)
            else:
                # Slot first, pointer second: the PLC never sees a pointer ahead of its slot.
                self.bus.write(m.reject_ring.at(ptr % m.reject_ring_len), [seq], what)
                self.bus.write(m.reject_write_ptr, [new_ptr], what)
            self._reject_slots = slots
            self._reject_ptr = new_ptr

    def _pending(self, ptr: int) -> int:
        if self._rejects_done is None:
            return 0
        return (ptr - self._rejects_done) % U16

    # -- outputs ------------------------------------------------------------------------------
    def set_stack_light(self, light: StackLight, buzzer: bool = False) -> None:
        """Write the stack light bit mask: 1 green, 2 amber, 4 red, 8 buzzer."""
        value = STACK_BITS[StackLight(light)] | (BUZZER_BIT if buzzer else 0)
        with self._lock:
            self.bus.write(self.layout.stack_light, [value], f"set stack light {light}")

    def set_line_stop(self, stop: bool) -> None:
        """Set or clear the line stop request (a bit, or a word 1/0)."""
        what = "set line stop" if stop else "clear line stop"
        with self._lock:
            if self.layout.line_stop_bit is not None:
                self.bus.write_bit(self.layout.line_stop_bit, stop, what)
            else:
                assert self.layout.line_stop_word is not None
                self.bus.write(self.layout.line_stop_word, [int(stop)], what)

    # -- case gate and palletizer -------------------------------------------------------------
    def report_case(self, case_no: int, verdict: int) -> None:
        """Write [case number, verdict] in one write (no-op when the map has no case_result)."""
        if self.layout.case_result is None:
            return
        with self._lock:
            self.bus.write(
                self.layout.case_result,
                [case_no % U16, verdict],
                f"case {case_no} verdict {verdict}",
            )

    def case_placed(self) -> None:
        """Bump the cases-placed counter (no-op when the map has no cases_placed)."""
        w = self.layout.cases_placed
        if w is None:
            return
        with self._lock:
            if self._placed is None:  # continue the PLC's count across station restarts
                self._placed = self.bus.read(w, 1, "read cases placed")[0]
            self._placed = (self._placed + 1) % U16
            self.bus.write(w, [self._placed], f"case placed ({self._placed})")

    # -- heartbeat ----------------------------------------------------------------------------
    def _see_plc_heartbeat(self, value: int) -> None:
        if value != self._plc_hb:
            self._plc_hb = value
            self._plc_hb_at = time.monotonic()

    def heartbeat(self) -> None:
        """Write our next heartbeat, read theirs; DeviceFault when theirs is stale."""
        with self._lock:
            self._sync()
            m = self.layout
            self._station_hb = (self._station_hb + 1) % U16
            self.bus.write(m.station_heartbeat, [self._station_hb], "write heartbeat")
            value = self.bus.read(m.plc_heartbeat, 1, "read PLC heartbeat")[0]
            self._see_plc_heartbeat(value)
            age_ms = (time.monotonic() - self._plc_hb_at) * 1000
            if age_ms > self.heartbeat_timeout_ms:
                raise DeviceFault(
                    self.name,
                    self.url,
                    f"PLC heartbeat stuck at {value} for {age_ms:.0f} ms "
                    f"(limit {self.heartbeat_timeout_ms} ms)",
                    "the PLC program is stopped or its server is stale",
                )
