"""The label printer role: a status snapshot and the Protocol every driver meets."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol, runtime_checkable


@dataclass(frozen=True)
class LabelStatus:
    """One answer to a status query; `ready` is true only when no fault flag is raised."""

    ready: bool
    paper_out: bool
    ribbon_out: bool
    head_open: bool
    paused: bool
    labels_remaining: int | None = None
    faults: tuple[str, ...] = ()


@runtime_checkable
class LabelPrinter(Protocol):
    """A printer that takes one complete ZPL label per call and reports its status."""

    name: str
    url: str

    def connect(self) -> None:
        """Open the link; raises DriverConnectionError naming device and port."""
        ...

    def close(self) -> None:
        """Close the link; safe to call twice."""
        ...

    def print_label(self, zpl: str) -> None:
        """Send one label (^XA…^XZ); returns when the bytes left, not when it printed."""
        ...

    def status(self) -> LabelStatus:
        """Ask the printer for its status (~HS) and parse the answer."""
        ...
