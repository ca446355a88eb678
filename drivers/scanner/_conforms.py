"""Checked by mypy, never called: the serial scanner meets the HandheldScanner Protocol.

A driver that drifts from its Protocol (a renamed method, a changed signature) fails `make lint`
here rather than at run time on the line.
"""

from __future__ import annotations

from drivers.scanner.base import HandheldScanner
from drivers.scanner.serial_scanner import SerialScanner


def _conforms(scanner: SerialScanner) -> HandheldScanner:
    return scanner
