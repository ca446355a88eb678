"""S7 addresses as S7 engineers write them (`DB10.DBW0`, `DB10.DBX4.1`) and the S7Map of a line.

Only data-block addresses: the station's words live in a standard-access ("not optimized") DB,
where a word is at a fixed even byte offset. Words are 16-bit big-endian (S7 order).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from typing import Any

from drivers.plc.layout import Bit, Layout, Word, build_layout, map_values

S7_MAX_READ = 100
"""Words per read: an S7-1200/1500 PDU of 240 bytes carries 222 data bytes (111 words)."""

_WORD = re.compile(r"DB(\d+)\.DBW(\d+)")
_BIT = re.compile(r"DB(\d+)\.DBX(\d+)\.(\d+)")
_OTHER = re.compile(r"DB(\d+)\.DB([BD])(\d+)")


@dataclass(frozen=True)
class S7Word:
    """A DB word: data block number and byte offset."""

    db: int
    byte: int

    def __str__(self) -> str:
        return f"DB{self.db}.DBW{self.byte}"


@dataclass(frozen=True)
class S7Bit:
    """A DB bit: data block number, byte offset and bit 0..7."""

    db: int
    byte: int
    bit: int

    def __str__(self) -> str:
        return f"DB{self.db}.DBX{self.byte}.{self.bit}"


def parse_s7_address(text: str, key: str = "address") -> S7Word | S7Bit:
    """`DB10.DBW0` → S7Word, `DB10.DBX4.1` → S7Bit; anything else is a ValueError naming key."""
    s = str(text).strip().upper().replace(" ", "")
    where = f"s7 map: {key}={text!r}"
    if m := _WORD.fullmatch(s):
        db, byte = int(m[1]), int(m[2])
        if byte % 2:
            raise ValueError(
                f"{where}: a word must start at an even byte (DBW{byte - 1} or DBW{byte + 1})"
            )
        _check(where, db, byte)
        return S7Word(db, byte)
    if m := _BIT.fullmatch(s):
        db, byte, bit = int(m[1]), int(m[2]), int(m[3])
        if bit > 7:
            raise ValueError(f"{where}: bit {bit} out of 0..7 (write DB{db}.DBX{byte}.0..7)")
        _check(where, db, byte)
        return S7Bit(db, byte, bit)
    if m := _OTHER.fullmatch(s):
        size = "byte" if m[2] == "B" else "double word"
        raise ValueError(
            f"{where}: DB{m[2]} is a {size}; the line signals are 16-bit words (DBW) and bits (DBX)"
        )
    raise ValueError(
        f"{where}: not a data-block address; write DB<n>.DBW<byte> for a word or "
        "DB<n>.DBX<byte>.<bit> for a bit (inputs, outputs and M are rewritten by the PLC scan)"
    )


def _check(where: str, db: int, byte: int) -> None:
    if not 1 <= db <= 65535:
        raise ValueError(f"{where}: DB number {db} out of 1..65535")
    if byte > 65534:
        raise ValueError(f"{where}: byte offset {byte} out of 0..65534")


def word_ref(a: S7Word) -> Word:
    """The Layout word of an S7 word."""
    return Word(f"DB{a.db}", a.byte // 2)


def bit_ref(a: S7Bit) -> Bit:
    """The Layout bit of an S7 bit."""
    return Bit(f"DB{a.db}", a.byte * 8 + a.bit)


def s7_ref(text: str, key: str) -> Word | Bit:
    """An S7 address as a Layout reference."""
    a = parse_s7_address(text, key)
    return bit_ref(a) if isinstance(a, S7Bit) else word_ref(a)


def word_name(w: Word) -> str:
    """A Layout word back in S7 notation (for error messages)."""
    return f"{w.area}.DBW{w.index * 2}"


def bit_name(b: Bit) -> str:
    """A Layout bit back in S7 notation."""
    return f"{b.area}.DBX{b.index // 8}.{b.index % 8}"


@dataclass(frozen=True)
class S7Map:
    """Where the line signals live in the PLC's data blocks; defaults are all in DB10.

    The PLC-written block (counter, heartbeat, rejects done, trigger ring) is contiguous so one
    read returns it; the reject pointer sits right before its ring so one write hands over a
    request. Build from config with `S7Map.from_dict`; `layout` is what driver and simulator use.
    """

    trigger_counter: str = "DB10.DBW0"
    plc_heartbeat: str = "DB10.DBW2"
    rejects_done: str = "DB10.DBW4"
    trigger_ring: str = "DB10.DBW6"
    trigger_ring_len: int = 16
    station_heartbeat: str = "DB10.DBW40"
    stack_light: str = "DB10.DBW42"
    reject_write_ptr: str = "DB10.DBW44"
    reject_ring: str = "DB10.DBW46"
    reject_ring_len: int = 16
    reject_bit: str | None = None
    """A kick-now bit (PLCs without item tracking) instead of the reject ring."""
    line_stop_bit: str | None = "DB10.DBX80.0"
    line_stop_word: str | None = None
    case_result: str | None = "DB10.DBW82"
    """Two words: the case number and the verdict that opens the case gate."""
    cases_placed: str | None = "DB10.DBW86"
    layout: Layout = field(init=False, repr=False, compare=False)
    """The signals as Layout words and bits (built and checked on construction)."""

    def __post_init__(self) -> None:
        object.__setattr__(self, "layout", self._build())

    def _build(self) -> Layout:
        values = {f.name: getattr(self, f.name) for f in fields(self) if f.name != "layout"}
        return build_layout(
            values,
            s7_ref,
            what="s7 map",
            bit_example="DB<n>.DBX<byte>.<bit>",
            word_example="DB<n>.DBW<byte>",
            max_read=S7_MAX_READ,
            bits_in_words=True,
            word_name=word_name,
            bit_name=bit_name,
        )

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> S7Map:
        """Build from a config table; unknown keys are an error naming the key.

        TOML has no null: "none" (or -1) switches an optional signal off.
        """
        known = {f.name for f in fields(cls)} - {"layout"}
        return cls(**map_values(data, known, "s7 map"))
