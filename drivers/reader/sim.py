"""SimReader: a fixed reader on TCP or a pty sending what the simulated world says it decoded.

World hooks (thread-safe): ``read(codes)`` tells the sim what it decodes for the next trigger (an
empty list sends the no-read string); ``triggers()`` counts software triggers received.
Software-triggered (the dialect or ``trigger_command`` gives trigger bytes): each trigger sends the
oldest staged result, or the no-read string when nothing was staged (nothing in view). Hardware-
triggered (no trigger bytes): ``read(codes)`` sends at once, as when the photo-eye fired.

Faults: ``send_raw`` (garbage), ``split_next`` (one message over several segments),
``merge_next`` (several messages in one segment), ``drop`` and ``drop_mid_next`` (TCP only),
``silence`` (triggers counted, nothing sent).
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Iterable
from typing import Literal

from drivers.reader.codec import encode_message
from drivers.reader.dialects import get_dialect
from drivers.reader.simport import PtySimPort, SimPort, TcpSimPort, send_split

_MAX_COMMAND_BYTES = 4096


class SimReader:
    """A simulated fixed reader speaking the prefix/suffix/separator text protocol."""

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        prefix: str = "",
        suffix: str = "\r\n",
        separator: str = ";",
        noread: str = "NOREAD",
        dialect: str = "generic",
        trigger_command: bytes | None = None,
        ack: bytes = b"",
        transport: Literal["tcp", "pty"] = "tcp",
        encoding: str = "utf-8",
        name: str = "sim-reader",
    ) -> None:
        self.prefix = prefix
        self.suffix = suffix
        self.separator = separator
        self.noread = noread
        self.encoding = encoding
        self.ack = ack
        self.dialect = get_dialect(dialect, trigger_command)
        self._lock = threading.RLock()
        self._staged: deque[tuple[str, ...]] = deque()
        self._triggers = 0
        self._received = bytearray()
        self._commands = bytearray()
        self._sent: list[bytes] = []
        self._silent = False
        self._split: tuple[int, float] | None = None
        self._merge_left = 0
        self._merge_buf = bytearray()
        self._drop_mid = False
        self._port: SimPort
        if transport == "tcp":
            self._port = TcpSimPort(host, port, self._on_data, name)
        elif transport == "pty":
            self._port = PtySimPort(self._on_data, name)
        else:
            raise ValueError(f"transport must be 'tcp' or 'pty', not {transport!r}")
        self.transport = transport

    @property
    def url(self) -> str:
        """What the driver opens: tcp://127.0.0.1:PORT or the pty slave path."""
        return self._port.url

    @property
    def port(self) -> int:
        """The TCP port (0 for a pty)."""
        return getattr(self._port, "port", 0)

    @property
    def software_triggered(self) -> bool:
        """True when results wait for a trigger command."""
        return bool(self.dialect.trigger_on)

    def __enter__(self) -> SimReader:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Stop serving; safe to call twice."""
        self._port.close()

    # World hooks -------------------------------------------------------------------------

    def read(self, codes: Iterable[str]) -> None:
        """The reader decodes these codes for the next trigger (empty → the no-read string)."""
        codes = tuple(codes)
        with self._lock:
            if self.software_triggered:
                self._staged.append(codes)
            else:
                self._emit(codes)

    def triggers(self) -> int:
        """How many software triggers arrived."""
        with self._lock:
            return self._triggers

    def received(self) -> bytes:
        """Every byte the host sent so far."""
        with self._lock:
            return bytes(self._received)

    def sent(self) -> list[bytes]:
        """Every result message produced (including those silenced or still held for merging)."""
        with self._lock:
            return list(self._sent)

    def wait_for_client(self, timeout_s: float = 2.0) -> bool:
        """Block until the driver is connected (TCP); True at once on a pty."""
        return self._port.wait_for_client(timeout_s)

    # Faults ------------------------------------------------------------------------------

    def send_raw(self, data: bytes) -> None:
        """Send arbitrary bytes now (line noise, a half message, a command error reply)."""
        self._port.send(data)

    def split_next(self, parts: int = 2, gap_s: float = 0.005) -> None:
        """Send the next message in ``parts`` pieces with ``gap_s`` between them."""
        with self._lock:
            self._split = (parts, gap_s)

    def merge_next(self, count: int) -> None:
        """Hold the next ``count`` messages and send them in one write."""
        with self._lock:
            self._merge_left = count
            self._merge_buf.clear()

    def drop_mid_next(self) -> None:
        """Send half of the next message, then close the connection (TCP only)."""
        if self.transport != "tcp":
            raise NotImplementedError("drop_mid_next() needs the TCP transport")
        with self._lock:
            self._drop_mid = True

    def drop(self) -> None:
        """Close the driver's connection now (TCP only)."""
        self._port.drop()

    def silence(self, on: bool = True) -> None:
        """Stop (or resume) answering; triggers are still counted and staged results consumed."""
        with self._lock:
            self._silent = on

    # Internals ---------------------------------------------------------------------------

    def _on_data(self, data: bytes) -> None:
        with self._lock:
            self._received += data
            self._commands += data
            self._run_commands()
            if len(self._commands) > _MAX_COMMAND_BYTES:
                del self._commands[:-_MAX_COMMAND_BYTES]

    def _run_commands(self) -> None:
        on, off = self.dialect.trigger_on, self.dialect.trigger_off
        while True:
            at_on = self._commands.find(on) if on else -1
            at_off = self._commands.find(off) if off else -1
            hits = [(at, cmd) for at, cmd in ((at_on, on), (at_off, off)) if at >= 0]
            if not hits:
                return
            at, cmd = min(hits)
            del self._commands[: at + len(cmd)]
            if cmd is on:
                self._on_trigger()
            # Trigger OFF ends a read window; the sim decides at trigger ON, so nothing to do.

    def _on_trigger(self) -> None:
        self._triggers += 1
        codes = self._staged.popleft() if self._staged else ()
        if self.ack and not self._silent:
            self._port.send(self.ack)
        self._emit(codes)

    def _emit(self, codes: tuple[str, ...]) -> None:
        msg = encode_message(
            codes,
            prefix=self.prefix,
            suffix=self.suffix,
            separator=self.separator,
            noread=self.noread,
            encoding=self.encoding,
        )
        self._sent.append(msg)
        if self._silent:
            return
        if self._merge_left:
            self._merge_buf += msg
            self._merge_left -= 1
            if self._merge_left == 0:
                self._port.send(bytes(self._merge_buf))
                self._merge_buf.clear()
            return
        if self._drop_mid:
            self._drop_mid = False
            self._port.send(msg[: max(1, len(msg) // 2)])
            self._port.drop()
            return
        if self._split is not None:
            parts, gap_s = self._split
            self._split = None
            send_split(self._port, msg, parts, gap_s)
            return
        self._port.send(msg)
