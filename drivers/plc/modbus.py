"""ModbusPLC: the line PLC over Modbus TCP or RTU, on the register map of base.RegisterMap.

Triggers: the PLC bumps `trigger_counter` (u16, wraps) and writes the item's sequence number into
`trigger_ring[(count - 1) % trigger_ring_len]`. One FC03 read of counter + ring (+ heartbeat and
rejects done) per poll returns every trigger since the last poll as long as fewer than
`trigger_ring_len` came in between; more is an overrun, reported with the number lost.

Rejects: the station writes the seq into `reject_ring[ptr % reject_ring_len]` and bumps
`reject_write_ptr`, the pointer and the whole ring in one FC16 (the station owns the ring, so
rewriting older slots with the values they hold is harmless). The PLC consumes slots up to the
pointer and reports its own count in `rejects_done`; a request that would overwrite an
unconsumed slot is refused. Coil mode (`reject_coil`): FC05 ON means "kick now"; the PLC resets it.
"""

from __future__ import annotations

import threading
import time

from drivers.errors import DeviceFault
from drivers.plc.base import (
    BUZZER_BIT,
    STACK_BITS,
    RegisterMap,
    StackLight,
    Trigger,
    TriggersLost,
)
from drivers.plc.link import ModbusLink

U16 = 0x10000


