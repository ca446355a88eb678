"""The MT-SICS checkweigher driver: one command, one answer, over TCP or a serial port.

MT-SICS answers every command in order, each answer starting with the command's ID. ``S`` and
``SI`` both answer with ID ``S``, so a late answer to a timed-out ``S`` would pass for the next
``SI``'s: after any timeout the next call first sends ``@`` (cancel), which aborts what the scale
still works on and answers ``I4 A "<serial number>"``; everything before that answer is dropped.
"""

from __future__ import annotations

import threading
import time

import serial

from drivers.errors import (
    DeviceFault,
    DriverConnectionError,
    DriverError,
    DriverProtocolError,
    DriverTimeout,
)
from drivers.reader.link import LinkClosed, open_link
from drivers.scale.base import ScaleBusy, ScaleOverload, ScaleUnderload, Weight
from drivers.scale.codec import (
    GENERAL_ERRORS,
    LineSplitter,
    Reply,
    SicsFormatError,
    encode_command,
    parse_reply,
    parse_weight,
)

_BUSY_PAUSE_S = 0.05
_UNSETTLED = (
    "the container must stand still on the scale: check the stop before the scale, vibration "
    "and draughts; if weigh_now() gets no answer either, the scale is silent"
)

_HINTS = {
    "ES": "check that the scale's interface is set to MT-SICS and that it knows this command "
    "(I0 lists them)",
    "ET": "check the baud rate, parity and the cable; the scale received a faulty character",
    "EL": "the scale refuses the command in its present state; check its display",
}


