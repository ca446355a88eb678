"""LineStation drivers/inkjet: CIJ/TIJ printers (see README.md)."""

from __future__ import annotations

from drivers.inkjet.base import InkjetPrinter, InkjetStatus, PrintMode
from drivers.inkjet.factory import open_inkjet

__all__ = ["InkjetPrinter", "InkjetStatus", "PrintMode", "open_inkjet"]
