"""Byte links to a device: a TCP socket or anything pyserial opens by URL; bytes only, no format.

URLs: ``tcp://host:port`` opens a plain socket; everything else goes to ``serial.serial_for_url``
(``/dev/ttyUSB0``, ``/dev/ttyACM0?baudrate=115200``, ``socket://host:port``, ``rfc2217://host:port``,
``loop://``). ``?baudrate=N`` on a device path is ours (pyserial takes baud rate as an argument).
"""

from __future__ import annotations

import socket
import time
from typing import Protocol
from urllib.parse import parse_qs, urlsplit

import serial

# pyserial re-applies termios on every timeout change; a fixed slice avoids that per read while
# still waking as soon as a byte arrives (select returns early).
_SERIAL_SLICE_S = 0.02


class LinkClosed(OSError):
    """The peer closed the link or the device went away."""


class Link(Protocol):
    """A bidirectional byte pipe with timeouts on every call."""

    def open(self, timeout_s: float) -> None:
        """Open the link; OSError (or serial.SerialException) when it cannot."""
        ...

    def close(self) -> None:
        """Close; safe to call twice."""
        ...

    def write(self, data: bytes, timeout_s: float) -> None:
        """Send all of data or raise."""
        ...

    def read_some(self, timeout_s: float) -> bytes:
        """Return what arrived (at least one byte), b"" on timeout; LinkClosed when gone."""
        ...

    @property
    def is_open(self) -> bool:
        """True between open() and close() (or loss)."""
        ...


class TcpLink:
    """A TCP client socket with Nagle off (results are small and latency matters)."""

    def __init__(self, host: str, port: int) -> None:
        self.host = host
        self.port = port
        self._sock: socket.socket | None = None

    @property
    def is_open(self) -> bool:
        """True while a socket is held."""
        return self._sock is not None

    def open(self, timeout_s: float) -> None:
        """Connect within timeout_s."""
        self.close()
        sock = socket.create_connection((self.host, self.port), timeout=timeout_s)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self._sock = sock

    def close(self) -> None:
        """Close the socket if open."""
        sock, self._sock = self._sock, None
        if sock is not None:
            sock.close()

    def write(self, data: bytes, timeout_s: float) -> None:
        """Send all bytes within timeout_s."""
        sock = self._require()
        sock.settimeout(timeout_s)
        try:
            sock.sendall(data)
        except (BrokenPipeError, ConnectionResetError) as exc:
            self.close()
            raise LinkClosed(str(exc)) from exc

    def read_some(self, timeout_s: float) -> bytes:
        """Receive up to 64 KiB; b"" on timeout; LinkClosed on EOF or reset."""
        sock = self._require()
        sock.settimeout(max(timeout_s, 0.0))
        try:
            data = sock.recv(65536)
        except (TimeoutError, BlockingIOError):
            return b""
        except (ConnectionResetError, ConnectionAbortedError) as exc:
            self.close()
            raise LinkClosed(str(exc)) from exc
        if not data:
            self.close()
            raise LinkClosed("peer closed the connection")
        return data

    def _require(self) -> socket.socket:
        if self._sock is None:
            raise LinkClosed("not connected")
        return self._sock


class SerialLink:
    """Any pyserial URL: a USB CDC/RS-232 port, a pty, socket://, rfc2217://, loop://."""

    def __init__(self, url: str, baudrate: int = 9600) -> None:
        self.url = url
        self.baudrate = baudrate
        self._ser: serial.Serial | None = None

    @property
    def is_open(self) -> bool:
        """True while the port is held open."""
        return self._ser is not None

    def open(self, timeout_s: float) -> None:
        """Open the port (timeout_s bounds writes; opening a local port does not block)."""
        self.close()
        ser = serial.serial_for_url(
            self.url,
            baudrate=self.baudrate,
            timeout=_SERIAL_SLICE_S,
            write_timeout=timeout_s,
            do_not_open=True,
        )
        ser.open()
        self._ser = ser

    def close(self) -> None:
        """Close the port if open."""
        ser, self._ser = self._ser, None
        if ser is not None:
            try:
                ser.close()
            except (OSError, serial.SerialException):
                pass  # the device is already gone (USB unplugged)

    def write(self, data: bytes, timeout_s: float) -> None:
        """Write all bytes; write_timeout was fixed at open."""
        ser = self._require()
        try:
            ser.write(data)
            ser.flush()
        except serial.SerialTimeoutException:
            raise
        except (OSError, serial.SerialException) as exc:
            self.close()
            raise LinkClosed(str(exc)) from exc

    def read_some(self, timeout_s: float) -> bytes:
        """Wait up to timeout_s for bytes in fixed slices; return all that is waiting."""
        ser = self._require()
        deadline = time.monotonic() + max(timeout_s, 0.0)
        try:
            if timeout_s <= 0:
                waiting = ser.in_waiting
                return ser.read(waiting) if waiting else b""
            while True:
                first = ser.read(1)
                if first:
                    waiting = ser.in_waiting
                    return first + ser.read(waiting) if waiting else first
                if time.monotonic() >= deadline:
                    return b""
        except (OSError, serial.SerialException) as exc:
            # pyserial reports a vanished USB port or a closed pty master as "device reports
            # readiness to read but returned no data", and a closed socket:// as "socket
            # disconnected": both mean the device is gone.
            self.close()
            raise LinkClosed(str(exc)) from exc

    def _require(self) -> serial.Serial:
        if self._ser is None:
            raise LinkClosed("not open")
        return self._ser


def open_link(url: str, baudrate: int = 9600) -> Link:
    """Build (not open) the link for a URL; see the module docstring for the forms."""
    if url.startswith("tcp://"):
        parts = urlsplit(url)
        if not parts.hostname or parts.port is None:
            raise ValueError(f"{url!r}: expected tcp://host:port")
        return TcpLink(parts.hostname, parts.port)
    if "://" not in url and "?" in url:
        path, _, query = url.partition("?")
        options = parse_qs(query)
        unknown = set(options) - {"baudrate"}
        if unknown:
            raise ValueError(f"{url!r}: unknown option(s) {sorted(unknown)}; only baudrate")
        return SerialLink(path, int(options["baudrate"][0]))
    return SerialLink(url, baudrate)
