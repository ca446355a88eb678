"""The inkjet printer interface the line calls; `factory.open_inkjet` builds a driver."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Protocol


class PrintMode(StrEnum):
    """How the printer takes variable data.

    FIFO: every photocell trigger consumes one queued text (Hitachi buffer mode, Leibinger input
    buffer, Zipher queue). SINGLE: one field is updated before each product; a trigger that comes
    before the update reprints the old text.
    """

    FIFO = "fifo"
    SINGLE = "single"


@dataclass(frozen=True)
class InkjetStatus:
    """A snapshot of the printer: faults are names such as ink_low, ink_out, head_fault."""

    ready: bool
    faults: tuple[str, ...]
    queue_len: int
    print_count: int
    ink_level_pct: int | None = None


class InkjetPrinter(Protocol):
    """What the line needs from a CIJ/TIJ printer."""

    name: str
    url: str
    depth: int
    mode: PrintMode

    def connect(self) -> None:
        """Open the link, select the job, clear the queue or blank the field, read the counter."""
        ...

    def close(self) -> None:
        """Stop the reader thread and release the port; idempotent."""
        ...

    def select_job(self, job: str) -> None:
        """Select a job stored on the printer."""
        ...

    def send(self, text: str) -> None:
        """FIFO: enqueue (DriverError beyond depth); SINGLE: update the field."""
        ...

    def confirmations(self, timeout_s: float = 0.0) -> list[str]:
        """Texts confirmed printed since the last call, in print order; waits for at least one."""
        ...

    def in_flight(self) -> list[str]:
        """Sent, not confirmed, oldest first; after a link drop: the codes that may be printed."""
        ...

    def status(self) -> InkjetStatus:
        """Ask the printer for its state."""
        ...

    def clear_queue(self) -> None:
        """Empty the printer's queue; read in_flight() first, those codes are then dropped."""
        ...

    def __enter__(self) -> InkjetPrinter:
        """connect() and return self."""
        ...

    def __exit__(self, *exc: object) -> None:
        """close()."""
        ...
