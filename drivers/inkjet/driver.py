"""InkjetDriver: one connection to one printer, any codec, FIFO or SINGLE mode.

A background reader thread decodes everything the printer sends. Requests go out one at a time
and wait for their Ack/Nak (or StatusReport) up to `timeout_s`. Prints are confirmed from the
printer's print counter, carried by print-end messages and by status reports: the stream is
ordered, so a counter step seen after the Ack of an update belongs to the new text, one seen before
it to the old one (SINGLE), and in FIFO each step consumes the oldest text in flight. A lost
print-end message is made good by the next counter value.

A request without an answer within `timeout_s` tears the link down (a late answer would otherwise
be taken for the next request's); the caller reads in_flight(), voids those codes and connects
again. connect() clears the printer's queue (FIFO) or blanks the field (SINGLE) and forgets the
previous in_flight list.

Threads: requests from several threads are serialised; confirmations() and in_flight() may be
called from another thread than send(). connect() and close() belong to one owner.

    disconnected --connect()--> connected --peer gone / no answer--> down --connect()--> ...
                                    └─────────────close()────────────> disconnected
"""

from __future__ import annotations

import threading
import time
from collections import deque

import serial

from drivers.errors import (
    DeviceFault,
    DriverConnectionError,
    DriverError,
    DriverProtocolError,
    DriverTimeout,
)
from drivers.inkjet.base import InkjetStatus, PrintMode
from drivers.inkjet.link import Link, LinkClosed, open_link
from drivers.inkjet.messages import (
    Ack,
    ClearQueue,
    Codec,
    Decoder,
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
)

POLL_INTERVAL_S = 0.02


