"""Layout: where each line signal lives on a word-and-bit PLC (S7 data blocks, MELSEC devices).

The handshakes are the ones of the Modbus register map (see README.md): a trigger counter and
ring the PLC writes, a reject pointer and ring the station writes, and so on. A vendor map
(`S7Map`, `MCMap`) parses its vendor's addresses into `Word` and `Bit` references and builds one
`Layout`; the generic driver (`handshake.HandshakePLC`) and the simulators' PLC logic
(`simcore.PlcCore`) work on the layout only.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field, fields
from typing import Any


@dataclass(frozen=True, order=True)
class Word:
    """A 16-bit word: `index` counts words in `area` (S7: byte offset / 2; MELSEC: D number)."""

    area: str
    index: int

    def at(self, k: int) -> Word:
        """The word k places further on (a ring slot)."""
        return Word(self.area, self.index + k)


@dataclass(frozen=True, order=True)
class Bit:
    """One bit: `index` counts bits in `area` (S7: byte * 8 + bit; MELSEC: M number)."""

    area: str
    index: int


WORD_KEYS = ("trigger_counter", "plc_heartbeat", "rejects_done", "trigger_ring",
             "station_heartbeat", "stack_light", "reject_write_ptr", "reject_ring",
             "line_stop_word", "case_result", "cases_placed")  # fmt: skip
BIT_KEYS = ("reject_bit", "line_stop_bit")
OPTIONAL_KEYS = ("reject_bit", "line_stop_bit", "line_stop_word", "case_result", "cases_placed")


def _plain(w: Word) -> str:
    return f"{w.area} word {w.index}"


def _plain_bit(b: Bit) -> str:
    return f"{b.area} bit {b.index}"


@dataclass(frozen=True)
class Layout:
    """The line signals on words and bits; validated on construction (errors name the key).

    `bits_in_words`: a bit lies inside a word of the same area (S7: DBX4.1 is in DBW4), so a bit
    and a word there overlap. `max_read`: words one read may return.
    """

    trigger_counter: Word
    plc_heartbeat: Word
    rejects_done: Word
    trigger_ring: Word
    station_heartbeat: Word
    stack_light: Word
    reject_write_ptr: Word
    reject_ring: Word
    trigger_ring_len: int = 16
    reject_ring_len: int = 16
    reject_bit: Bit | None = None
    line_stop_bit: Bit | None = None
    line_stop_word: Word | None = None
    case_result: Word | None = None
    """Two words in one write: case number, verdict (see base.CASE_ACCEPTED...)."""
    cases_placed: Word | None = None
    max_read: int = 100
    bits_in_words: bool = False
    what: str = "plc map"
    word_name: Callable[[Word], str] = field(default=_plain, compare=False, repr=False)
    bit_name: Callable[[Bit], str] = field(default=_plain_bit, compare=False, repr=False)

    def __post_init__(self) -> None:
        for n, key in ((self.trigger_ring_len, "trigger_ring_len"),
                       (self.reject_ring_len, "reject_ring_len")):  # fmt: skip
            # Counters wrap at 65536; the slot of count c is c % len only if len divides 65536.
            if n < 1 or n > 64 or n & (n - 1):
                raise ValueError(f"{self.what}: {key}={n} must be 1, 2, 4, ... 64")
        if (self.line_stop_bit is None) == (self.line_stop_word is None):
            raise ValueError(f"{self.what}: set exactly one of line_stop_bit, line_stop_word")
        if self.trigger_counter.area != self.trigger_ring.area:
            raise ValueError(
                f"{self.what}: trigger_counter and trigger_ring must be in one area "
                f"({self.trigger_counter.area} vs {self.trigger_ring.area}) "
                "so one read returns both"
            )
        lo, hi = self.trigger_span
        if hi - lo > self.max_read:
            raise ValueError(
                f"{self.what}: trigger_counter and trigger_ring must lie within "
                f"{self.max_read} words so one read returns both"
            )
        self._check_overlaps()

    def spans(self) -> Iterator[tuple[str, Word, int]]:
        """(key, first word, count) of every word signal that is set."""
        for key in WORD_KEYS:
            w = getattr(self, key)
            if w is None:
                continue
            n = {"trigger_ring": self.trigger_ring_len, "reject_ring": self.reject_ring_len,
                 "case_result": 2}.get(key, 1)  # fmt: skip
            yield key, w, n

    def bits(self) -> Iterator[tuple[str, Bit]]:
        """(key, bit) of every bit signal that is set."""
        for key in BIT_KEYS:
            b = getattr(self, key)
            if b is not None:
                yield key, b

    def _check_overlaps(self) -> None:
        """Two names on one word (or bit) would corrupt each other: refuse, naming both.

        Bits may share a word (S7: DBX80.0 and DBX80.1); a bit may not lie inside a word signal.
        """
        owner: dict[tuple[str, str, int], str] = {}

        def claim(cell: tuple[str, str, int], key: str, where: str) -> None:
            other = owner.setdefault(cell, key)
            if other != key and not (key in BIT_KEYS and other in BIT_KEYS and cell[0] == "w"):
                raise ValueError(f"{self.what}: {key} and {other} share {where}")

        for key, w, n in self.spans():
            if w.index < 0 or w.index + n > 0x10000:
                raise ValueError(f"{self.what}: {key} at {self.word_name(w)} is out of range")
            for k in range(n):
                claim(("w", w.area, w.index + k), key, self.word_name(w.at(k)))
        for key, b in self.bits():
            claim(("b", b.area, b.index), key, self.bit_name(b))
            if self.bits_in_words:
                w = Word(b.area, b.index // 16)
                claim(("w", w.area, w.index), key, self.word_name(w))

    @property
    def trigger_span(self) -> tuple[int, int]:
        """[start, end) word indexes of the smallest read covering counter and trigger ring."""
        c, r = self.trigger_counter.index, self.trigger_ring.index
        return min(c, r), max(c + 1, r + self.trigger_ring_len)

    @property
    def poll_span(self) -> tuple[int, int]:
        """[start, end) of the poll read: trigger span, plus heartbeat and rejects done if near."""
        lo, hi = self.trigger_span
        for extra in (self.plc_heartbeat, self.rejects_done):
            if extra.area != self.trigger_counter.area:
                continue
            nlo, nhi = min(lo, extra.index), max(hi, extra.index + 1)
            if nhi - nlo <= self.max_read:
                lo, hi = nlo, nhi
        return lo, hi

    def in_poll(self, w: Word) -> bool:
        """True when the poll read returns this word."""
        lo, hi = self.poll_span
        return w.area == self.trigger_counter.area and lo <= w.index < hi

    @property
    def reject_block(self) -> bool:
        """True when pointer and ring are adjacent, so one write hands a request over."""
        p, r = self.reject_write_ptr, self.reject_ring
        return p.area == r.area and p.index in (r.index - 1, r.index + self.reject_ring_len)

    def words_touched(self, area: str, lo: int, hi: int) -> set[str]:
        """Keys of the word signals with a word in [lo, hi) of `area`."""
        return {
            key
            for key, w, n in self.spans()
            if w.area == area and w.index < hi and lo < w.index + n
        }

    def bits_touched(self, area: str, lo: int, hi: int) -> set[str]:
        """Keys of the bit signals in [lo, hi) of `area` (bit indexes)."""
        return {key for key, b in self.bits() if b.area == area and lo <= b.index < hi}

    def areas(self) -> dict[str, int]:
        """Each area used and the number of words it must hold (bits counted as words)."""
        need: dict[str, int] = {}
        for _, w, n in self.spans():
            need[w.area] = max(need.get(w.area, 0), w.index + n)
        for _, b in self.bits():
            need[b.area] = max(need.get(b.area, 0), b.index // 16 + 1)
        return need


def layout_keys() -> list[str]:
    """Every signal key and ring length a vendor map takes from config."""
    skip = {"max_read", "bits_in_words", "what", "word_name", "bit_name"}
    return [f.name for f in fields(Layout) if f.name not in skip]


def build_layout(
    values: Mapping[str, Any],
    parse: Callable[[str, str], Word | Bit],
    *,
    what: str,
    bit_example: str,
    word_example: str,
    **options: Any,
) -> Layout:
    """A Layout from a vendor map's values: `parse(text, key)` turns an address into a reference.

    Keys ending in `_bit` take bit addresses, `_len` numbers, the rest word addresses.
    """
    refs: dict[str, Any] = {}
    for key, value in values.items():
        if key.endswith("_len") or value is None:
            refs[key] = value
            continue
        ref = parse(value, key)
        if key.endswith("_bit") and not isinstance(ref, Bit):
            raise ValueError(f"{what}: {key}={value!r} must be a bit ({bit_example})")
        if not key.endswith("_bit") and not isinstance(ref, Word):
            raise ValueError(f"{what}: {key}={value!r} must be a word ({word_example})")
        refs[key] = ref
    return Layout(**refs, what=what, **options)


def map_values(data: Mapping[str, Any], known: set[str], what: str) -> dict[str, Any]:
    """Config table → constructor arguments: unknown keys refused naming them, and "none" (or -1,
    TOML has no null) switching an optional signal off; a line_stop_word turns the default bit off.
    """
    unknown = sorted(set(data) - known)
    if unknown:
        raise ValueError(f"{what}: unknown key(s) {unknown}; known: {sorted(known)}")
    values = {
        k: None if k in OPTIONAL_KEYS and str(v).lower() in ("none", "-1") else v
        for k, v in data.items()
    }
    if values.get("line_stop_word") and "line_stop_bit" not in values:
        values["line_stop_bit"] = None
    return values
