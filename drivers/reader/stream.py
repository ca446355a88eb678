"""The fixed-reader driver: a byte link plus the frame codec, one result per read() call."""

from __future__ import annotations

import threading
import time
from collections import deque
from dataclasses import dataclass

import serial

from drivers.errors import DeviceFault, DriverConnectionError, DriverError, DriverTimeout
from drivers.reader.base import ReadResult, UnreadableMessage
from drivers.reader.codec import (
    DEFAULT_MAX_LEN,
    BadFrame,
    Frame,
    FrameDecoder,
    Garbage,
    parse_body,
)
from drivers.reader.dialects import get_dialect
from drivers.reader.link import LinkClosed, open_link


@dataclass
class ReaderStats:
    """Counters for the operator's diagnostics page; never needed to run the line."""

    results: int = 0
    noreads: int = 0
    garbage_bytes: int = 0
    echoes: int = 0
    stale_dropped: int = 0
    connects: int = 0


class StreamReader:
    """A reader sending text results over TCP or a serial port (see :func:`open_reader`).

    read() waits on the link itself, so there is no background thread. Calls are serialized by
    a lock: a trigger() issued while another thread waits in read() runs after that read.
    """

    def __init__(
        self,
        url: str,
        *,
        name: str = "reader",
        prefix: str = "",
        suffix: str = "\r\n",
        separator: str = ";",
        noread: str = "NOREAD",
        dialect: str = "generic",
        timeout_s: float = 1.0,
        trigger_command: bytes | None = None,
        encoding: str = "utf-8",
        baudrate: int = 9600,
        max_len: int | None = None,
    ) -> None:
        self.name = name
        self.url = url
        self.timeout_s = timeout_s
        self.separator = separator
        self.noread = noread
        self.encoding = encoding
        self.dialect = get_dialect(dialect, trigger_command)
        self.stats = ReaderStats()
        self._link = open_link(url, baudrate)
        self._decoder = FrameDecoder(
            prefix.encode(encoding), suffix.encode(encoding), max_len or DEFAULT_MAX_LEN
        )
        self._pending: deque[ReadResult | DriverError] = deque()
        self._lock = threading.RLock()
        self._garbage_in_read = 0

    def __enter__(self) -> StreamReader:
        self.connect()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"StreamReader({self.name!r}, {self.url!r}, dialect={self.dialect.name!r})"

    def connect(self) -> None:
        """Open (or reopen) the link within timeout_s."""
        with self._lock:
            self._link.close()
            self._open(time.monotonic() + self.timeout_s)

    def close(self) -> None:
        """Close the link and forget buffered data; safe to call twice."""
        with self._lock:
            self._link.close()
            self._decoder.reset()
            self._pending.clear()

    def trigger(self) -> None:
        """Send the dialect's trigger bytes; results that arrived earlier are dropped as stale.

        With one message per trigger, anything already received answers an earlier trigger
        (a late result after that read timed out); delivering it now would pin this item on
        another item's code.
        """
        command = self.dialect.trigger_on
        if not command:
            return
        with self._lock:
            deadline = time.monotonic() + self.timeout_s
            self.flush()
            self._open_if_needed(deadline)
            try:
                self._link.write(command, self.timeout_s)
            except LinkClosed:
                # A reader that rebooted since the last call: one fresh connection, one retry.
                self._open(deadline)
                self._write(command)
            except (serial.SerialTimeoutException, TimeoutError) as exc:
                what = f"trigger {command!r} not sent within {self.timeout_s:g} s"
                raise self._timeout(what) from exc

    def read(self, timeout_s: float | None = None) -> ReadResult:
        """Return the next result; raise DriverTimeout, UnreadableMessage, DeviceFault or
        DriverConnectionError (the next call reconnects)."""
        wait = self.timeout_s if timeout_s is None else timeout_s
        with self._lock:
            deadline = time.monotonic() + wait
            self._garbage_in_read = 0
            while True:
                if self._pending:
                    item = self._pending.popleft()
                    if isinstance(item, DriverError):
                        raise item
                    return item
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise self._timeout_for_read(wait)
                self._open_if_needed(deadline)
                self._receive(deadline - time.monotonic())

    def _receive(self, timeout_s: float) -> None:
        try:
            data = self._link.read_some(max(timeout_s, 0.0))
        except LinkClosed as exc:
            held = self._decoder.reset()
            what = f"connection lost ({exc})"
            if held:
                what += f" mid-message after {len(held)} bytes {held[:64]!r}"
            raise DriverConnectionError(self.name, self.url, what, "next call reconnects") from exc
        if data:
            self._accept(data)

    def _accept(self, data: bytes) -> None:
        for event in self._decoder.feed(data):
            if isinstance(event, Frame):
                self._on_frame(event)
            elif isinstance(event, Garbage):
                self.stats.garbage_bytes += len(event.raw)
                self._garbage_in_read += len(event.raw)
            elif isinstance(event, BadFrame):
                self._pending.append(self._unreadable(event.reason, event.raw))

    def _on_frame(self, frame: Frame) -> None:
        try:
            text = frame.body.decode(self.encoding)
        except UnicodeDecodeError as exc:
            what = f"message is not valid {self.encoding} at byte {exc.start}"
            self._pending.append(self._unreadable(what, frame.raw))
            return
        if self.dialect.is_echo(text):
            self.stats.echoes += 1
            return
        fault = self.dialect.fault_of(text)
        if fault is not None:
            self._pending.append(DeviceFault(self.name, self.url, f"reader answered {fault!r}"))
            return
        parsed = parse_body(text, self.separator, self.noread)
        if parsed is None:
            return
        self.stats.results += 1
        if parsed.noread:
            self.stats.noreads += 1
        self._pending.append(ReadResult(parsed.codes, parsed.noread, frame.raw))

    def flush(self) -> int:
        """Drop every result received so far and any partial message; return how many.

        trigger() does this itself. A hardware-triggered reader's caller calls it when no
        result is due (before the next item reaches the photo-eye), so a late result of the
        previous item cannot be taken for the next one's.
        """
        with self._lock:
            if self._link.is_open:
                try:
                    data = self._link.read_some(0.0)
                except LinkClosed:
                    data = b""  # noticed again, and reconnected, by the next call
                if data:
                    self._accept(data)
            dropped = sum(isinstance(item, ReadResult) for item in self._pending)
            self.stats.stale_dropped += dropped
            self._pending.clear()
            self._decoder.reset()
            return dropped

    def _open_if_needed(self, deadline: float) -> None:
        if not self._link.is_open:
            self._open(deadline)

    def _open(self, deadline: float) -> None:
        self._decoder.reset()
        self._pending.clear()
        budget = max(deadline - time.monotonic(), 0.05)
        try:
            self._link.open(budget)
        except (OSError, serial.SerialException, ValueError) as exc:
            raise DriverConnectionError(
                self.name, self.url, f"cannot connect: {exc}", "is the reader on and the URL right?"
            ) from exc
        self.stats.connects += 1

    def _write(self, data: bytes) -> None:
        try:
            self._link.write(data, self.timeout_s)
        except LinkClosed as exc:
            raise DriverConnectionError(self.name, self.url, f"write failed ({exc})") from exc

    def _unreadable(self, what: str, raw: bytes) -> UnreadableMessage:
        return UnreadableMessage(self.name, self.url, f"{what}: {raw[:64]!r}", raw)

    def _timeout(self, what: str) -> DriverTimeout:
        return DriverTimeout(self.name, self.url, what)

    def _timeout_for_read(self, wait: float) -> DriverTimeout:
        notes = []
        held = self._decoder.pending()
        if held:
            notes.append(f"{len(held)} bytes of an unfinished message held: {held[:32]!r}")
        if self._garbage_in_read:
            notes.append(f"{self._garbage_in_read} bytes outside any message skipped")
        return DriverTimeout(self.name, self.url, f"no result within {wait:g} s", "; ".join(notes))
