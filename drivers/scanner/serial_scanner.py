"""The serial (USB CDC) handheld scanner driver: a background thread turns bytes into scans."""

from __future__ import annotations

import codecs
import logging
import queue
import threading
from collections.abc import Callable

import serial

from drivers.errors import DriverConnectionError, DriverError
from drivers.reader.codec import BadFrame, Frame, FrameDecoder
from drivers.reader.link import LinkClosed, open_link
from drivers.scanner.base import UnreadableScan

log = logging.getLogger(__name__)

_POLL_S = 0.05  # how fast close() is noticed; a scan is delivered as soon as its bytes arrive
_MAX_SCAN_BYTES = 4096


class SerialScanner:
    """A handheld scanner on a serial port (or tcp://); scans go to callbacks or to a queue.

    With no on_scan callback, scans queue up for read() (the oldest is dropped past
    ``queue_size``, counted in ``dropped``). Undecodable scans and connection losses go to
    on_error callbacks, or, without any, are raised by the next read(). A lost port is reopened
    every ``reconnect_s`` (a USB scanner replugged comes back by itself).
    """

    def __init__(
        self,
        url: str,
        *,
        name: str = "scanner",
        suffix: str = "\r",
        timeout_s: float = 1.0,
        encoding: str = "utf-8",
        baudrate: int = 9600,
        queue_size: int = 1000,
        reconnect_s: float = 0.5,
    ) -> None:
        codecs.lookup(encoding)  # an unknown encoding fails here, not on the first scan
        self.name = name
        self.url = url
        self.suffix = suffix
        self.timeout_s = timeout_s
        self.encoding = encoding
        self.reconnect_s = reconnect_s
        self.dropped = 0
        self.scans = 0
        self._link = open_link(url, baudrate)
        self._decoder = FrameDecoder(b"", suffix.encode("ascii"), _MAX_SCAN_BYTES)
        self._queue: queue.Queue[str | DriverError] = queue.Queue(maxsize=queue_size)
        self._callbacks: list[Callable[[str], None]] = []
        self._error_callbacks: list[Callable[[DriverError], None]] = []
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()
        self._outage_reported = False

    def __enter__(self) -> SerialScanner:
        self.connect()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"SerialScanner({self.name!r}, {self.url!r})"

    @property
    def connected(self) -> bool:
        """True while the port is open."""
        return self._link.is_open

    def connect(self) -> None:
        """Open the port (DriverConnectionError when it cannot) and start the reader thread."""
        with self._lock:
            if self._thread is not None:
                return
            self._open()
            self._stop.clear()
            self._thread = threading.Thread(
                target=self._run, name=f"scanner-{self.name}", daemon=True
            )
            self._thread.start()

    def close(self) -> None:
        """Stop and join the reader thread, close the port; safe to call twice."""
        with self._lock:
            thread, self._thread = self._thread, None
            self._stop.set()
            if thread is not None and thread is not threading.current_thread():
                thread.join(timeout=max(2.0, 4 * _POLL_S))
            self._link.close()
            self._decoder.reset()

    def on_scan(self, callback: Callable[[str], None]) -> None:
        """Deliver every later scan to callback (on the reader thread; keep it short)."""
        self._callbacks.append(callback)

    def on_error(self, callback: Callable[[DriverError], None]) -> None:
        """Deliver UnreadableScan and DriverConnectionError to callback instead of read()."""
        self._error_callbacks.append(callback)

    def read(self, timeout_s: float | None = None) -> str | None:
        """Next queued scan or None on timeout; raises a queued error (see on_error)."""
        if self._thread is None:
            self.connect()
        wait = self.timeout_s if timeout_s is None else timeout_s
        try:
            item = self._queue.get(timeout=max(wait, 0.0))
        except queue.Empty:
            return None
        if isinstance(item, DriverError):
            raise item
        return item

    def _open(self) -> None:
        try:
            self._link.open(self.timeout_s)
        except (OSError, serial.SerialException, ValueError) as exc:
            raise DriverConnectionError(
                self.name, self.url, f"cannot open: {exc}", "is the scanner plugged in?"
            ) from exc
        self._decoder.reset()

    def _run(self) -> None:
        while not self._stop.is_set():
            if not self._link.is_open and not self._reopen():
                self._stop.wait(self.reconnect_s)
                continue
            try:
                data = self._link.read_some(_POLL_S)
            except LinkClosed as exc:
                held = self._decoder.reset()
                what = f"port lost ({exc})"
                if held:
                    what += f" mid-scan after {held[:64]!r}"
                self._report(DriverConnectionError(self.name, self.url, what, "reopening"))
                self._outage_reported = True
                continue
            if data:
                self._accept(data)

    def _reopen(self) -> bool:
        try:
            self._open()
        except DriverConnectionError as exc:
            if not self._outage_reported:
                self._report(exc)
                self._outage_reported = True
            return False
        self._outage_reported = False
        return True

    def _accept(self, data: bytes) -> None:
        for event in self._decoder.feed(data):
            if isinstance(event, Frame):
                self._on_frame(event)
            elif isinstance(event, BadFrame):
                self._report(UnreadableScan(self.name, self.url, event.reason, event.raw))

    def _on_frame(self, frame: Frame) -> None:
        body = frame.body
        # A scanner set to CRLF while we expect CR (or LF) leaves the other half on the scan.
        if self.suffix == "\r" and body.startswith(b"\n"):
            body = body[1:]
        elif self.suffix == "\n" and body.endswith(b"\r"):
            body = body[:-1]
        if not body:
            return
        try:
            code = body.decode(self.encoding)
        except UnicodeDecodeError as exc:
            what = f"scan is not valid {self.encoding} at byte {exc.start}: {body[:64]!r}"
            self._report(UnreadableScan(self.name, self.url, what, frame.raw))
            return
        self.scans += 1
        if self._callbacks:
            for callback in list(self._callbacks):
                try:
                    callback(code)
                except Exception:
                    log.exception("%s: on_scan callback failed for %r", self.name, code)
        else:
            self._put(code)

    def _report(self, error: DriverError) -> None:
        log.warning("%s", error)
        if self._error_callbacks:
            for callback in list(self._error_callbacks):
                try:
                    callback(error)
                except Exception:
                    log.exception("%s: on_error callback failed", self.name)
        else:
            self._put(error)

    def _put(self, item: str | DriverError) -> None:
        while True:
            try:
                self._queue.put_nowait(item)
                return
            except queue.Full:
                try:
                    self._queue.get_nowait()
                    self.dropped += 1
                except queue.Empty:
                    pass
