"""The one exception base of drivers/: each error names the device, the port and what happened."""

from __future__ import annotations


class DriverError(Exception):
    """A device did not do what was asked; carries device name, port and a hint for the operator."""

    def __init__(self, device: str, port: str, what: str, hint: str = "") -> None:
        self.device = device
        self.port = port
        self.what = what
        self.hint = hint
        text = f"{device} at {port}: {what}"
        if hint:
            text += f" ({hint})"
        super().__init__(text)


class DriverTimeout(DriverError):
    """The device did not answer within the call's timeout."""


class DriverProtocolError(DriverError):
    """The device sent bytes that do not parse (garbage, truncated frame, bad checksum)."""


class DriverConnectionError(DriverError):
    """The link to the device could not be opened or was lost."""


class DeviceFault(DriverError):
    """The device answered and reports a fault state (ink out, head open, paper out, ...)."""
