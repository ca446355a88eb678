"""`open_inkjet`, the one way to get an inkjet driver; base.py (the Protocol) imports no driver."""

from __future__ import annotations

from drivers.inkjet.base import InkjetPrinter, PrintMode
from drivers.inkjet.driver import InkjetDriver
from drivers.inkjet.messages import get_codec


def open_inkjet(
    protocol: str,
    url: str,
    *,
    name: str = "inkjet",
    depth: int = 4,
    mode: str = "fifo",
    job: str = "LINESTATION",
    timeout_s: float = 1.0,
    poll_counter: bool = False,
    baudrate: int = 9600,
) -> InkjetPrinter:
    """A driver for `protocol` (a module in drivers/inkjet/codecs/) at `url`, not yet connected.

    poll_counter: confirm prints by polling the print counter instead of print-end messages.
    baudrate: for serial device paths only.
    """
    return InkjetDriver(
        get_codec(protocol),
        url,
        name=name,
        depth=depth,
        mode=PrintMode(mode),
        job=job,
        timeout_s=timeout_s,
        poll_counter=poll_counter,
        baudrate=baudrate,
    )
