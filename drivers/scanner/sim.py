"""SimScanner: a handheld scanner on a pty (as USB CDC) or TCP; ``scan(code)`` pulls the trigger."""

from __future__ import annotations

from typing import Literal

from drivers.reader.simport import PtySimPort, SimPort, TcpSimPort, send_split
from drivers.scanner.base import SUFFIXES


class SimScanner:
    """Sends each scan as ``code.encode(encoding) + suffix``; host bytes are recorded, not used."""

    def __init__(
        self,
        *,
        transport: Literal["pty", "tcp"] = "pty",
        host: str = "127.0.0.1",
        port: int = 0,
        suffix: str = "\r",
        encoding: str = "utf-8",
        name: str = "sim-scanner",
    ) -> None:
        self.suffix = SUFFIXES.get(suffix.upper(), suffix)
        self.encoding = encoding
        self.transport = transport
        self._received = bytearray()
        self._port: SimPort
        if transport == "pty":
            self._port = PtySimPort(self._received.extend, name)
        elif transport == "tcp":
            self._port = TcpSimPort(host, port, self._received.extend, name)
        else:
            raise ValueError(f"transport must be 'pty' or 'tcp', not {transport!r}")

    @property
    def url(self) -> str:
        """What the driver opens: the pty slave path or tcp://127.0.0.1:PORT."""
        return self._port.url

    @property
    def port(self) -> int:
        """The TCP port (0 for a pty)."""
        return getattr(self._port, "port", 0)

    def __enter__(self) -> SimScanner:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Stop; on a pty the driver sees the device vanish, as when USB is unplugged."""
        self._port.close()

    def scan(self, code: str) -> bytes:
        """The operator scans code; returns the bytes sent."""
        data = self.encode(code)
        self._port.send(data)
        return data

    def encode(self, code: str) -> bytes:
        """The bytes a scan of code puts on the wire."""
        return (code + self.suffix).encode(self.encoding)

    def scan_split(self, code: str, parts: int = 3, gap_s: float = 0.005) -> None:
        """Scan, with the bytes arriving in several pieces (USB packets, slow UART)."""
        send_split(self._port, self.encode(code), parts, gap_s)

    def send_raw(self, data: bytes) -> None:
        """Send arbitrary bytes (noise, a code in another encoding)."""
        self._port.send(data)

    def drop(self) -> None:
        """Close the driver's connection (TCP only)."""
        self._port.drop()

    def wait_for_client(self, timeout_s: float = 2.0) -> bool:
        """Block until the driver is connected (TCP); True at once on a pty."""
        return self._port.wait_for_client(timeout_s)

    def received(self) -> bytes:
        """Bytes the host sent (scanners ignore them; useful to catch a stray trigger)."""
        return bytes(self._received)
