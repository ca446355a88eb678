"""SimInkjet: a simulated CIJ/TIJ printer speaking any inkjet codec over TCP or a pseudo-terminal.

    with SimInkjet("binpacket", mode="fifo", depth=4) as sim:      # TCP on 127.0.0.1, free port
        printer = open_inkjet("binpacket", sim.url, depth=4)         # sim.url = socket://127.0.0.1:N
        ...
        sim.trigger()                                                # the photocell fires

    SimInkjet("bracetext", transport="pty")                          # sim.url = /dev/pts/N

The world hooks (trigger, set_fault, ...) are thread-safe. A state change and the bytes that
report it are written under one lock, so the wire order is the order things happened.
Fault injection: set_fault/clear_fault, drop(), drop_mid_message(), send_garbage(),
corrupt_next() (bad checksum), truncate_next(), delay_s (slow peer), silent (no answers),
stop()/start() (refuse connections, then come back on the same port).
"""

from __future__ import annotations

import contextlib
import os
import select
import socket
import threading
import tty
from collections import deque

from drivers.inkjet.base import PrintMode
from drivers.inkjet.messages import (
    FAULTS,
    Ack,
    ClearQueue,
    Enqueue,
    FrameError,
    Kind,
    Message,
    Missed,
    Nak,
    PrintEnd,
    SelectJob,
    StatusReport,
    StatusRequest,
    UpdateField,
    get_codec,
)

BLOCKING = frozenset({"not_ready", "ink_out", "head_fault"})
"""Faults that stop printing; ink_low only warns and buffer_full only refuses new texts."""


