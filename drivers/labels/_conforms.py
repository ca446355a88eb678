"""Checked by mypy, never called: the ZPL driver meets the LabelPrinter Protocol.

A driver that drifts from its Protocol (a renamed method, a changed signature) fails `make lint`
here rather than at run time on the line. TicketPrinter (ESC/POS) has a role of its own and no
Protocol yet.
"""

from __future__ import annotations

from drivers.labels.base import LabelPrinter
from drivers.labels.zebra import ZplPrinter


def _conforms(printer: ZplPrinter) -> LabelPrinter:
    return printer
