"""The handheld scanner role: a serial (USB CDC) scanner sending one code per scan plus a suffix."""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol, runtime_checkable

from drivers.errors import DriverProtocolError

SUFFIXES: dict[str, str] = {"CR": "\r", "LF": "\n", "CRLF": "\r\n", "TAB": "\t"}
"""Names a config file may use for the scanner's terminator, as printed in scanner manuals."""


class UnreadableScan(DriverProtocolError):
    """A scan whose bytes do not decode in the configured encoding (or never ended); keeps raw."""

    def __init__(self, device: str, port: str, what: str, raw: bytes, hint: str = "") -> None:
        super().__init__(device, port, what, hint)
        self.raw = raw


@runtime_checkable
class HandheldScanner(Protocol):
    """A scanner the operator points at a code; scans arrive whenever the trigger is pulled."""

    name: str
    url: str

    def connect(self) -> None:
        """Open the port and start the background reader."""
        ...

    def close(self) -> None:
        """Stop the background reader and close the port; safe to call twice."""
        ...

    def read(self, timeout_s: float | None = None) -> str | None:
        """Next scan, or None on timeout (only while no on_scan callback is registered)."""
        ...

    def on_scan(self, callback: Callable[[str], None]) -> None:
        """Deliver every later scan to callback, on the background reader's thread."""
        ...