class InkjetDriver:
    """An InkjetPrinter speaking `codec` over a pyserial URL or tcp://host:port."""

    def __init__(
        self,
        codec: Codec,
        url: str,
        *,
        name: str = "inkjet",
        depth: int = 4,
        mode: PrintMode = PrintMode.FIFO,
        job: str = "LINESTATION",
        timeout_s: float = 1.0,
        poll_counter: bool = False,
        baudrate: int = 9600,
    ) -> None:
        if depth < 1:
            raise ValueError(f"{name}: depth must be at least 1, got {depth}")
        self.codec = codec
        self.name = name
        self.url = url
        self.mode = PrintMode(mode)
        # SINGLE holds one field: a second text before the first printed would overwrite it.
        self.depth = 1 if self.mode is PrintMode.SINGLE else depth
        self.job = job
        self.timeout_s = timeout_s
        self.poll_counter = poll_counter
        self.baudrate = baudrate
        self.missed_triggers = 0
        self.protocol_errors = 0
        self.last_protocol_error: DriverProtocolError | None = None
        self._cond = threading.Condition()
        self._send_lock = threading.Lock()
        self._link: Link | None = None
        self._reader: threading.Thread | None = None
        self._stop = threading.Event()
        self._down: str | None = "not connected"
        self._in_flight: deque[str] = deque()
        self._confirmed: list[str] = []
        self._count: int | None = None
        self._field: str | None = None
        self._pending: Kind | None = None
        self._pending_text: str | None = None
        self._reply: Message | None = None
        self._bad_frames: list[str] = []

    # -- errors -------------------------------------------------------------------------------
    def _err(self, cls: type[DriverError], what: str, hint: str = "") -> DriverError:
        return cls(self.name, self.url, what, hint)

    # -- lifecycle ----------------------------------------------------------------------------
    def connect(self) -> None:
        """Open the link, select the job, clear the queue (FIFO), read the print counter."""
        self._teardown()
        try:
            link = open_link(self.url, self.timeout_s, self.baudrate)
        except (OSError, serial.SerialException, ValueError) as exc:
            raise self._err(
                DriverConnectionError, f"cannot open: {exc}", "check cable, address and power"
            ) from exc
        with self._cond:
            self._link = link
            self._down = None
            self._in_flight.clear()
            self._confirmed.clear()
            self._count = None
            self._field = None
        self._stop.clear()
        self._reader = threading.Thread(
            target=self._read_loop, args=(link, self.codec.decoder()), daemon=True
        )
        self._reader.name = f"inkjet-reader-{self.name}"
        self._reader.start()
        try:
            self.select_job(self.job)
            if self.mode is PrintMode.FIFO:
                self.clear_queue()
            else:
                # Blank the field: a trigger before the first send() must not reprint a code
                # left there by an earlier run.
                reply = self._request(self._encode(UpdateField("")), Kind.UPDATE, "")
                self._expect_ack(reply, "blank field")
            self.status()
        except DriverError:
            self._teardown()
            raise

    def close(self) -> None:
        """Stop the reader thread and release the port; in_flight() stays readable."""
        self._teardown()

    def _teardown(self, reason: str = "closed") -> None:
        self._stop.set()
        if self._link is not None:
            self._link.abort()
        reader, self._reader = self._reader, None
        if reader is not None and reader is not threading.current_thread():
            reader.join(timeout=1.0)
        with self._cond:
            link, self._link = self._link, None
            if self._down is None:
                self._down = reason
            self._cond.notify_all()
        if link is not None:
            link.close()

    def __enter__(self) -> InkjetDriver:
        self.connect()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- the reader thread --------------------------------------------------------------------
    def _read_loop(self, link: Link, decoder: Decoder) -> None:
        while not self._stop.is_set():
            try:
                data = link.read()
                items = decoder.feed(data) if data else []
            except Exception as exc:  # LinkClosed, or a codec bug: either way the link is gone
                with self._cond:
                    if self._link is link and not self._stop.is_set():
                        self._down = f"link lost: {exc}"
                    self._cond.notify_all()
                return
            if items:
                with self._cond:
                    for item in items:
                        self._dispatch(item)
                    self._cond.notify_all()

    def _dispatch(self, msg: Message | FrameError) -> None:
        """Runs in the reader thread with the condition held."""
        match msg:
            case PrintEnd(count, text):
                self._advance(count, text)
            case StatusReport():
                self._advance(msg.print_count, None)
                if self._pending is Kind.STATUS:
                    self._reply = msg
            case Ack(kind) if kind is self._pending:
                if kind is Kind.UPDATE:
                    self._field = self._pending_text
                elif kind is Kind.CLEAR:
                    self._in_flight.clear()
                self._reply = msg
            case Nak(kind) if kind is self._pending:
                self._reply = msg
            case Missed():
                self.missed_triggers += 1
            case FrameError(what, raw):
                # Not raised here (nobody to catch it in the reader thread): counted and kept for
                # alarms; a request waiting for its answer gets it if no valid answer follows.
                self.protocol_errors += 1
                self.last_protocol_error = DriverProtocolError(
                    self.name, self.url, f"{what}: {raw[:32]!r}"
                )
                if self._pending is not None:
                    self._bad_frames.append(what)

    def _advance(self, count: int, text: str | None) -> None:
        """Confirm the prints between the last known counter and `count`."""
        if self._count is None or count < self._count:
            self._count = count  # first sight, or the counter was reset on the printer
            return
        steps, self._count = count - self._count, count
        fifo = self.mode is PrintMode.FIFO
        for i in range(steps):
            named = text if i == steps - 1 else None
            if named is not None:
                printed: str | None = named
                if named in self._in_flight:
                    self._in_flight.remove(named)
            elif fifo:
                printed = self._in_flight.popleft() if self._in_flight else None
            else:
                printed = self._field
                if printed is not None and printed in self._in_flight:
                    self._in_flight.remove(printed)
            if printed:  # None: unknown text; "": the blank field, no code printed
                self._confirmed.append(printed)
        if not fifo and text is not None:
            self._field = text

    # -- requests -----------------------------------------------------------------------------
    def _request(self, data: bytes, kind: Kind, text: str | None = None) -> Message:
        with self._send_lock:
            with self._cond:
                link = self._link
                if self._down is not None or link is None:
                    if text is not None and text in self._in_flight:
                        self._in_flight.remove(text)  # never left: it cannot print
                    raise self._err(DriverConnectionError, f"link down ({self._down})", "connect")
                self._pending, self._pending_text = kind, text
                self._reply = None
                self._bad_frames = []
            try:
                link.write(data)
                with self._cond:
                    got = self._cond.wait_for(
                        lambda: self._reply is not None or self._down is not None, self.timeout_s
                    )
                    reply, down, bad = self._reply, self._down, self._bad_frames
                    self._pending = self._pending_text = None
            except LinkClosed as exc:
                with self._cond:
                    self._pending = self._pending_text = None
                self._teardown(f"link lost: {exc}")
                raise self._err(DriverConnectionError, f"{kind} not sent: {exc}") from exc
        if reply is not None:
            return reply
        self._teardown(f"no answer to {kind}")
        if got and down is not None:
            raise self._err(DriverConnectionError, f"{kind} unanswered: {down}")
        if bad:
            # A stream of garbage (wrong protocol, wrong baud rate) makes thousands: name a few.
            kinds = ", ".join(sorted(set(bad))[:3])
            what = (
                f"no valid answer to {kind} within {self.timeout_s:g} s; "
                f"{len(bad)} bad frame(s): {kinds}"
            )
            raise self._err(
                DriverProtocolError, what, "check that devices.inkjet.protocol matches the printer"
            )
        raise self._err(
            DriverTimeout, f"no answer to {kind} within {self.timeout_s:g} s", "printer busy or off"
        )

    def _encode(self, msg: Message) -> bytes:
        try:
            return self.codec.encode(msg)
        except ValueError as exc:
            raise self._err(DriverError, f"cannot send: {exc}") from exc

    def _expect_ack(self, reply: Message, what: str) -> None:
        if isinstance(reply, Nak):
            raise self._err(DeviceFault, f"printer refused {what}: {reply.reason}")

    def select_job(self, job: str) -> None:
        """Select a job stored on the printer (DeviceFault if it does not know the job)."""
        reply = self._request(self._encode(SelectJob(job)), Kind.SELECT)
        self._expect_ack(reply, f"job {job!r}")
        self.job = job

    def send(self, text: str) -> None:
        """FIFO: enqueue `text`; SINGLE: make `text` the field; DeviceFault if refused."""
        fifo = self.mode is PrintMode.FIFO
        data = self._encode(Enqueue(text) if fifo else UpdateField(text))
        with self._cond:
            if len(self._in_flight) >= self.depth:
                what = (
                    f"{len(self._in_flight)} texts in flight, depth {self.depth}"
                    if fifo
                    else f"field {self._in_flight[0]!r} not printed yet"
                )
                raise self._err(DriverError, f"cannot send {text!r}: {what}")
            self._in_flight.append(text)
        if self.poll_counter and not fifo:
            # Without print-end messages a reprint of the old field is only told apart from the
            # new text by reading the counter just before the update; a trigger landing inside
            # this one round trip is still counted as the new text.
            self._sync_counter(text)
        reply = self._request(data, Kind.ENQUEUE if fifo else Kind.UPDATE, text)
        if isinstance(reply, Nak):
            with self._cond:
                if text in self._in_flight:
                    self._in_flight.remove(text)
            raise self._err(DeviceFault, f"printer refused {text!r}: {reply.reason}")

    def _sync_counter(self, text: str) -> None:
        try:
            self.status()
        except DriverError:
            with self._cond:
                if text in self._in_flight:
                    self._in_flight.remove(text)
            raise

    def confirmations(self, timeout_s: float = 0.0) -> list[str]:
        """Texts confirmed printed since the last call, in print order; waits for at least one."""
        deadline = time.monotonic() + timeout_s
        while True:
            if self.poll_counter:
                with self._cond:
                    poll = self._down is None and not self._confirmed
                if poll:
                    self.status()
            with self._cond:
                remaining = deadline - time.monotonic()
                if not self._confirmed and self._down is None and remaining > 0:
                    wait = min(remaining, POLL_INTERVAL_S) if self.poll_counter else remaining
                    self._cond.wait(wait)
                if self._confirmed:
                    out, self._confirmed = self._confirmed, []
                    return out
                if self._down is not None:
                    raise self._err(DriverConnectionError, f"link down ({self._down})", "connect")
                if time.monotonic() >= deadline:
                    return []

    def in_flight(self) -> list[str]:
        """Sent, not confirmed, oldest first; after a link drop: the codes that may be printed."""
        with self._cond:
            return list(self._in_flight)

    def status(self) -> InkjetStatus:
        """Ask the printer for its state."""
        reply = self._request(self._encode(StatusRequest()), Kind.STATUS)
        if not isinstance(reply, StatusReport):
            raise self._err(DriverProtocolError, f"status refused: {reply}")
        return InkjetStatus(
            reply.ready, reply.faults, reply.queue_len, reply.print_count, reply.ink_level_pct
        )

    def clear_queue(self) -> None:
        """Empty the printer's queue; the codes that were in flight are dropped (void them)."""
        reply = self._request(self._encode(ClearQueue()), Kind.CLEAR)
        self._expect_ack(reply, "clear queue")
