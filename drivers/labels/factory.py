"""`open_label_printer`, the one way to get a connected label printer (apart from base.py)."""

from __future__ import annotations

from drivers.labels.base import LabelPrinter
from drivers.labels.zebra import ZplPrinter


def open_label_printer(
    url: str, *, name: str = "labeler", timeout_s: float = 2.0, baudrate: int = 9600
) -> LabelPrinter:
    """Return a connected ZPL printer for `tcp://host:port` or a pyserial URL (/dev/ttyUSB0, …)."""
    printer = ZplPrinter(url, name=name, timeout_s=timeout_s, baudrate=baudrate)
    printer.connect()
    return printer
