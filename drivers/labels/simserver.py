"""Transports for the simulators: a threaded TCP server on 127.0.0.1 and a pseudo-terminal."""

from __future__ import annotations

import os
import select
import socket
import threading
import tty
from collections.abc import Callable
from typing import Self

# A session gets each chunk of bytes and a `send` to answer through; it returns False to hang up.
Session = Callable[[bytes, Callable[[bytes], None]], bool]


class TcpSimServer:
    """Accepts clients on host:port (port 0 picks one, kept across restarts); one thread each."""

    def __init__(self, host: str, port: int, new_session: Callable[[], Session]) -> None:
        self.host = host
        self.port = port
        self._new_session = new_session
        self._listener: socket.socket | None = None
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self._clients: set[socket.socket] = set()
        self._lock = threading.Lock()

    @property
    def stop_event(self) -> threading.Event:
        """Set while stopping; sessions wait on it instead of sleeping."""
        return self._stop

    def start(self) -> None:
        """Bind and start accepting."""
        if self._listener is not None:
            return
        self._stop.clear()
        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind((self.host, self.port))
        listener.listen(8)
        self.port = listener.getsockname()[1]
        self._listener = listener
        self._threads = [t for t in self._threads if t.is_alive()]
        self._threads.insert(
            0,
            threading.Thread(
                target=self._accept_loop, args=(listener,), daemon=True, name="sim-labels-accept"
            ),
        )
        self._threads[0].start()

    def stop(self) -> None:
        """Close the listener and every client, and join the threads."""
        self._stop.set()
        listener, self._listener = self._listener, None
        if listener is not None:
            listener.close()
        # The accept thread first, so no client thread starts while we join the others.
        for thread in list(self._threads[:1]):
            thread.join(timeout=5)
        self.drop_clients()
        for thread in list(self._threads):
            thread.join(timeout=5)
        self._threads = [t for t in self._threads if t.is_alive()]

    def drop_clients(self) -> None:
        """Close every client connection now (the printer's link went away)."""
        with self._lock:
            clients, self._clients = set(self._clients), set()
        for conn in clients:
            try:
                conn.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            conn.close()

    def _spawn(self, target: Callable[..., None], *args: object) -> None:
        thread = threading.Thread(target=target, args=args, daemon=True, name="sim-labels-client")
        self._threads.append(thread)
        thread.start()

    def _accept_loop(self, listener: socket.socket) -> None:
        while not self._stop.is_set():
            try:
                readable = select.select([listener], [], [], 0.05)[0]
                if not readable:
                    continue
                conn, _ = listener.accept()
            except (OSError, ValueError):
                return
            with self._lock:
                self._clients.add(conn)
            self._threads[1:] = [t for t in self._threads[1:] if t.is_alive()]
            self._spawn(self._serve, conn)

    def _serve(self, conn: socket.socket) -> None:
        session = self._new_session()

        def send(data: bytes) -> None:
            try:
                conn.sendall(data)
            except OSError:
                pass

        try:
            while not self._stop.is_set():
                try:
                    if not select.select([conn], [], [], 0.05)[0]:
                        continue
                    data = conn.recv(65536)
                except (OSError, ValueError):
                    return
                if not data or not session(data, send):
                    return
        finally:
            with self._lock:
                self._clients.discard(conn)
            conn.close()


class PtySimPort:
    """A pseudo-terminal; clients open `path` (a pyserial URL); we serve the master."""

    def __init__(self, new_session: Callable[[], Session]) -> None:
        self._new_session = new_session
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._master = -1
        self._slave = -1
        self.path = ""

    @property
    def stop_event(self) -> threading.Event:
        """Set while stopping."""
        return self._stop

    def start(self) -> None:
        """Open the pty pair and start serving."""
        if self._thread is not None:
            return
        self._stop.clear()
        self._master, self._slave = os.openpty()
        # Raw mode: no echo and no CR/LF translation, like a real serial line.
        tty.setraw(self._slave)
        self.path = os.ttyname(self._slave)
        self._thread = threading.Thread(target=self._serve, daemon=True, name="sim-labels-pty")
        self._thread.start()

    def stop(self) -> None:
        """Stop serving and close both ends."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None
        for fd in (self._master, self._slave):
            if fd >= 0:
                os.close(fd)
        self._master = self._slave = -1

    def _serve(self) -> None:
        session = self._new_session()

        def send(data: bytes) -> None:
            os.write(self._master, data)

        while not self._stop.is_set():
            if not select.select([self._master], [], [], 0.05)[0]:
                continue
            try:
                data = os.read(self._master, 65536)
            except OSError:
                continue
            if data:
                session(data, send)


class TcpSimLifecycle:
    """url / start / stop / drop_connections / context manager of a simulator on a TcpSimServer."""

    _server: TcpSimServer

    @property
    def url(self) -> str:
        """tcp://host:port for the driver."""
        return f"tcp://{self._server.host}:{self._server.port}"

    def start(self) -> Self:
        """Start listening (again, on the same port after a stop)."""
        self._server.start()
        return self

    def stop(self) -> None:
        """Stop listening and close every client."""
        self._server.stop()

    def drop_connections(self) -> None:
        """Close client connections now, as a printer reboot or cable pull would."""
        self._server.drop_clients()

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
