"""`open_scanner`, the one way to get a handheld scanner; apart from base.py (the Protocol)."""

from __future__ import annotations

from drivers.scanner.base import SUFFIXES, HandheldScanner
from drivers.scanner.serial_scanner import SerialScanner


def open_scanner(
    url: str,
    *,
    name: str = "scanner",
    suffix: str = "\r",
    timeout_s: float = 1.0,
    encoding: str = "utf-8",
    baudrate: int = 9600,
) -> HandheldScanner:
    """Build a scanner for a pyserial URL (/dev/ttyACM0, socket://, ...) or tcp://host:port.

    ``suffix`` is the terminator the scanner is set to send: "\\r", "\\n", "\\r\\n", "\\t" or
    one of the names CR, LF, CRLF, TAB. ``encoding`` is what the scanner emits for non-ASCII
    codes: "utf-8" or "gb18030" (many Chinese scanners default to GBK, a subset of GB18030).
    """
    return SerialScanner(
        url,
        name=name,
        suffix=SUFFIXES.get(suffix.upper(), suffix),
        timeout_s=timeout_s,
        encoding=encoding,
        baudrate=baudrate,
    )
