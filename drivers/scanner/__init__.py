"""Handheld scanners on a serial (USB CDC) port; keyboard-wedge scanners are the UI's business."""

from drivers.scanner.base import HandheldScanner, UnreadableScan
from drivers.scanner.factory import open_scanner

__all__ = ["HandheldScanner", "UnreadableScan", "open_scanner"]
