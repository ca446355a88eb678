"""Protocol-neutral inkjet messages and the Codec contract every wire protocol implements.

A codec is pure: `encode(message) -> bytes` and a `Decoder` whose `feed(bytes)` returns the
messages completed so far. The same codec serves the driver (host side) and the simulator
(printer side), so both directions are encoded and decoded by it.

Adding a protocol is one new file in drivers/inkjet/codecs/ that defines `CODEC`.
"""

from __future__ import annotations

import importlib
import pkgutil
import re
from dataclasses import dataclass
from enum import StrEnum
from typing import Protocol


class Kind(StrEnum):
    """The host request an Ack or Nak answers."""

    SELECT = "select"
    UPDATE = "update"
    ENQUEUE = "enqueue"
    CLEAR = "clear"
    STATUS = "status"


# Host -> printer
@dataclass(frozen=True, slots=True)
class SelectJob:
    """Select a job (message) stored on the printer."""

    job: str


@dataclass(frozen=True, slots=True)
class UpdateField:
    """SINGLE mode: replace the variable field of the selected job."""

    text: str


@dataclass(frozen=True, slots=True)
class Enqueue:
    """FIFO mode: append one text to the printer's print queue."""

    text: str


@dataclass(frozen=True, slots=True)
class ClearQueue:
    """Empty the printer's print queue."""


@dataclass(frozen=True, slots=True)
class StatusRequest:
    """Ask for a StatusReport."""


# Printer -> host
@dataclass(frozen=True, slots=True)
class Ack:
    """The printer accepted a request of this kind."""

    kind: Kind


@dataclass(frozen=True, slots=True)
class Nak:
    """The printer refused a request of this kind, with a reason (a fault name or free text)."""

    kind: Kind
    reason: str


@dataclass(frozen=True, slots=True)
class StatusReport:
    """Answer to StatusRequest."""

    ready: bool
    faults: tuple[str, ...]
    queue_len: int
    print_count: int
    ink_level_pct: int | None = None


@dataclass(frozen=True, slots=True)
class PrintEnd:
    """Unsolicited: one product was marked; `count` is the printer's print counter after it."""

    count: int
    text: str


@dataclass(frozen=True, slots=True)
class Missed:
    """Unsolicited: the photocell fired with nothing to print (empty FIFO or fault)."""

    reason: str


@dataclass(frozen=True, slots=True)
class FrameError:
    """Decoder flag: bytes that did not make a valid frame (garbage, truncation, bad checksum)."""

    what: str
    raw: bytes = b""


Message = (
    SelectJob
    | UpdateField
    | Enqueue
    | ClearQueue
    | StatusRequest
    | Ack
    | Nak
    | StatusReport
    | PrintEnd
    | Missed
)

FAULTS = ("not_ready", "ink_low", "ink_out", "head_fault", "buffer_full")
"""Fault names used on every wire; `ink_low` is a warning, the others stop printing."""

_NAME = re.compile(r"^[a-z][a-z0-9_]*$")


class Decoder(Protocol):
    """Incremental parser: tolerant of split frames, resynchronises after garbage."""

    def feed(self, data: bytes) -> list[Message | FrameError]:
        """Consume bytes; return complete messages and FrameError flags in stream order."""
        ...


class Codec(Protocol):
    """A wire protocol: pure bytes <-> messages, both directions."""

    name: str

    def encode(self, msg: Message) -> bytes:
        """One frame for `msg`; ValueError if the text cannot travel on this wire."""
        ...

    def decoder(self) -> Decoder:
        """A fresh incremental decoder."""
        ...

    def damage(self, frame: bytes) -> bytes:
        """The frame with its check spoiled (bad checksum), for fault injection."""
        ...


def available_protocols() -> tuple[str, ...]:
    """Names of the codec modules in drivers/inkjet/codecs/, sorted."""
    from drivers.inkjet import codecs

    return tuple(sorted(m.name for m in pkgutil.iter_modules(codecs.__path__)))


def get_codec(protocol: str) -> Codec:
    """Load drivers/inkjet/codecs/<protocol>.py and return its CODEC."""
    if not _NAME.match(protocol):
        raise ValueError(f"bad inkjet protocol name {protocol!r}")
    try:
        module = importlib.import_module(f"drivers.inkjet.codecs.{protocol}")
    except ModuleNotFoundError as exc:
        known = ", ".join(available_protocols())
        raise ValueError(f"unknown inkjet protocol {protocol!r}; known: {known}") from exc
    codec: Codec = module.CODEC  # a module attribute: its type is what codecs/ promises
    return codec