class SimInkjet:
    """A simulated inkjet printer; see the module docstring."""

    def __init__(
        self,
        protocol: str,
        host: str = "127.0.0.1",
        port: int = 0,
        mode: str = "fifo",
        depth: int = 4,
        *,
        transport: str = "tcp",
        jobs: tuple[str, ...] | None = None,
        print_end: bool = True,
        ink_level_pct: int | None = 80,
    ) -> None:
        if transport not in ("tcp", "pty"):
            raise ValueError(f"transport must be tcp or pty, got {transport!r}")
        self.codec = get_codec(protocol)
        self.host, self.port, self.transport = host, port, transport
        self.mode = PrintMode(mode)
        self.depth = depth
        self.jobs = jobs
        self.print_end = print_end
        self.ink_level_pct = ink_level_pct
        self.delay_s = 0.0
        self.silent = False
        self.job: str | None = None
        self.field: str | None = None
        self.queue: deque[str] = deque()
        self.count = 0
        self.faults: set[str] = set()
        self.printed: list[str] = []
        self.received: deque[Message] = deque(maxlen=1000)  # the last requests, for tests
        self.bad_frames: deque[FrameError] = deque(maxlen=1000)
        self.connections = 0
        self._lock = threading.RLock()
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self._server: socket.socket | None = None
        self._client: socket.socket | None = None
        self._master: int | None = None
        self._slave: int | None = None
        self._corrupt = 0
        self._truncate = 0
        self.url = ""

    # -- lifecycle ----------------------------------------------------------------------------
    def start(self) -> SimInkjet:
        """Listen (TCP: on the same port again after stop()) or open the pty."""
        if self._threads:
            raise RuntimeError("simulator already started")
        self._stop.clear()
        if self.transport == "tcp":
            server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            server.bind((self.host, self.port))
            server.listen(2)
            server.settimeout(0.05)
            self._server = server
            self.port = server.getsockname()[1]
            self.url = f"socket://{self.host}:{self.port}"
            self._spawn(self._accept_loop, server)
        else:
            self._master, self._slave = os.openpty()
            tty.setraw(self._slave)
            self.url = os.ttyname(self._slave)
            self._spawn(self._pty_loop, self._master)
        return self

    def stop(self) -> None:
        """Close every socket or fd and join the threads; connections are refused until start()."""
        self._stop.set()
        with self._lock:
            for sock in (self._client, self._server):
                if sock is not None:
                    with contextlib.suppress(OSError):
                        sock.shutdown(socket.SHUT_RDWR)  # wakes accept()/recv() at once
                    sock.close()
            self._client = self._server = None
        for t in self._threads:
            t.join(timeout=2.0)
        self._threads.clear()
        for fd in (self._master, self._slave):
            if fd is not None:
                os.close(fd)
        self._master = self._slave = None

    def __enter__(self) -> SimInkjet:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _spawn(self, target: object, *args: object) -> None:
        self._threads = [t for t in self._threads if t.is_alive()]
        t = threading.Thread(target=target, args=args, daemon=True, name="sim-inkjet")  # type: ignore[arg-type]
        self._threads.append(t)
        t.start()

    # -- transports ---------------------------------------------------------------------------
    def _accept_loop(self, server: socket.socket) -> None:
        while not self._stop.is_set():
            try:
                client, _ = server.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            client.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            client.settimeout(0.05)
            with self._lock:
                old, self._client = self._client, client
                self.connections += 1
            if old is not None:
                old.close()
            self._spawn(self._client_loop, client)

    def _client_loop(self, client: socket.socket) -> None:
        decoder = self.codec.decoder()
        while not self._stop.is_set():
            try:
                data = client.recv(4096)
            except TimeoutError:
                continue
            except OSError:
                break
            if not data:
                break
            self._handle(decoder.feed(data))
        with self._lock:
            if self._client is client:
                self._client = None
        client.close()

    def _pty_loop(self, master: int) -> None:
        decoder = self.codec.decoder()
        while not self._stop.is_set():
            ready, _, _ = select.select([master], [], [], 0.05)
            if not ready:
                continue
            try:
                data = os.read(master, 4096)
            except OSError:
                return
            self._handle(decoder.feed(data))

    def _write(self, data: bytes) -> None:
        """Called with the lock held; a lost peer is the printer's problem only for that frame."""
        try:
            if self.transport == "tcp":
                if self._client is not None:
                    self._client.sendall(data)
            elif self._master is not None:
                os.write(self._master, data)
        except OSError:
            pass

    def _answer(self, msg: Message) -> None:
        data = self.codec.encode(msg)
        if self._corrupt:
            self._corrupt -= 1
            data = self.codec.damage(data)
        elif self._truncate:
            self._truncate -= 1
            data = data[: len(data) // 2]
        self._write(data)

    # -- the printer --------------------------------------------------------------------------
    def _handle(self, items: list[Message | FrameError]) -> None:
        for msg in items:
            if isinstance(msg, FrameError):
                self.bad_frames.append(msg)
                continue
            if self.delay_s and self._stop.wait(self.delay_s):
                return
            with self._lock:
                self.received.append(msg)
                reply = self._apply(msg)
                if reply is not None and not self.silent:
                    self._answer(reply)

    def _blocking(self) -> str | None:
        hit = sorted(self.faults & BLOCKING)
        return hit[0] if hit else None

    def _apply(self, msg: Message) -> Message | None:
        match msg:
            case SelectJob(job):
                if self.jobs is not None and job not in self.jobs:
                    return Nak(Kind.SELECT, "unknown_job")
                self.job = job
                return Ack(Kind.SELECT)
            case UpdateField(text):
                if fault := self._blocking():
                    return Nak(Kind.UPDATE, fault)
                self.field = text
                return Ack(Kind.UPDATE)
            case Enqueue(text):
                if self.mode is not PrintMode.FIFO:
                    return Nak(Kind.ENQUEUE, "not_in_fifo_mode")
                if fault := self._blocking():
                    return Nak(Kind.ENQUEUE, fault)
                if len(self.queue) >= self.depth or "buffer_full" in self.faults:
                    return Nak(Kind.ENQUEUE, "buffer_full")
                self.queue.append(text)
                return Ack(Kind.ENQUEUE)
            case ClearQueue():
                self.queue.clear()
                return Ack(Kind.CLEAR)
            case StatusRequest():
                faults = tuple(sorted(self.faults))
                ready = self._blocking() is None
                return StatusReport(ready, faults, len(self.queue), self.count, self.ink_level_pct)
        return None

    # -- world hooks --------------------------------------------------------------------------
    def trigger(self) -> str | None:
        """The photocell fires: print one product and return its text (None: nothing printed)."""
        with self._lock:
            if fault := self._blocking():
                self._write(self.codec.encode(Missed(fault)))
                return None
            if self.mode is PrintMode.FIFO:
                text = self.queue.popleft() if self.queue else None
            else:
                text = self.field  # a late update means the old text is printed again
            if text is None:
                self._write(self.codec.encode(Missed("empty")))
                return None
            self.count += 1
            self.printed.append(text)
            if self.print_end:
                self._answer(PrintEnd(self.count, text))
            return text

    def set_fault(self, name: str) -> None:
        """Raise a fault: not_ready, ink_low, ink_out, head_fault or buffer_full."""
        if name not in FAULTS:
            raise ValueError(f"unknown fault {name!r}; one of {FAULTS}")
        with self._lock:
            self.faults.add(name)

    def clear_fault(self, name: str | None = None) -> None:
        """Clear one fault, or all of them."""
        with self._lock:
            if name is None:
                self.faults.clear()
            else:
                self.faults.discard(name)

    def drop(self) -> None:
        """Close the current client connection (TCP only; over a pty use stop())."""
        if self.transport != "tcp":
            raise RuntimeError("drop() needs transport='tcp'; stop() makes a pty vanish")
        with self._lock:
            client, self._client = self._client, None
        if client is not None:
            client.shutdown(socket.SHUT_RDWR)
            client.close()

    def drop_mid_message(self, msg: Message | None = None) -> None:
        """Send the first half of a frame, then close the connection."""
        if self.transport != "tcp":
            raise RuntimeError("drop_mid_message() needs transport='tcp'")
        with self._lock:
            frame = self.codec.encode(msg or StatusReport(True, (), len(self.queue), self.count))
            self._write(frame[: len(frame) // 2])
        self.drop()

    def send_garbage(self, data: bytes = b"\x00\xff\x17garbage\xfe") -> None:
        """Write raw bytes between frames."""
        with self._lock:
            self._write(data)

    def corrupt_next(self, n: int = 1) -> None:
        """Spoil the check of the next n frames the printer sends."""
        with self._lock:
            self._corrupt += n

    def truncate_next(self, n: int = 1) -> None:
        """Send only the first half of the next n frames."""
        with self._lock:
            self._truncate += n
