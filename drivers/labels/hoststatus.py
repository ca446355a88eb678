"""Codec for the ZPL ~HS host status answer: three <STX>…<ETX><CR><LF> strings of comma fields.

String 1: aaa,b,c,dddd,eee,f,g,h,iii,j,k,l   b paper out, c paused, f buffer full, j corrupt RAM,
          k under temperature, l over temperature
String 2: mmm,n,o,p,q,r,s,t,uuuuuuuu,v,www   o head up (open), p ribbon out,
          uuuuuuuu labels remaining
String 3: xxxx,y                              password, static RAM installed
"""

from __future__ import annotations

from drivers.labels.base import LabelStatus

HOST_STATUS_QUERY = b"~HS"
STX = 0x02
ETX = 0x03
STRING_COUNT = 3
_MIN_FIELDS = (12, 11, 2)


class HostStatusError(ValueError):
    """The bytes are not a well-formed ~HS answer; the message says which part is wrong."""


def split_frames(raw: bytes) -> list[bytes]:
    """Return the payloads of every complete <STX>…<ETX> frame in `raw`, in order."""
    frames: list[bytes] = []
    pos = 0
    while True:
        start = raw.find(STX, pos)
        if start < 0:
            return frames
        end = raw.find(ETX, start + 1)
        if end < 0:
            return frames
        frames.append(raw[start + 1 : end])
        pos = end + 1


def count_frames(raw: bytes) -> int:
    """How many complete frames `raw` holds; the reader stops once it has three."""
    return len(split_frames(raw))


def _flag(fields: list[str], index: int, where: str) -> bool:
    value = fields[index].strip()
    if value not in ("0", "1"):
        raise HostStatusError(f"{where} field {index + 1} is {value!r}, expected 0 or 1")
    return value == "1"


def parse_host_status(raw: bytes) -> LabelStatus:
    """Parse a full ~HS answer into a LabelStatus; raises HostStatusError on anything malformed."""
    frames = split_frames(raw)
    if len(frames) != STRING_COUNT:
        raise HostStatusError(f"expected {STRING_COUNT} STX…ETX strings, got {len(frames)}")
    rows: list[list[str]] = []
    for number, (frame, minimum) in enumerate(zip(frames, _MIN_FIELDS, strict=True), start=1):
        try:
            text = frame.decode("ascii")
        except UnicodeDecodeError as exc:
            raise HostStatusError(f"string {number} is not ASCII") from exc
        fields = text.split(",")
        if len(fields) < minimum:
            raise HostStatusError(f"string {number} has {len(fields)} fields, expected {minimum}")
        rows.append(fields)
    first, second, _third = rows
    paper_out = _flag(first, 1, "string 1")
    paused = _flag(first, 2, "string 1")
    buffer_full = _flag(first, 5, "string 1")
    corrupt_ram = _flag(first, 9, "string 1")
    under_temp = _flag(first, 10, "string 1")
    over_temp = _flag(first, 11, "string 1")
    head_open = _flag(second, 2, "string 2")
    ribbon_out = _flag(second, 3, "string 2")
    remaining_text = second[8].strip()
    if not remaining_text.isdigit():
        raise HostStatusError(f"string 2 field 9 (labels remaining) is {remaining_text!r}")
    named = (
        (paper_out, "paper out"),
        (ribbon_out, "ribbon out"),
        (head_open, "head open"),
        (paused, "paused"),
        (buffer_full, "receive buffer full"),
        (corrupt_ram, "corrupt RAM"),
        (under_temp, "under temperature"),
        (over_temp, "over temperature"),
    )
    faults = tuple(label for raised, label in named if raised)
    # A full buffer is back-pressure, not a fault that stops printing; keep it listed but ready.
    blocking = tuple(f for f in faults if f != "receive buffer full")
    return LabelStatus(
        ready=not blocking,
        paper_out=paper_out,
        ribbon_out=ribbon_out,
        head_open=head_open,
        paused=paused,
        labels_remaining=int(remaining_text),
        faults=faults,
    )
