"""MELSEC device addresses as written in GX Works (`D100`, `M20`) and the MCMap of a line.

Words are data registers D (16-bit), bits are internal relays M, both numbered in decimal.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from typing import Any

from drivers.plc.layout import Bit, Layout, Word, build_layout, map_values
from drivers.plc.mc.codec import MAX_WORDS

_ADDR = re.compile(r"([A-Z]+)(\d+)")
MAX_DEVICE = 0xFFFFFF
"""Largest head device number a 3E frame can carry (3 bytes)."""


def parse_mc_address(text: str, key: str = "address") -> Word | Bit:
    """`D100` → Word("D", 100), `M20` → Bit("M", 20); anything else a ValueError naming key."""
    s = str(text).strip().upper().replace(" ", "")
    where = f"mc map: {key}={text!r}"
    m = _ADDR.fullmatch(s)
    if not m:
        raise ValueError(f"{where}: write a device and its number, D100 for a word, M20 for a bit")
    device, number = m[1], int(m[2])
    if device not in ("D", "M"):
        raise ValueError(
            f"{where}: device {device} is not supported; use D (data register) for words and "
            "M (internal relay) for bits (X and Y are the PLC's I/O, rewritten every scan)"
        )
    if number > MAX_DEVICE:
        raise ValueError(f"{where}: device number {number} out of 0..{MAX_DEVICE}")
    return Word("D", number) if device == "D" else Bit("M", number)


def word_name(w: Word) -> str:
    """A Layout word back in MELSEC notation."""
    return f"{w.area}{w.index}"


def bit_name(b: Bit) -> str:
    """A Layout bit back in MELSEC notation."""
    return f"{b.area}{b.index}"


@dataclass(frozen=True)
class MCMap:
    """Where the line signals live in a MELSEC CPU: D registers and M relays.

    The PLC-written block (counter, heartbeat, rejects done, trigger ring) is contiguous so one
    batch read returns it; the reject pointer sits right before its ring so one batch write hands
    over a request. Build from config with `MCMap.from_dict`.
    """

    trigger_counter: str = "D100"
    plc_heartbeat: str = "D101"
    rejects_done: str = "D102"
    trigger_ring: str = "D103"
    trigger_ring_len: int = 16
    station_heartbeat: str = "D140"
    stack_light: str = "D141"
    reject_write_ptr: str = "D142"
    reject_ring: str = "D143"
    reject_ring_len: int = 16
    reject_bit: str | None = None
    """A kick-now relay (PLCs without item tracking) instead of the reject ring."""
    line_stop_bit: str | None = "M100"
    line_stop_word: str | None = None
    case_result: str | None = "D180"
    """Two registers: the case number and the verdict that opens the case gate."""
    cases_placed: str | None = "D182"
    layout: Layout = field(init=False, repr=False, compare=False)
    """The signals as Layout words and bits (built and checked on construction)."""

    def __post_init__(self) -> None:
        values = {f.name: getattr(self, f.name) for f in fields(self) if f.name != "layout"}
        layout = build_layout(
            values,
            parse_mc_address,
            what="mc map",
            bit_example="M<n>",
            word_example="D<n>",
            max_read=MAX_WORDS,
            word_name=word_name,
            bit_name=bit_name,
        )
        object.__setattr__(self, "layout", layout)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> MCMap:
        """Build from a config table; unknown keys are an error naming the key.

        TOML has no null: "none" (or -1) switches an optional signal off.
        """
        known = {f.name for f in fields(cls)} - {"layout"}
        return cls(**map_values(data, known, "mc map"))
