"""The fixed code reader role: smart cameras that decode on the device and send text results."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol, runtime_checkable

from drivers.errors import DriverProtocolError


@dataclass(frozen=True, slots=True)
class ReadResult:
    """One message from the reader: the codes it decoded, whether it reported a no-read, raw bytes.

    ``noread`` with no codes: the reader decoded nothing. ``noread`` with codes: a multi-code
    reader (a case layer) reported some positions as unread; the codes it did read are here.
    """

    codes: tuple[str, ...]
    noread: bool
    raw: bytes


class UnreadableMessage(DriverProtocolError):
    """A message that began but cannot be trusted (truncated, over-long, undecodable); keeps raw."""

    def __init__(self, device: str, port: str, what: str, raw: bytes, hint: str = "") -> None:
        super().__init__(device, port, what, hint)
        self.raw = raw


@runtime_checkable
class CodeReader(Protocol):
    """A fixed reader: one result message per trigger (hardware or software)."""

    name: str
    url: str

    def connect(self) -> None:
        """Open the link; DriverConnectionError naming device and port when it cannot."""
        ...

    def close(self) -> None:
        """Release the link; safe to call twice."""
        ...

    def trigger(self) -> None:
        """Send the software trigger (no-op for hardware-triggered readers)."""
        ...

    def read(self, timeout_s: float | None = None) -> ReadResult:
        """Next result; DriverTimeout naming device and port when none arrives in time."""
        ...
