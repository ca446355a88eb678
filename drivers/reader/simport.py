"""Transports for simulators: a one-client TCP server and a pseudo-terminal, both thread-backed.

The simulator owns the device side; the driver connects to ``url`` exactly as to real hardware
(``tcp://127.0.0.1:port`` or the pty slave path such as ``/dev/pts/7``).
"""

from __future__ import annotations

import os
import select
import socket
import threading
import time
import tty
from collections.abc import Callable
from typing import Protocol

_POLL_S = 0.05
_SEND_TIMEOUT_S = 2.0


class SimPort(Protocol):
    """The device side of a link: bytes from the host go to a callback, send() goes back."""

    url: str

    def send(self, data: bytes) -> bool:
        """Send to the host; False when no host is connected (a real device drops it too)."""
        ...

    def drop(self) -> None:
        """Cut the host's connection now (a reader reboot, a pulled cable)."""
        ...

    def wait_for_client(self, timeout_s: float) -> bool:
        """Wait until a host is connected."""
        ...

    def close(self) -> None:
        """Stop the thread and release everything; safe to call twice."""
        ...


class TcpSimPort:
    """A TCP server for one host at a time; a new connection replaces the old one, as on readers."""

    def __init__(self, host: str, port: int, on_data: Callable[[bytes], None], name: str) -> None:
        # create_server sets SO_REUSEADDR, so a restarted simulator can take the same port back
        # while the old connections sit in TIME_WAIT.
        self._server = socket.create_server((host, port))
        self.host = host
        self.port: int = self._server.getsockname()[1]
        self.url = f"tcp://{host}:{self.port}"
        self.connections = 0
        self._on_data = on_data
        self._client: socket.socket | None = None
        self._lock = threading.Lock()
        self._connected = threading.Condition(self._lock)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"sim-{name}", daemon=True)
        self._thread.start()

    def send(self, data: bytes) -> bool:
        """Send all bytes to the connected host."""
        with self._lock:
            client = self._client
            if client is None:
                return False
            try:
                client.sendall(data)
            except OSError:
                self._forget(client)
                return False
            return True

    def drop(self) -> None:
        """Close the host's connection (FIN), as a reader does when it reboots."""
        with self._lock:
            if self._client is not None:
                self._forget(self._client)

    def wait_for_client(self, timeout_s: float = 2.0) -> bool:
        """Block until a host is connected or timeout_s passes."""
        with self._connected:
            return self._connected.wait_for(lambda: self._client is not None, timeout_s)

    def close(self) -> None:
        """Stop serving and close the sockets."""
        self._stop.set()
        # Stop listening first: a host retrying meanwhile must be refused, not accepted into
        # the backlog and then reset.
        self._server.close()
        if self._thread.is_alive() and self._thread is not threading.current_thread():
            self._thread.join(timeout=2.0)
        with self._lock:
            if self._client is not None:
                self._forget(self._client)

    def _forget(self, client: socket.socket) -> None:
        # Caller holds the lock.
        if self._client is client:
            self._client = None
        try:
            client.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        client.close()

    def _run(self) -> None:
        while not self._stop.is_set():
            with self._lock:
                client = self._client
            watch: list[socket.socket] = (
                [self._server] if client is None else [self._server, client]
            )
            try:
                ready, _, _ = select.select(watch, [], [], _POLL_S)
            except (OSError, ValueError):
                continue  # the client was closed by drop() while we waited
            for sock in ready:
                if sock is self._server:
                    self._accept()
                else:
                    self._receive(sock)

    def _accept(self) -> None:
        try:
            conn, _ = self._server.accept()
        except OSError:
            return
        conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        conn.settimeout(_SEND_TIMEOUT_S)
        with self._connected:
            if self._client is not None:
                self._forget(self._client)
            self._client = conn
            self.connections += 1
            self._connected.notify_all()

    def _receive(self, sock: socket.socket) -> None:
        try:
            data = sock.recv(4096)
        except OSError:
            data = b""
        if not data:
            with self._lock:
                if self._client is sock:
                    self._forget(sock)
            return
        self._on_data(data)


class PtySimPort:
    """A pseudo-terminal: the driver opens ``url`` (the slave path) like a USB CDC port."""

    def __init__(self, on_data: Callable[[bytes], None], name: str) -> None:
        self._master, self._slave = os.openpty()
        # Raw mode: no echo and no CR/LF translation, or the line discipline would rewrite
        # suffixes and echo triggers back before the driver has even opened the port.
        tty.setraw(self._slave)
        os.set_blocking(self._master, False)
        self.url = os.ttyname(self._slave)
        self._on_data = on_data
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._closed = False
        self._thread = threading.Thread(target=self._run, name=f"sim-{name}", daemon=True)
        self._thread.start()

    def send(self, data: bytes) -> bool:
        """Write to the master side; the kernel buffers it for whoever opens the slave."""
        with self._lock:
            if self._closed:
                return False
            view = memoryview(data)
            deadline = time.monotonic() + _SEND_TIMEOUT_S
            while view:
                try:
                    n = os.write(self._master, view)
                except BlockingIOError:
                    n = 0
                view = view[n:]
                if view:
                    if time.monotonic() > deadline:
                        return False
                    select.select([], [self._master], [], _POLL_S)
            return True

    def drop(self) -> None:
        """A pty cannot drop one side and stay usable; close() models an unplugged device."""
        raise NotImplementedError("drop() needs the TCP transport; close() unplugs a pty")

    def wait_for_client(self, timeout_s: float = 2.0) -> bool:
        """A pty has no connect event: the slave is open as soon as the driver opened it."""
        return True

    def close(self) -> None:
        """Stop the thread and close both ends (the driver then sees the device vanish)."""
        self._stop.set()
        if self._thread.is_alive() and self._thread is not threading.current_thread():
            self._thread.join(timeout=2.0)
        with self._lock:
            if not self._closed:
                self._closed = True
                os.close(self._master)
                os.close(self._slave)

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                ready, _, _ = select.select([self._master], [], [], _POLL_S)
                if not ready:
                    continue
                data = os.read(self._master, 4096)
            except BlockingIOError:
                continue
            except OSError:
                return  # closed
            if data:
                self._on_data(data)


def send_split(port: SimPort, data: bytes, parts: int, gap_s: float) -> None:
    """Send data in ``parts`` pieces with a pause between, so the host sees separate segments."""
    size = max(1, -(-len(data) // max(parts, 1)))
    for start in range(0, len(data), size):
        if start:
            time.sleep(gap_s)
        port.send(data[start : start + size])
