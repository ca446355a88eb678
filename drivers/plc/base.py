"""The line PLC interface and its register map (drivers are opened by drivers.plc.factory)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields
from enum import StrEnum
from typing import Any, Protocol

from drivers.errors import DeviceFault, DriverError

MAX_READ = 125
"""Registers one Modbus read (FC03) may return."""


@dataclass(frozen=True)
class RegisterMap:
    """Where things live on the PLC: holding-register and coil addresses (0-based, on the wire).

    The PLC-written block (counter, heartbeat, rejects done, trigger ring) is contiguous so one
    FC03 read returns all the station needs; the reject pointer sits right before its ring so one
    FC16 write hands a request over. Build from config with `RegisterMap.from_dict`.
    """

    unit_id: int = 1
    trigger_counter: int = 0
    plc_heartbeat: int = 1
    rejects_done: int = 2
    trigger_ring: int = 3
    trigger_ring_len: int = 16
    station_heartbeat: int = 20
    stack_light: int = 21
    reject_write_ptr: int = 22
    reject_ring: int = 23
    reject_ring_len: int = 16
    reject_coil: int | None = None
    line_stop_coil: int | None = 0
    line_stop_register: int | None = None
    case_result: int | None = 100
    """Two registers the station writes in one FC16: the case number its camera frame carried and
    the verdict (CASE_ACCEPTED, CASE_REJECTED or CASE_LABEL_REFUSED) that opens the case gate."""
    cases_placed: int | None = 102
    """Cases the station linked to a pallet (u16, wraps): the palletizer places one per count."""

    def __post_init__(self) -> None:
        for ring_len, key in (
            (self.trigger_ring_len, "trigger_ring_len"),
            (self.reject_ring_len, "reject_ring_len"),
        ):
            # Counters wrap at 65536; the slot of count c is c % len only if len divides 65536.
            if ring_len < 1 or ring_len > 64 or ring_len & (ring_len - 1):
                raise ValueError(f"plc register map: {key}={ring_len} must be 1, 2, 4, ... 64")
        if not 0 <= self.unit_id <= 255:
            raise ValueError(f"plc register map: unit_id={self.unit_id} must be 0..255")
        if (self.line_stop_coil is None) == (self.line_stop_register is None):
            raise ValueError(
                "plc register map: set exactly one of line_stop_coil, line_stop_register"
            )
        lo, hi = self.trigger_span
        if hi - lo > MAX_READ:
            raise ValueError(
                "plc register map: trigger_counter and trigger_ring must lie within "
                f"{MAX_READ} registers so one read returns both"
            )
        self._check_overlaps()

    def _check_overlaps(self) -> None:
        """Two names on one holding register (or coil) would corrupt each other: refuse."""
        registers = {
            "trigger_counter": (self.trigger_counter, 1),
            "plc_heartbeat": (self.plc_heartbeat, 1),
            "rejects_done": (self.rejects_done, 1),
            "trigger_ring": (self.trigger_ring, self.trigger_ring_len),
            "station_heartbeat": (self.station_heartbeat, 1),
            "stack_light": (self.stack_light, 1),
            "reject_write_ptr": (self.reject_write_ptr, 1),
            "reject_ring": (self.reject_ring, self.reject_ring_len),
        }
        if self.line_stop_register is not None:
            registers["line_stop_register"] = (self.line_stop_register, 1)
        if self.case_result is not None:
            registers["case_result"] = (self.case_result, 2)
        if self.cases_placed is not None:
            registers["cases_placed"] = (self.cases_placed, 1)
        coils = {"reject_coil": self.reject_coil, "line_stop_coil": self.line_stop_coil}
        owner: dict[tuple[str, int], str] = {}
        spans = [("register", k, a, n) for k, (a, n) in registers.items()]
        spans += [("coil", k, a, 1) for k, a in coils.items() if a is not None]
        for space, key, start, count in spans:
            if not 0 <= start <= 0xFFFF - count + 1:
                raise ValueError(f"plc register map: {key}={start} outside 0..65535")
            for addr in range(start, start + count):
                other = owner.setdefault((space, addr), key)
                if other != key:
                    raise ValueError(f"plc register map: {key} and {other} share {space} {addr}")

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> RegisterMap:
        """Build from a config table; unknown keys are an error naming the key."""
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise ValueError(f"plc register map: unknown key(s) {unknown}; known: {sorted(known)}")
        # TOML has no null: -1 (or "none") switches an optional address off.
        optional = {"reject_coil", "line_stop_coil", "line_stop_register", "case_result",
                    "cases_placed"}  # fmt: skip
        values: dict[str, Any] = {
            k: None if k in optional and (v == -1 or str(v).lower() == "none") else v
            for k, v in data.items()
        }
        return cls(**values)

    @property
    def trigger_span(self) -> tuple[int, int]:
        """[start, end) of the smallest read covering the counter and the trigger ring."""
        lo = min(self.trigger_counter, self.trigger_ring)
        hi = max(self.trigger_counter + 1, self.trigger_ring + self.trigger_ring_len)
        return lo, hi

    @property
    def poll_span(self) -> tuple[int, int]:
        """[start, end) of the poll read: trigger span, plus heartbeat and rejects done if near."""
        lo, hi = self.trigger_span
        for extra in (self.plc_heartbeat, self.rejects_done):
            nlo, nhi = min(lo, extra), max(hi, extra + 1)
            if nhi - nlo <= MAX_READ:
                lo, hi = nlo, nhi
        return lo, hi

    @property
    def reject_block(self) -> bool:
        """True when pointer and ring are adjacent, so one FC16 writes a request and the pointer."""
        return self.reject_write_ptr in (
            self.reject_ring - 1,
            self.reject_ring + self.reject_ring_len,
        )


@dataclass(frozen=True)
class Trigger:
    """An item passed the photocell: the PLC's sequence number and the trigger count it made."""

    seq: int
    counter: int


