"""The checkweigher role: a scale under the conveyor that weighs each closed container."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol, runtime_checkable

from drivers.errors import DeviceFault


@dataclass(frozen=True, slots=True)
class Weight:
    """One reading: grams (net of the scale's tare), whether it was stable, and what was sent."""

    grams: float
    stable: bool
    value: float
    unit: str
    raw: bytes


class ScaleOverload(DeviceFault):
    """The load is above the scale's capacity (MT-SICS ``+``)."""


class ScaleUnderload(DeviceFault):
    """The reading is below the scale's range (MT-SICS ``-``): pan lifted or zeroed with a load."""


class ScaleBusy(DeviceFault):
    """The scale could not execute the command now (MT-SICS ``I``): busy or never stable."""


@runtime_checkable
class Checkweigher(Protocol):
    """A scale that weighs one container at a time and can be tared and zeroed."""

    name: str
    url: str

    def connect(self) -> None:
        """Open the link; DriverConnectionError naming device and port when it cannot."""
        ...

    def close(self) -> None:
        """Release the link; safe to call twice."""
        ...

    def weigh(self, timeout_s: float | None = None) -> Weight:
        """The next stable weight; DriverTimeout naming device and port when none comes in time."""
        ...

    def weigh_now(self) -> Weight:
        """The weight at once, stable or not (``Weight.stable`` says which)."""
        ...

    def tare(self, timeout_s: float | None = None) -> Weight:
        """Take the stable load as tare; returns the tare weight."""
        ...

    def zero(self, timeout_s: float | None = None) -> None:
        """Set zero on the stable empty scale (clears the tare)."""
        ...
