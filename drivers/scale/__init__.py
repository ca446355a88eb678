"""Checkweighers: scales that weigh each closed container (MT-SICS over TCP or serial)."""

from drivers.scale.base import (
    Checkweigher,
    ScaleBusy,
    ScaleOverload,
    ScaleUnderload,
    Weight,
)
from drivers.scale.factory import open_checkweigher

__all__ = [
    "Checkweigher",
    "ScaleBusy",
    "ScaleOverload",
    "ScaleUnderload",
    "Weight",
    "open_checkweigher",
]