class StackLight(StrEnum):
    """The tower light colour; the register holds a bit mask (see STACK_BITS)."""

    OFF = "off"
    GREEN = "green"
    AMBER = "amber"
    RED = "red"


CASE_ACCEPTED = 1
CASE_REJECTED = 2
CASE_LABEL_REFUSED = 3
"""Case verdicts in `case_result`: pass the case on; take it off and rework it; and the same with
its label taken off too (the station will not accept that label again)."""

STACK_BITS = {StackLight.OFF: 0, StackLight.GREEN: 1, StackLight.AMBER: 2, StackLight.RED: 4}
BUZZER_BIT = 8


class TriggersLost(DriverError):
    """Triggers went missing: `lost` of them (ring overrun), or an unknown number (`restarted`).

    `triggers` are the ones that survived, in order: hand them on like a normal poll's result.
    """

    def __init__(
        self,
        device: str,
        port: str,
        what: str,
        *,
        lost: int,
        triggers: list[Trigger],
        restarted: bool = False,
    ) -> None:
        hint = (
            "items in flight are unknown: reject them"
            if restarted
            else "poll faster or enlarge trigger_ring_len"
        )
        super().__init__(device, port, what, hint)
        self.lost = lost
        self.triggers = triggers
        self.restarted = restarted


class ModbusRefused(DeviceFault):
    """The PLC answered with a Modbus exception response; `code` is the exception code."""

    def __init__(self, device: str, port: str, what: str, hint: str, code: int) -> None:
        super().__init__(device, port, what, hint)
        self.code = code


class LinePLC(Protocol):
    """What the line needs from its PLC."""

    name: str
    url: str

    def connect(self) -> None:
        """Open the link and take the PLC's trigger counter and reject pointer as baselines."""
        ...

    def close(self) -> None:
        """Release the link; idempotent."""
        ...

    def poll_triggers(self) -> list[Trigger]:
        """New triggers since the last poll, in order; TriggersLost on ring overrun."""
        ...

    def request_reject(self, seq: int) -> None:
        """Ask the PLC to kick the item with this sequence number."""
        ...

    def set_stack_light(self, light: StackLight, buzzer: bool = False) -> None:
        """Set the tower light colour and buzzer."""
        ...

    def set_line_stop(self, stop: bool) -> None:
        """Set (True) or clear the line stop request."""
        ...

    def heartbeat(self) -> None:
        """Write ours, read theirs; DeviceFault when theirs has not changed for the timeout."""
        ...

    def report_case(self, case_no: int, verdict: int) -> None:
        """Tell the case gate the verdict on the case its camera frame numbered case_no."""
        ...

    def case_placed(self) -> None:
        """Count one more case linked to the open pallet (the palletizer places it)."""
        ...

    def __enter__(self) -> LinePLC:
        """connect() and return self."""
        ...

    def __exit__(self, *exc: object) -> None:
        """close()."""
        ...