class MtSicsScale:
    """A Mettler-Toledo (or MT-SICS compatible) scale used as checkweigher (see open_checkweigher).

    Calls are serialized by a lock; there is no background thread.
    """

    def __init__(
        self,
        url: str,
        *,
        name: str = "checkweigher",
        timeout_s: float = 1.0,
        stable_timeout_s: float = 3.0,
        baudrate: int = 9600,
    ) -> None:
        self.name = name
        self.url = url
        self.timeout_s = timeout_s
        self.stable_timeout_s = stable_timeout_s
        self.connects = 0
        self._link = open_link(url, baudrate)
        self._lines = LineSplitter()
        self._lock = threading.RLock()
        self._resync = False

    def __enter__(self) -> MtSicsScale:
        self.connect()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"MtSicsScale({self.name!r}, {self.url!r})"

    # The Checkweigher role -----------------------------------------------------------------

    def connect(self) -> None:
        """Open (or reopen) the link within timeout_s."""
        with self._lock:
            self._link.close()
            self._open(time.monotonic() + self.timeout_s)

    def close(self) -> None:
        """Close the link; safe to call twice."""
        with self._lock:
            self._link.close()
            self._lines.reset()

    def weigh(self, timeout_s: float | None = None) -> Weight:
        """Send ``S`` until the scale reports a stable weight or timeout_s passes.

        The scale itself waits for stability and answers ``S I`` when its own stability time
        runs out; the driver asks again until its deadline, so a case still swinging on the
        belt gets the whole timeout_s to settle.
        """
        wait = self.stable_timeout_s if timeout_s is None else timeout_s
        with self._lock:
            deadline = time.monotonic() + wait
            busy = 0
            while True:
                reply = self._transact(
                    "S", "S", deadline, what=f"no stable weight within {wait:g} s", hint=_UNSETTLED
                )
                # MT-SICS answers S only when stable; a compatible indicator that answers
                # "S D" anyway has not settled either.
                if reply.status in ("I", "D"):
                    busy += 1
                    if deadline - time.monotonic() > _BUSY_PAUSE_S:
                        time.sleep(_BUSY_PAUSE_S)  # a busy scale answers at once: do not hammer it
                        continue
                    raise DriverTimeout(
                        self.name,
                        self.url,
                        f"no stable weight within {wait:g} s (answered {busy}× 'S I' or 'S D': "
                        "busy, or the load never settled)",
                        _UNSETTLED,
                    )
                return self._weight(reply)

    def weigh_now(self) -> Weight:
        """Send ``SI``: the weight at once, stable (``S S``) or dynamic (``S D``)."""
        with self._lock:
            deadline = time.monotonic() + self.timeout_s
            return self._weight(self._transact("SI", "S", deadline))

    def tare(self, timeout_s: float | None = None) -> Weight:
        """Send ``T``: the stable load becomes the tare; returns the tare weight."""
        wait = self.stable_timeout_s if timeout_s is None else timeout_s
        with self._lock:
            reply = self._transact("T", "T", time.monotonic() + wait)
            return self._weight(reply)

    def zero(self, timeout_s: float | None = None) -> None:
        """Send ``Z``: the stable empty scale becomes zero."""
        wait = self.stable_timeout_s if timeout_s is None else timeout_s
        with self._lock:
            reply = self._transact("Z", "Z", time.monotonic() + wait)
            if reply.status != "A":
                raise self._fault(reply)

    # More MT-SICS --------------------------------------------------------------------------

    def serial_number(self) -> str:
        """Send ``I4``: the scale's serial number (what the IT screen's device test shows)."""
        with self._lock:
            reply = self._transact("I4", "I4", time.monotonic() + self.timeout_s)
            return self._text(reply)

    def cancel(self) -> str:
        """Send ``@``: abort what the scale works on; returns its serial number."""
        with self._lock:
            self._resync = False
            return self._text(self._transact("@", "I4", time.monotonic() + self.timeout_s))

    # Internals -----------------------------------------------------------------------------

    def _transact(
        self, command: str, reply_id: str, deadline: float, what: str = "", hint: str = ""
    ) -> Reply:
        if self._resync and command != "@":
            self._cancel_pending(deadline)
        self._open_if_needed(deadline)
        self._drain()
        self._send(encode_command(command), deadline)
        while True:
            for reply in self._receive(deadline):
                if reply.general_error:
                    self._resync = True  # which command the error answers is not said
                    raise self._general(reply, command)
                if reply.command == reply_id:
                    if reply.status in ("+", "-", "L"):
                        raise self._fault(reply)
                    return reply
                # An answer to an earlier, abandoned command: not ours.
            if time.monotonic() >= deadline:
                self._resync = True
                held = self._lines.pending()
                notes = [
                    hint or "is the scale on, its interface set to MT-SICS, the baud rate right?"
                ]
                if held:
                    notes.append(f"{len(held)} bytes of an unfinished answer held: {held[:32]!r}")
                what = what or f"no answer to {command!r}"
                raise DriverTimeout(self.name, self.url, what, "; ".join(notes))

    def _cancel_pending(self, deadline: float) -> None:
        """Send ``@`` and drop everything up to its ``I4 A`` answer."""
        self._resync = False
        self._transact("@", "I4", min(deadline, time.monotonic() + self.timeout_s))

    def _receive(self, deadline: float) -> list[Reply]:
        try:
            data = self._link.read_some(max(deadline - time.monotonic(), 0.0))
        except LinkClosed as exc:
            held = self._lines.reset()
            what = f"connection lost ({exc})" + (f" mid-answer {held[:64]!r}" if held else "")
            raise DriverConnectionError(self.name, self.url, what, "next call reconnects") from exc
        replies: list[Reply] = []
        for event in self._lines.feed(data) if data else ():
            if isinstance(event, SicsFormatError):
                self._resync = True
                raise DriverProtocolError(self.name, self.url, str(event), _HINTS["ET"])
            try:
                replies.append(parse_reply(event))
            except SicsFormatError as exc:
                self._resync = True
                raise DriverProtocolError(self.name, self.url, str(exc), _HINTS["ES"]) from exc
        return replies

    def _drain(self) -> None:
        """Drop whatever arrived unasked (a late answer after a reconnect, line noise)."""
        try:
            while self._link.read_some(0.0):
                pass
        except LinkClosed:
            pass  # the next write notices and reconnects once
        self._lines.reset()

    def _send(self, data: bytes, deadline: float) -> None:
        try:
            self._link.write(data, max(deadline - time.monotonic(), 0.05))
        except LinkClosed:
            # A scale that rebooted or a gateway that dropped us: one fresh connection, one retry.
            self._open(deadline)
            try:
                self._link.write(data, max(deadline - time.monotonic(), 0.05))
            except LinkClosed as exc:
                raise DriverConnectionError(self.name, self.url, f"write failed ({exc})") from exc
        except (serial.SerialTimeoutException, TimeoutError) as exc:
            raise DriverTimeout(self.name, self.url, f"{data!r} not sent in time") from exc

    def _weight(self, reply: Reply) -> Weight:
        if reply.status == "I":
            raise self._fault(reply)
        try:
            w = parse_weight(reply)
        except SicsFormatError as exc:
            raise DriverProtocolError(
                self.name, self.url, str(exc), "set the scale's unit 1 to g or kg"
            ) from exc
        return Weight(grams=w.grams, stable=w.stable, value=w.value, unit=w.unit, raw=reply.raw)

    def _text(self, reply: Reply) -> str:
        if reply.status != "A" or not reply.fields:
            raise self._fault(reply)
        return reply.fields[0]

    def _fault(self, reply: Reply) -> DriverError:
        text = reply.raw.decode("latin-1").strip()
        cmd = reply.command
        if reply.status == "+":
            return ScaleOverload(
                self.name,
                self.url,
                f"{cmd}: above the range ({text!r})",
                "take the load off; the container may be too heavy for this scale",
            )
        if reply.status == "-":
            return ScaleUnderload(
                self.name,
                self.url,
                f"{cmd}: below the range ({text!r})",
                "check that the weighing pan or belt is in place, then zero the empty scale",
            )
        if reply.status == "I":
            return ScaleBusy(
                self.name,
                self.url,
                f"{cmd}: not executable now ({text!r})",
                "the scale is busy or the load never settled; retry when the belt is still",
            )
        return DeviceFault(self.name, self.url, f"{cmd}: refused ({text!r})", _HINTS["EL"])

    def _general(self, reply: Reply, command: str) -> DriverError:
        code = reply.command
        what = f"{command!r} answered {code}: {GENERAL_ERRORS[code]}"
        if code == "EL":
            return DeviceFault(self.name, self.url, what, _HINTS[code])
        return DriverProtocolError(self.name, self.url, what, _HINTS[code])

    def _open_if_needed(self, deadline: float) -> None:
        if not self._link.is_open:
            self._open(deadline)

    def _open(self, deadline: float) -> None:
        self._lines.reset()
        self._resync = False  # a fresh connection has no answer outstanding
        try:
            self._link.open(max(deadline - time.monotonic(), 0.05))
        except (OSError, serial.SerialException, ValueError) as exc:
            raise DriverConnectionError(
                self.name,
                self.url,
                f"cannot connect: {exc}",
                "is the scale on, its interface cable in and the URL right?",
            ) from exc
        self.connects += 1
