"""Checked by mypy, never called: the MT-SICS driver meets the Checkweigher Protocol.

A driver that drifts from its Protocol (a renamed method, a changed signature) fails `make lint`
here rather than at run time on the line.
"""

from __future__ import annotations

from drivers.scale.base import Checkweigher
from drivers.scale.mtsics import MtSicsScale


def _conforms(scale: MtSicsScale) -> Checkweigher:
    return scale
