"""Split an EPCIS JSON document into smaller documents without re-serialising a single event.

The scanner walks the raw bytes (usually an mmap of the file, so a huge document is never read
into memory) and records where each event of `epcisBody.eventList` starts and ends. A part is
then `head + events[i:j] (raw, with their original separators) + tail`, where head is everything
before the first event and tail everything after the last. Because bytes are kept exactly, the
receiver can rebuild the original file from the parts and the gaps between them and check its
SHA-256 against the signed manifest.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

# A JSON string (escapes unrolled, so long strings do not backtrack) or one structural character.
_TOKEN = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"|[{}\[\]:,]')
# Brackets alone, or a run of anything else with strings kept whole (brackets inside strings).
_COARSE = re.compile(rb'[{}\[\]]|(?:"[^"\\]*(?:\\.[^"\\]*)*"|[^"{}\[\]])+')
_BODY = b'"epcisBody"'
_EVENTS = b'"eventList"'


class SplitError(ValueError):
    """The document cannot be scanned or cut under the limits."""


@dataclass(frozen=True)
class EventSpans:
    """Where the events of a document sit: head is buf[:head_end], tail is buf[tail_start:]."""

    head_end: int
    tail_start: int
    spans: list[tuple[int, int]]
    length: int

    @property
    def count(self) -> int:
        """Number of events."""
        return len(self.spans)


def scan_events(buf: bytes | memoryview | object) -> EventSpans:
    """Find the byte span of every event in epcisBody.eventList of a JSON document."""
    stack: list[bytes | None] = []  # per open container: last key (objects) or None (arrays)
    kinds: list[int] = []
    expect_key = False
    spans: list[tuple[int, int]] = []
    head_end = tail_start = -1
    pos = 0
    for m in _TOKEN.finditer(buf, pos):  # type: ignore[call-overload]
        c = buf[m.start()]  # type: ignore[index]
        if c == 0x22:  # '"'
            if expect_key:
                stack[-1] = m.group()
                expect_key = False
            continue
        if c in (0x7B, 0x5B):  # '{' '['
            if c == 0x5B and len(kinds) == 2 and stack[0] == _BODY and stack[1] == _EVENTS:
                head_end = m.end()
                break
            kinds.append(c)
            stack.append(None)
            expect_key = c == 0x7B
        elif c in (0x7D, 0x5D):  # '}' ']'
            if not kinds:
                raise SplitError(f"unbalanced {chr(c)!r} at byte {m.start()}")
            kinds.pop()
            stack.pop()
            expect_key = False
        elif c == 0x2C:  # ','
            expect_key = bool(kinds) and kinds[-1] == 0x7B
    if head_end < 0:
        raise SplitError("no epcisBody.eventList in the document")
    tail_start, pos = _scan_list(buf, head_end, spans)
    for m in _TOKEN.finditer(buf, pos):  # type: ignore[call-overload]
        c = buf[m.start()]  # type: ignore[index]
        if c in (0x7B, 0x5B):
            kinds.append(c)
        elif c in (0x7D, 0x5D):
            if not kinds:
                raise SplitError(f"unbalanced {chr(c)!r} at byte {m.start()}")
            kinds.pop()
    if kinds:
        raise SplitError("document ends inside an object or array (truncated file?)")
    if spans:
        head_end, tail_start = spans[0][0], spans[-1][1]
    length = len(buf)  # type: ignore[arg-type]
    return EventSpans(head_end=head_end, tail_start=tail_start, spans=spans, length=length)


def _scan_list(buf: object, pos: int, spans: list[tuple[int, int]]) -> tuple[int, int]:
    """Walk eventList from just after its '['; return (offset of its ']', offset after it).

    Only brackets matter here, so runs of strings and scalars are one regex match each: an event
    with 10,000 EPCs costs a dozen loop turns, not 10,000.
    """
    depth = 0
    start = 0
    for m in _COARSE.finditer(buf, pos):  # type: ignore[call-overload]
        c = buf[m.start()]  # type: ignore[index]
        if c in (0x7B, 0x5B):
            if depth == 0:
                start = m.start()
            depth += 1
        elif c in (0x7D, 0x5D):
            if depth == 0:
                return m.start(), m.end()
            depth -= 1
            if depth == 0 and c == 0x7D:
                spans.append((start, m.end()))
    raise SplitError("document ends inside epcisBody.eventList (truncated file?)")


def plan_parts(
    spans: EventSpans, max_events: int | None, max_bytes: int | None
) -> list[tuple[int, int]]:
    """Cut events into [i, j) ranges so each part holds ≤ max_events and is ≤ max_bytes long."""
    n = spans.count
    if n == 0:
        return [(0, 0)]
    fixed = spans.head_end + (spans.length - spans.tail_start)
    parts: list[tuple[int, int]] = []
    i = 0
    while i < n:
        j = i + 1
        first = spans.spans[i][0]
        if max_bytes is not None and fixed + spans.spans[i][1] - first > max_bytes:
            size = fixed + spans.spans[i][1] - first
            raise SplitError(
                f"event {i + 1} alone makes a {size}-byte document, over the server's limit of "
                f"{max_bytes} bytes"
            )
        while j < n and (max_events is None or j - i < max_events):
            if max_bytes is not None and fixed + spans.spans[j][1] - first > max_bytes:
                break
            j += 1
        parts.append((i, j))
        i = j
    return parts


def part_bytes(buf: bytes | memoryview, spans: EventSpans, i: int, j: int) -> bytes:
    """The bytes of the part holding events [i, j)."""
    if spans.count == 0:
        return bytes(buf)
    return b"".join(
        (
            bytes(buf[: spans.head_end]),
            bytes(buf[spans.spans[i][0] : spans.spans[j - 1][1]]),
            bytes(buf[spans.tail_start :]),
        )
    )


def part_stream(
    buf: bytes | memoryview | object, spans: EventSpans, i: int, j: int, chunk: int = 1 << 20
) -> tuple[int, Iterator[bytes]]:
    """(length, chunks) of the part holding events [i, j), read from buf as it is sent."""
    if spans.count == 0:
        pieces = [(0, spans.length)]
    else:
        pieces = [
            (0, spans.head_end),
            (spans.spans[i][0], spans.spans[j - 1][1]),
            (spans.tail_start, spans.length),
        ]

    def chunks() -> Iterator[bytes]:
        for a, b in pieces:
            for at in range(a, b, chunk):
                yield bytes(buf[at : min(at + chunk, b)])  # type: ignore[index]

    return sum(b - a for a, b in pieces), chunks()


def gap_after(buf: bytes | memoryview, spans: EventSpans, j: int) -> bytes:
    """The separator bytes between event j-1 (last of a part) and event j (first of the next)."""
    if j <= 0 or j >= spans.count:
        return b""
    return bytes(buf[spans.spans[j - 1][1] : spans.spans[j][0]])


def split_part(part: bytes) -> tuple[bytes, bytes, bytes]:
    """(head, events region, tail) of one part, for the receiver's reassembly."""
    spans = scan_events(part)
    return part[: spans.head_end], part[spans.head_end : spans.tail_start], part[spans.tail_start :]


def reassemble(parts: list[bytes], gaps: list[bytes]) -> bytes:
    """Rebuild the original document from its parts in order and the gaps between them."""
    if len(parts) == 1:
        return parts[0]
    pieces = [split_part(p) for p in parts]
    head, tail = pieces[0][0], pieces[-1][2]
    for k, (h, _, t) in enumerate(pieces):
        if h != head or t != tail:
            raise SplitError(f"part {k + 1} does not share the head/tail of part 1")
    out = [head]
    for k, (_, region, _) in enumerate(pieces):
        out.append(region)
        if k < len(pieces) - 1:
            out.append(gaps[k] if k < len(gaps) else b"")
    out.append(tail)
    return b"".join(out)
