"""Pure framing for text result streams: bytes in, frames and parse outcomes out; no I/O.

A fixed reader sends one message per trigger: ``prefix + code[sep code...] + suffix``, or
``prefix + noread + suffix`` when it decoded nothing. TCP may split a message across segments or
merge several into one; serial lines pick up noise. :class:`FrameDecoder` turns any chunking of the
stream into whole frames, skips bytes that cannot start a message, and reports messages that
cannot be trusted (truncated, over-long) instead of guessing.
"""

from __future__ import annotations

from dataclasses import dataclass

DEFAULT_MAX_LEN = 8192
"""Longest message accepted, prefix and suffix included: a 48-code case layer of 100-char GS1
codes fits; a stream that never shows its suffix (wrong suffix setting) is cut here."""


@dataclass(frozen=True, slots=True)
class Frame:
    """One whole message: ``raw`` as received (with prefix and suffix), ``body`` without them."""

    raw: bytes
    body: bytes


@dataclass(frozen=True, slots=True)
class Garbage:
    """Bytes skipped because they cannot be part of a message (only detectable with a prefix)."""

    raw: bytes


@dataclass(frozen=True, slots=True)
class BadFrame:
    """A message that began but cannot be trusted: truncated or over-long; ``raw`` is kept."""

    raw: bytes
    reason: str


Event = Frame | Garbage | BadFrame


class FrameDecoder:
    """Cuts a byte stream into frames delimited by an optional prefix and a required suffix."""

    def __init__(self, prefix: bytes, suffix: bytes, max_len: int = DEFAULT_MAX_LEN) -> None:
        if not suffix:
            raise ValueError("suffix must not be empty: it is what ends a message")
        if max_len <= len(prefix) + len(suffix):
            raise ValueError("max_len must leave room for a body")
        self.prefix = prefix
        self.suffix = suffix
        self.max_len = max_len
        self._buf = bytearray()
        # After an over-long message without a prefix we cannot know where it ends before
        # its suffix, so everything up to the next suffix belongs to it and is dropped.
        self._skip_to_suffix = False

    def pending(self) -> bytes:
        """Bytes held back waiting for the rest of a message."""
        return bytes(self._buf)

    def reset(self) -> bytes:
        """Forget any partial message (new connection, new trigger); return what was held."""
        held = bytes(self._buf)
        self._buf.clear()
        self._skip_to_suffix = False
        return held

    def feed(self, data: bytes) -> list[Event]:
        """Add received bytes; return the frames, garbage and bad frames they completed."""
        self._buf += data
        out: list[Event] = []
        if self.prefix:
            self._cut_with_prefix(out)
        else:
            self._cut_without_prefix(out)
        return out

    def _cut_without_prefix(self, out: list[Event]) -> None:
        buf, suffix = self._buf, self.suffix
        start = 0
        while True:
            end = buf.find(suffix, start)
            if end < 0:
                break
            stop = end + len(suffix)
            if self._skip_to_suffix:
                self._skip_to_suffix = False
            elif stop - start > self.max_len:
                out.append(BadFrame(bytes(buf[start : start + self.max_len]), self._too_long()))
            else:
                out.append(Frame(bytes(buf[start:stop]), bytes(buf[start:end])))
            start = stop
        del buf[:start]
        if len(buf) > self.max_len:
            if not self._skip_to_suffix:
                out.append(BadFrame(bytes(buf[: self.max_len]), self._too_long()))
                self._skip_to_suffix = True
            # Keep the last len(suffix)-1 bytes: they may be the first half of the suffix.
            del buf[: len(buf) - (len(suffix) - 1)]

    def _cut_with_prefix(self, out: list[Event]) -> None:
        buf, prefix, suffix = self._buf, self.prefix, self.suffix
        while buf:
            at = buf.find(prefix)
            if at < 0:
                # No message start: all but a possible partial prefix at the end is noise.
                keep = min(len(prefix) - 1, len(buf))
                if len(buf) > keep:
                    out.append(Garbage(bytes(buf[: len(buf) - keep])))
                    del buf[: len(buf) - keep]
                return
            if at > 0:
                out.append(Garbage(bytes(buf[:at])))
                del buf[:at]
            end = buf.find(suffix, len(prefix))
            nxt = buf.find(prefix, len(prefix))
            if nxt >= 0 and (end < 0 or nxt < end):
                out.append(BadFrame(bytes(buf[:nxt]), "truncated: a new message began first"))
                del buf[:nxt]
                continue
            if end < 0:
                if len(buf) > self.max_len:
                    out.append(BadFrame(bytes(buf[: self.max_len]), self._too_long()))
                    # No later prefix is in the buffer (else the branch above ran): drop all
                    # but a possible partial prefix; the rest of the message arrives as garbage.
                    del buf[: len(buf) - (len(prefix) - 1)]
                return
            stop = end + len(suffix)
            if stop > self.max_len:
                out.append(BadFrame(bytes(buf[: self.max_len]), self._too_long()))
            else:
                out.append(Frame(bytes(buf[:stop]), bytes(buf[len(prefix) : end])))
            del buf[:stop]

    def _too_long(self) -> str:
        return f"no suffix {self.suffix!r} within {self.max_len} bytes (check the suffix setting)"


@dataclass(frozen=True, slots=True)
class Parsed:
    """The codes in one message body; ``noread`` when the no-read string stood anywhere in it."""

    codes: tuple[str, ...]
    noread: bool


def parse_body(text: str, separator: str, noread: str) -> Parsed | None:
    """Split a decoded body into codes; None for a blank body that carries nothing.

    A multi-code reader (a case layer) may report some positions as no-read: those positions
    set ``noread`` and the codes read are still returned, so the caller sees a partial layer.
    """
    if text == noread:
        return Parsed((), True)
    if not text:
        return None
    parts = text.split(separator) if separator else [text]
    codes = tuple(p for p in parts if p and p != noread)
    missed = bool(noread) and any(p == noread for p in parts)
    if not codes and not missed:
        return None
    return Parsed(codes, missed)


def encode_message(
    codes: list[str] | tuple[str, ...],
    *,
    prefix: str,
    suffix: str,
    separator: str,
    noread: str,
    encoding: str = "utf-8",
) -> bytes:
    """Build the bytes a reader sends for these codes (the no-read string when there are none)."""
    body = separator.join(codes) if codes else noread
    return (prefix + body + suffix).encode(encoding)
