"""The camera role: something that hands out frames, and a decoder that turns a frame into codes."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol, runtime_checkable

import numpy

from drivers.errors import DriverError


@dataclass(frozen=True)
class DecodedCode:
    """One code found in a frame.

    ``text`` is the decoded content (GS1 codes in their human-readable ``(01)…(21)…`` form),
    ``symbology`` a plain name ("QRCode", "DataMatrix", "Code128"), ``symbology_id`` the ISO/IEC
    15424 identifier (``]Q1``, ``]d2``), ``corners`` four (x, y) pixel points clockwise from the
    symbol's top-left, ``grade`` A–F (or "" when grading is off), ``gs1`` the element strings keyed
    by AI when the symbol carries GS1 data.
    """

    text: str
    symbology: str
    symbology_id: str
    corners: tuple[tuple[int, int], ...]
    grade: str
    gs1: dict[str, str] | None = None


@runtime_checkable
class Decoder(Protocol):
    """Finds codes in one frame (grayscale or BGR ``uint8``)."""

    def decode(self, image: numpy.ndarray, expected: int | None = None) -> list[DecodedCode]:
        """Codes found in ``image``; ``expected`` lets a decoder try harder when it found fewer."""
        ...


@runtime_checkable
class Camera(Protocol):
    """A frame source: USB/GigE/RTSP camera, video file, image folder or the simulator."""

    name: str
    url: str

    def open(self) -> None:
        """Open the source; DriverConnectionError naming camera and url when it cannot."""
        ...

    def grab(self, timeout_s: float = 1.0) -> numpy.ndarray:
        """Next frame (BGR or grayscale uint8); DriverTimeout when none arrives in time."""
        ...

    def close(self) -> None:
        """Release the source; safe to call twice."""
        ...


class CameraError(DriverError):
    """A camera or decoder failure that is none of the narrower driver errors."""


class SourceExhausted(DriverError):
    """A finite source (video file, image folder without loop) has no more frames."""
