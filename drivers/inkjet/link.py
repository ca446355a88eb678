"""Byte links to a printer: pyserial URLs (tty path, rfc2217://, loop://) or TCP (tcp://, socket://).

A link only moves bytes: `write(data)`, `read() -> bytes` (b"" when nothing arrived within the
poll interval, LinkClosed when the peer is gone) and `close()`.
"""

from __future__ import annotations

import socket
from typing import Protocol
from urllib.parse import urlsplit

import serial

POLL_S = 0.05
"""How long one read() may block, so the reader thread notices close() quickly."""


class LinkClosed(Exception):
    """The peer closed the link or the device vanished."""


class Link(Protocol):
    """Bytes in and out."""

    def write(self, data: bytes) -> None:
        """Send all of `data`."""
        ...

    def read(self) -> bytes:
        """Bytes received within POLL_S (maybe b""); LinkClosed when the peer is gone."""
        ...

    def abort(self) -> None:
        """Wake a read() blocked in another thread, keeping the descriptor until close()."""
        ...

    def close(self) -> None:
        """Release the port or socket."""
        ...


class TcpLink:
    """Plain TCP socket (`tcp://host:port` or pyserial-style `socket://host:port`)."""

    def __init__(self, host: str, port: int, timeout_s: float) -> None:
        self._sock = socket.create_connection((host, port), timeout=timeout_s)
        self._sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self._sock.settimeout(POLL_S)

    def write(self, data: bytes) -> None:
        """Send all of `data`."""
        try:
            self._sock.sendall(data)
        except OSError as exc:
            raise LinkClosed(str(exc)) from exc

    def read(self) -> bytes:
        """Bytes received within POLL_S."""
        try:
            data = self._sock.recv(4096)
        except TimeoutError:
            return b""
        except OSError as exc:
            raise LinkClosed(str(exc)) from exc
        if not data:
            raise LinkClosed("peer closed the connection")
        return data

    def abort(self) -> None:
        """Shut the socket down so a blocked recv() returns at once."""
        try:
            self._sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass

    def close(self) -> None:
        """Close the socket."""
        self._sock.close()


class SerialLink:
    """Anything serial.serial_for_url opens: /dev/ttyUSB0, socket://, rfc2217://, loop://."""

    def __init__(self, url: str, baudrate: int, timeout_s: float) -> None:
        self._port = serial.serial_for_url(url, baudrate=baudrate, timeout=POLL_S, do_not_open=True)
        self._port.write_timeout = timeout_s
        self._port.open()

    def write(self, data: bytes) -> None:
        """Send all of `data`."""
        try:
            self._port.write(data)
        except (serial.SerialException, OSError) as exc:
            raise LinkClosed(str(exc)) from exc

    def read(self) -> bytes:
        """Bytes received within POLL_S."""
        try:
            first = self._port.read(1)
            if not first:
                return b""
            data = bytearray(first)
            # in_waiting is exact on a tty but only 0/1 on pyserial's socket://, hence the loop.
            while waiting := self._port.in_waiting:
                data += self._port.read(waiting)
            return bytes(data)
        except (serial.SerialException, OSError, TypeError) as exc:
            # pyserial's socket:// raises SerialException on peer close; a pty gives EIO.
            raise LinkClosed(str(exc)) from exc

    def abort(self) -> None:
        """Cancel a blocked read where pyserial can (posix ports); else it ends within POLL_S."""
        cancel = getattr(self._port, "cancel_read", None)
        if cancel is not None:
            try:
                cancel()
            except (serial.SerialException, OSError, NotImplementedError):
                pass

    def close(self) -> None:
        """Close the port."""
        self._port.close()


def open_link(url: str, timeout_s: float, baudrate: int = 9600) -> Link:
    """Open `url`: tcp:// and socket:// are a plain socket; anything else goes to pyserial.

    pyserial's socket:// handler sleeps 0.3 s in close() and connects with a fixed 5 s timeout,
    which breaks the caller's timeout and slows reconnects; the bytes on the wire are the same.
    """
    if url.startswith(("tcp://", "socket://")):
        parts = urlsplit(url)
        if not parts.hostname or not parts.port:
            raise ValueError(f"tcp URL needs host and port: {url!r}")
        return TcpLink(parts.hostname, parts.port, timeout_s)
    return SerialLink(url, baudrate, timeout_s)
