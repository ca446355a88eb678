"""MT-SICS (Mettler-Toledo Standard Interface Command Set) messages: pure encode/decode, no I/O.

Source: Mettler-Toledo, *Reference Manual MT-SICS Interface Commands* (the same chapter 2 in the
editions for balances, weigh modules and terminals), section 2 "Command formats":
- every command and every response ends in CR LF; commands are upper case, parameters are
  separated by one blank, text parameters are in double quotes;
- a response with a weight value is ``ID blank Status blank WeightValue blank Unit``: the ID
  names the command (``S`` for both ``S`` and ``SI``), Status ``S`` is a stable and ``D`` a
  dynamic (non-stable) value, WeightValue is a right-aligned number 10 characters wide with the
  minus sign right before the first digit;
- a response without a weight value is ``ID blank Status [blank Parameters]``: ``A`` done,
  ``B`` more responses follow, ``I`` not executable now (busy, or stability not reached in
  time), ``L`` logical error (parameter not allowed), ``+``/``-`` above/below a range;
- general errors are bare ``ES`` (syntax: command not recognised), ``ET`` (transmission: a
  faulty character, parity or break) and ``EL`` (logical: cannot be executed).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

TERMINATOR = b"\r\n"
MAX_LINE = 256
"""Longest response we accept; real ones are under 80 bytes (``I2`` text is the longest)."""

WEIGHT_WIDTH = 10

GENERAL_ERRORS = {
    "ES": "syntax error: the scale did not recognise the command",
    "ET": "transmission error: the scale received a faulty character (parity, break)",
    "EL": "logical error: the scale cannot execute the command",
}

# Grams per unit for the units a checkweigher's unit 1 is set to; others are refused with a hint.
UNIT_GRAMS = {
    "g": 1.0,
    "kg": 1000.0,
    "mg": 0.001,
    "t": 1_000_000.0,
    "lb": 453.59237,
    "oz": 28.349523125,
    "ct": 0.2,
}

_COMMAND = re.compile(r"^(@|[A-Z][A-Z0-9]{0,5})$")
_NUMBER = re.compile(r"^-?(\d+\.?\d*|\.\d+)$")


class SicsFormatError(ValueError):
    """Bytes that are not an MT-SICS response; the message says what is wrong."""


@dataclass(frozen=True, slots=True)
class Reply:
    """One response line: the ID (the command it answers), its status and the remaining fields.

    General errors (``ES``, ``ET``, ``EL``) have ``command`` set to the error and no status.
    """

    command: str
    status: str
    fields: tuple[str, ...]
    raw: bytes

    @property
    def general_error(self) -> str | None:
        """The general error code (ES/ET/EL) or None."""
        return self.command if self.command in GENERAL_ERRORS and not self.status else None


@dataclass(frozen=True, slots=True)
class WeightValue:
    """A weight field decoded: the number as sent, its unit, grams, and stability."""

    value: float
    unit: str
    grams: float
    stable: bool


def encode_command(command: str, *params: str | float | int) -> bytes:
    """``command [param ...]`` + CR LF; str parameters are sent as quoted text."""
    if not _COMMAND.match(command):
        raise ValueError(f"{command!r} is not an MT-SICS command name (upper case, e.g. 'SI')")
    parts = [command]
    for param in params:
        if isinstance(param, str):
            if any(c in param for c in '\r\n"') or not param.isprintable():
                raise ValueError(f"text parameter {param!r} holds a quote or control character")
            parts.append(f'"{param}"')
        else:
            parts.append(f"{param:g}" if isinstance(param, float) else str(int(param)))
    return " ".join(parts).encode("latin-1") + TERMINATOR


def parse_reply(line: bytes) -> Reply:
    """Split one response line (with or without CR LF) into ID, status and fields."""
    body = line[:-2] if line.endswith(TERMINATOR) else line.rstrip(b"\r\n")
    try:
        text = body.decode("latin-1")
    except UnicodeDecodeError as exc:  # latin-1 decodes every byte; kept for clarity
        raise SicsFormatError(f"undecodable response {_show(line)}") from exc
    if any(ord(c) < 32 for c in text):
        raise SicsFormatError(f"control character in response {_show(line)}")
    tokens = _split(text, line)
    if not tokens:
        raise SicsFormatError(f"empty response {_show(line)}")
    command = tokens[0]
    if not _COMMAND.match(command):
        raise SicsFormatError(f"response {_show(line)} does not start with a command ID")
    if command in GENERAL_ERRORS and len(tokens) == 1:
        return Reply(command, "", (), bytes(line))
    if len(tokens) < 2:
        raise SicsFormatError(f"response {_show(line)} has no status after the ID")
    return Reply(command, tokens[1], tuple(tokens[2:]), bytes(line))


def parse_weight(reply: Reply) -> WeightValue:
    """The weight of an ``S``/``D`` reply (``S S      100.00 g``) in its unit and in grams."""
    if reply.status not in ("S", "D"):
        raise SicsFormatError(f"{_show(reply.raw)} carries no weight (status {reply.status!r})")
    if len(reply.fields) != 2:
        raise SicsFormatError(f"{_show(reply.raw)}: expected a weight value and a unit")
    number, unit = reply.fields
    if not _NUMBER.match(number):
        raise SicsFormatError(f"{_show(reply.raw)}: weight value {number!r} is not a number")
    if unit not in UNIT_GRAMS:
        raise SicsFormatError(
            f"{_show(reply.raw)}: unit {unit!r} is not a mass unit we convert "
            f"({', '.join(UNIT_GRAMS)})"
        )
    value = float(number)
    return WeightValue(value, unit, value * UNIT_GRAMS[unit], reply.status == "S")


def format_weight(command: str, stable: bool, value: float, unit: str, decimals: int) -> bytes:
    """A weight response as a scale sends it: value right-aligned in 10 characters."""
    number = f"{value:.{decimals}f}"
    if float(number) == 0:
        number = number.lstrip("-")  # a scale shows 0.00, never -0.00
    status = "S" if stable else "D"
    return f"{command} {status} {number:>{WEIGHT_WIDTH}} {unit}".encode("latin-1") + TERMINATOR


def format_reply(command: str, status: str = "", *fields: str, quote: bool = False) -> bytes:
    """A response without a weight value (``Z A``, ``S I``, ``I4 A "SNR"``) or a bare error."""
    parts = [command] + ([status] if status else [])
    parts += [f'"{f}"' if quote else f for f in fields]
    return " ".join(parts).encode("latin-1") + TERMINATOR


class LineSplitter:
    """Cuts a byte stream into CR LF terminated lines; an over-long run is reported, not kept."""

    def __init__(self, max_line: int = MAX_LINE) -> None:
        self.max_line = max_line
        self._buf = bytearray()
        self._overlong = False

    def feed(self, data: bytes) -> list[bytes | SicsFormatError]:
        """Complete lines (terminator included) and over-long runs, in arrival order."""
        self._buf += data
        events: list[bytes | SicsFormatError] = []
        while True:
            end = self._buf.find(TERMINATOR)
            if end < 0:
                break
            line = bytes(self._buf[: end + 2])
            del self._buf[: end + 2]
            if self._overlong:
                self._overlong = False  # the tail of a line already reported
                continue
            if len(line) > self.max_line:
                events.append(
                    SicsFormatError(f"answer longer than {self.max_line} bytes: {_show(line)}")
                )
                continue
            events.append(line)
        if len(self._buf) > self.max_line:
            if not self._overlong:
                events.append(
                    SicsFormatError(f"answer longer than {self.max_line} bytes: {_show(self._buf)}")
                )
                self._overlong = True
            # Keep the last byte: it may be the CR of the CR LF that ends the over-long run.
            del self._buf[:-1]
        return events

    def pending(self) -> bytes:
        """Bytes of an unfinished line."""
        return bytes(self._buf)

    def reset(self) -> bytes:
        """Forget the unfinished line and return it."""
        held = bytes(self._buf)
        self._buf.clear()
        self._overlong = False
        return held


def _show(raw: bytes | bytearray) -> str:
    """Raw bytes for a message, cut at 64."""
    return repr(bytes(raw[:64])) + ("…" if len(raw) > 64 else "")


def _split(text: str, line: bytes) -> list[str]:
    """Blank-separated tokens; a double-quoted text is one token (quotes removed)."""
    tokens: list[str] = []
    i, n = 0, len(text)
    while i < n:
        if text[i] == " ":
            i += 1
            continue
        if text[i] == '"':
            end = text.find('"', i + 1)
            if end < 0:
                raise SicsFormatError(f"unterminated quoted text in {_show(line)}")
            tokens.append(text[i + 1 : end])
            i = end + 1
            continue
        end = text.find(" ", i)
        end = n if end < 0 else end
        tokens.append(text[i:end])
        i = end
    return tokens