class ModbusPLC:
    """The line PLC over Modbus; see the module docstring for the handshakes."""

    def __init__(
        self,
        url: str,
        *,
        register_map: RegisterMap | None = None,
        name: str = "plc",
        timeout_s: float = 0.5,
        heartbeat_timeout_ms: int = 2000,
    ) -> None:
        self.url = url
        self.name = name
        self.map = register_map or RegisterMap()
        self.heartbeat_timeout_ms = heartbeat_timeout_ms
        self.link = ModbusLink(url, name=name, unit_id=self.map.unit_id, timeout_s=timeout_s)
        self._lock = threading.Lock()
        self._last_raw: int | None = None
        self._total = 0
        self._reject_ptr: int | None = None
        self._reject_slots: list[int] = [0] * self.map.reject_ring_len
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
            self.link.open()
            self._read_status("read trigger counter")
            self._after_connect()

    def close(self) -> None:
        """Release the link; idempotent."""
        with self._lock:
            self.link.close()

    def __enter__(self) -> ModbusPLC:
        """connect() and return self."""
        self.connect()
        return self

    def __exit__(self, *exc: object) -> None:
        """close()."""
        self.close()

    @property
    def kicks_now(self) -> bool:
        """True when a reject request fires the kicker at once (reject coil, no item tracking)."""
        return self.map.reject_coil is not None

    @property
    def trigger_count(self) -> int:
        """Triggers counted so far (the PLC's counter, unwrapped past 65535)."""
        return self._total

    # -- triggers -----------------------------------------------------------------------------
    def _read_status(self, what: str = "poll triggers") -> list[int]:
        """One FC03 over the poll span; updates heartbeat and rejects-done tracking."""
        m = self.map
        lo, hi = m.poll_span
        regs = self.link.read(lo, hi - lo, what)
        if lo <= m.plc_heartbeat < hi:
            self._see_plc_heartbeat(regs[m.plc_heartbeat - lo])
        if lo <= m.rejects_done < hi:
            self._rejects_done = regs[m.rejects_done - lo]
        if self._last_raw is None:
            self._last_raw = regs[m.trigger_counter - lo]
            self._total = self._last_raw
        return regs

    def poll_triggers(self) -> list[Trigger]:
        """New triggers since the last poll, oldest first; TriggersLost on overrun or restart."""
        with self._lock:
            m = self.map
            lo, _ = m.poll_span
            regs = self._read_status()
            raw = regs[m.trigger_counter - lo]
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
            ring = m.trigger_ring - lo
            out = [
                Trigger(seq=regs[ring + (last + k) % n], counter=self._total + k + 1)
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
        m = self.map
        self._plc_hb_at = time.monotonic()
        self._synced_connects = self.link.connects
        if m.reject_coil is not None:
            return
        lo, hi = m.poll_span
        if not lo <= m.rejects_done < hi:
            self._rejects_done = self.link.read(m.rejects_done, 1, "read rejects done")[0]
        if m.reject_block:
            lo = min(m.reject_write_ptr, m.reject_ring)
            regs = self.link.read(lo, m.reject_ring_len + 1, "read reject ring")
            self._reject_ptr = regs[m.reject_write_ptr - lo]
            start = m.reject_ring - lo
            self._reject_slots = regs[start : start + m.reject_ring_len]
        else:
            self._reject_ptr = self.link.read(m.reject_write_ptr, 1, "read reject pointer")[0]
            self._reject_slots = self.link.read(m.reject_ring, m.reject_ring_len, "read ring")

    def request_reject(self, seq: int) -> None:
        """Queue a kick for the item with this sequence number (coil mode: kick now)."""
        if not 0 <= seq < U16:
            raise ValueError(f"seq {seq} out of 0..65535")
        with self._lock:
            m = self.map
            if m.reject_coil is not None:
                self.link.write_coil(m.reject_coil, True, f"reject seq {seq} (coil)")
                return
            self.link.open()
            if self._synced_connects != self.link.connects:
                self._after_connect()
            assert self._reject_ptr is not None
            ptr = self._reject_ptr
            if self._pending(ptr) >= m.reject_ring_len:
                self._rejects_done = self.link.read(m.rejects_done, 1, "read rejects done")[0]
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
                    self.link.write(m.reject_write_ptr, [new_ptr, *slots], what)
                else:
                    self.link.write(m.reject_ring, [*slots, new_ptr], what)
            else:
                # Slot first, pointer second: the PLC never sees a pointer ahead of its slot.
                self.link.write(m.reject_ring + ptr % m.reject_ring_len, [seq], what)
                self.link.write(m.reject_write_ptr, [new_ptr], what)
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
            self.link.write(self.map.stack_light, [value], f"set stack light {light}")

    def set_line_stop(self, stop: bool) -> None:
        """Set or clear the line stop request (coil, or register 1/0)."""
        what = "set line stop" if stop else "clear line stop"
        with self._lock:
            if self.map.line_stop_coil is not None:
                self.link.write_coil(self.map.line_stop_coil, stop, what)
            else:
                assert self.map.line_stop_register is not None
                self.link.write(self.map.line_stop_register, [int(stop)], what)

    # -- case gate and palletizer ---------------------------------------------------------------
    def report_case(self, case_no: int, verdict: int) -> None:
        """Write [case number, verdict] in one FC16 (no-op when the map has no case_result)."""
        if self.map.case_result is None:
            return
        with self._lock:
            self.link.write(
                self.map.case_result, [case_no % U16, verdict], f"case {case_no} verdict {verdict}"
            )

    def case_placed(self) -> None:
        """Bump the cases-placed counter (no-op when the map has no cases_placed)."""
        m = self.map
        if m.cases_placed is None:
            return
        with self._lock:
            if self._placed is None:  # continue the PLC's count across station restarts
                self._placed = self.link.read(m.cases_placed, 1, "read cases placed")[0]
            self._placed = (self._placed + 1) % U16
            self.link.write(m.cases_placed, [self._placed], f"case placed ({self._placed})")

    # -- heartbeat ----------------------------------------------------------------------------
    def _see_plc_heartbeat(self, value: int) -> None:
        if value != self._plc_hb:
            self._plc_hb = value
            self._plc_hb_at = time.monotonic()

    def heartbeat(self) -> None:
        """Write our next heartbeat, read theirs; DeviceFault when theirs is stale."""
        with self._lock:
            self.link.open()
            if self._synced_connects != self.link.connects:
                self._after_connect()
            self._station_hb = (self._station_hb + 1) % U16
            self.link.write(self.map.station_heartbeat, [self._station_hb], "write heartbeat")
            value = self.link.read(self.map.plc_heartbeat, 1, "read PLC heartbeat")[0]
            self._see_plc_heartbeat(value)
            age_ms = (time.monotonic() - self._plc_hb_at) * 1000
            if age_ms > self.heartbeat_timeout_ms:
                raise DeviceFault(
                    self.name,
                    self.url,
                    f"PLC heartbeat stuck at {value} for {age_ms:.0f} ms "
                    f"(limit {self.heartbeat_timeout_ms} ms)",
                    "the PLC program is stopped or its Modbus server is stale",
                )
