"""Byte links to a printer: raw TCP (port 9100 style) and serial via pyserial URLs.

Every call takes a deadline and raises drivers.errors with the device name and the port.
"""

from __future__ import annotations

import select
import socket
import time
from urllib.parse import urlsplit

import serial

from drivers.errors import DriverConnectionError, DriverTimeout


class TcpLink:
    """A raw TCP socket to host:port."""

    def __init__(self, device: str, url: str, timeout_s: float) -> None:
        parts = urlsplit(url)
        if not parts.hostname or not parts.port:
            raise ValueError(f"{device}: {url!r} is not tcp://host:port")
        self.device, self.url, self.timeout_s = device, url, timeout_s
        self._address = (parts.hostname, parts.port)
        self._sock: socket.socket | None = None

    def open(self) -> None:
        """Connect within the timeout."""
        try:
            self._sock = socket.create_connection(self._address, timeout=self.timeout_s)
        except TimeoutError as exc:
            raise DriverTimeout(self.device, self.url, "connect timed out") from exc
        except OSError as exc:
            raise DriverConnectionError(
                self.device, self.url, f"cannot connect: {exc}",
                "check the printer is on, its cable, and the IP address and port in config.toml",
            ) from exc  # fmt: skip
        self._sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def close(self) -> None:
        """Close the socket; safe to call twice."""
        sock, self._sock = self._sock, None
        if sock is not None:
            sock.close()

    @property
    def is_open(self) -> bool:
        """True while a socket is held."""
        return self._sock is not None

    def discard_input(self) -> bool:
        """Drop bytes already waiting (a late answer); False if the peer has closed."""
        sock = self._require()
        while select.select([sock], [], [], 0)[0]:
            try:
                chunk = sock.recv(4096)
            except OSError:
                return False
            if not chunk:
                return False
        return True

    def write(self, data: bytes) -> None:
        """Send all bytes or raise; a stalled send means the printer stopped reading."""
        sock = self._require()
        sock.settimeout(self.timeout_s)
        try:
            sock.sendall(data)
        except TimeoutError as exc:
            raise DriverTimeout(
                self.device, self.url, "send stalled", "printer not reading: buffer full?"
            ) from exc
        except OSError as exc:
            raise DriverConnectionError(self.device, self.url, f"send failed: {exc}") from exc

    def read(self, deadline: float) -> bytes:
        """Return the next bytes before `deadline` (time.monotonic); b'' means the time is up."""
        sock = self._require()
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            return b""
        sock.settimeout(remaining)
        try:
            chunk = sock.recv(4096)
        except TimeoutError:
            return b""
        except OSError as exc:
            raise DriverConnectionError(self.device, self.url, f"receive failed: {exc}") from exc
        if not chunk:
            raise DriverConnectionError(self.device, self.url, "printer closed the connection")
        return chunk

    def _require(self) -> socket.socket:
        if self._sock is None:
            raise DriverConnectionError(self.device, self.url, "not connected")
        return self._sock


class SerialLink:
    """A serial port opened with serial.serial_for_url (device path, rfc2217://, socket://, …)."""

    def __init__(self, device: str, url: str, timeout_s: float, baudrate: int = 9600) -> None:
        self.device, self.url, self.timeout_s, self.baudrate = device, url, timeout_s, baudrate
        self._port: serial.Serial | None = None

    def open(self) -> None:
        """Open the port."""
        try:
            self._port = serial.serial_for_url(
                self.url,
                baudrate=self.baudrate,
                timeout=self.timeout_s,
                write_timeout=self.timeout_s,
            )
        except (serial.SerialException, ValueError) as exc:
            raise DriverConnectionError(self.device, self.url, f"cannot open: {exc}") from exc

    def close(self) -> None:
        """Close the port; safe to call twice."""
        port, self._port = self._port, None
        if port is not None:
            port.close()

    @property
    def is_open(self) -> bool:
        """True while the port is held."""
        return self._port is not None

    def discard_input(self) -> bool:
        """Drop bytes already waiting; a serial line cannot tell that the far end went away."""
        try:
            self._require().reset_input_buffer()
        except (serial.SerialException, OSError):
            return False
        return True

    def write(self, data: bytes) -> None:
        """Write all bytes or raise."""
        port = self._require()
        try:
            port.write(data)
            port.flush()
        except serial.SerialTimeoutException as exc:
            raise DriverTimeout(
                self.device, self.url, "write stalled", "flow control holding us off?"
            ) from exc
        except (serial.SerialException, OSError) as exc:
            raise DriverConnectionError(self.device, self.url, f"write failed: {exc}") from exc

    def read(self, deadline: float) -> bytes:
        """Return the next bytes before `deadline`; b'' means the time is up."""
        port = self._require()
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            return b""
        port.timeout = remaining
        try:
            return port.read(max(1, port.in_waiting))
        except (serial.SerialException, OSError) as exc:
            raise DriverConnectionError(self.device, self.url, f"read failed: {exc}") from exc

    def _require(self) -> serial.Serial:
        if self._port is None:
            raise DriverConnectionError(self.device, self.url, "not connected")
        return self._port


def make_link(
    device: str, url: str, timeout_s: float, baudrate: int = 9600
) -> TcpLink | SerialLink:
    """Pick the link for `url`: tcp://host:port is raw TCP, everything else goes to pyserial."""
    if url.startswith("tcp://"):
        return TcpLink(device, url, timeout_s)
    return SerialLink(device, url, timeout_s, baudrate)
