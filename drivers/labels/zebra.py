"""ZPL label printer driver (Zebra and compatibles) over raw TCP or serial."""

from __future__ import annotations

import threading
import time

from drivers.errors import DeviceFault, DriverConnectionError, DriverProtocolError, DriverTimeout
from drivers.labels.base import LabelStatus
from drivers.labels.hoststatus import (
    HOST_STATUS_QUERY,
    STRING_COUNT,
    STX,
    HostStatusError,
    parse_host_status,
    split_frames,
)
from drivers.labels.link import SerialLink, TcpLink, make_link

# Some Link-OS firmware stays silent on ~HS while media/ribbon is out or the head is open.
_SILENT_HINT = "printer off, unreachable, or a firmware that stays silent on ~HS during a fault"


def _check_answer_shape(raw: bytes) -> None:
    """Fail fast on bytes that can never become a ~HS answer instead of waiting for the timeout."""
    stripped = raw.lstrip(b"\r\n")
    if stripped and stripped[0] != STX:
        raise HostStatusError("answer does not start with STX")
    depth = 0
    for byte in stripped:
        if byte == STX:
            if depth:
                raise HostStatusError("STX inside an open string")
            depth = 1
        elif byte == 0x03:
            depth = 0
        elif not depth and byte not in (0x0D, 0x0A):
            raise HostStatusError(f"byte {byte:#04x} outside a string")


class ZplPrinter:
    """A ZPL printer at `tcp://host:port` or a pyserial URL; one label per print_label call.

    The link reconnects lazily: a call that finds the socket closed by the printer (restart,
    power cycle) opens a new one before sending. A failed send is never retried, because the
    printer may hold part of the label; the caller voids the codes on it.
    """

    def __init__(
        self, url: str, *, name: str = "labeler", timeout_s: float = 2.0, baudrate: int = 9600
    ) -> None:
        self.name = name
        self.url = url
        self.timeout_s = timeout_s
        self._link: TcpLink | SerialLink = make_link(name, url, timeout_s, baudrate)
        self._lock = threading.Lock()

    def connect(self) -> None:
        """Open the link; raises DriverConnectionError or DriverTimeout."""
        with self._lock:
            if not self._link.is_open:
                self._link.open()

    def close(self) -> None:
        """Close the link; safe to call twice."""
        with self._lock:
            self._link.close()

    def __enter__(self) -> ZplPrinter:
        self.connect()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def print_label(self, zpl: str) -> None:
        """Send one complete label; returns once the bytes left, raises if they could not."""
        text = zpl.strip()
        if not (text.startswith("^XA") and text.endswith("^XZ")):
            raise ValueError(f"{self.name}: a label must start with ^XA and end with ^XZ")
        with self._lock:
            self._ready_link()
            try:
                self._link.write(text.encode("utf-8") + b"\r\n")
            except (DriverConnectionError, DriverTimeout):
                self._link.close()
                raise

    def status(self) -> LabelStatus:
        """Send ~HS and parse the three status strings."""
        with self._lock:
            self._ready_link()
            try:
                self._link.write(HOST_STATUS_QUERY)
                raw = self._read_answer(time.monotonic() + self.timeout_s)
            except (DriverConnectionError, DriverTimeout, DriverProtocolError):
                # A late or half answer would poison the next query; start clean next time.
                self._link.close()
                raise
        try:
            return parse_host_status(raw)
        except HostStatusError as exc:
            raise DriverProtocolError(
                self.name, self.url, f"~HS answer does not parse: {exc}; got {raw[:80]!r}"
            ) from exc

    def ensure_ready(self) -> LabelStatus:
        """Return the status, or raise DeviceFault listing every fault the printer reports."""
        current = self.status()
        if not current.ready:
            raise DeviceFault(self.name, self.url, "not ready: " + ", ".join(current.faults))
        return current

    def _ready_link(self) -> None:
        if self._link.is_open and not self._link.discard_input():
            self._link.close()
        if not self._link.is_open:
            self._link.open()

    def _read_answer(self, deadline: float) -> bytes:
        raw = b""
        while len(split_frames(raw)) < STRING_COUNT:
            try:
                chunk = self._link.read(deadline)
            except DriverConnectionError as exc:
                got = len(split_frames(raw))
                raise DriverConnectionError(
                    self.name, self.url, f"closed mid-answer after {got} of 3 ~HS strings"
                ) from exc
            if not chunk:
                if raw:
                    raise DriverTimeout(
                        self.name,
                        self.url,
                        f"~HS answer incomplete after {self.timeout_s:g} s: {raw[:80]!r}",
                    )
                raise DriverTimeout(
                    self.name, self.url, f"no ~HS answer within {self.timeout_s:g} s", _SILENT_HINT
                )
            raw += chunk
            try:
                _check_answer_shape(raw)
            except HostStatusError as exc:
                raise DriverProtocolError(
                    self.name, self.url, f"~HS answer does not parse: {exc}; got {raw[:80]!r}"
                ) from exc
        return raw
