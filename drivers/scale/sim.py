"""SimScale: an MT-SICS scale on TCP (or a pty) whose load the simulated world sets.

World hooks (thread-safe): ``place(grams)`` puts a load on the scale (a case, with whatever it
holds), ``remove()`` takes it off. After each change the reading is *dynamic* for ``settle_s``
(an oscillation decaying towards the new load, answered ``S D``), then *stable* (``S S``) with
Gaussian ``noise_g`` on top; readings are rounded to the scale division ``division_g``.

Commands: ``S`` (waits for stability, ``S I`` after ``stable_timeout_s``), ``SI``, ``T`` and
``Z`` (wait for stability like ``S``), ``TA``, ``TAC``, ``I2``, ``I4``, ``@`` (cancels what is
waiting and answers ``I4 A``); anything else is ``ES``. Above capacity the answer is ``S +``.

Faults: ``silence`` (commands counted, nothing answered), ``busy`` (``S I``/``T I``/``Z I``),
``vibrate`` (never stable), ``force_range("+"|"-")`` (over/underload), ``error_next("ET")``,
``answer_next(raw)`` (a garbled answer), ``send_raw``, ``drop`` (TCP only: the scale closes
the connection).
"""

from __future__ import annotations

import math
import random
import threading
import time
from collections import deque
from typing import Literal

from drivers.reader.simport import PtySimPort, SimPort, TcpSimPort
from drivers.scale.codec import (
    LineSplitter,
    SicsFormatError,
    format_reply,
    format_weight,
)

_TICK_S = 0.005
_WAITS_FOR_STABLE = frozenset({"S", "T", "Z"})


class SimScale:
    """A simulated MT-SICS scale (Mettler-Toledo balance, weigh module or terminal)."""

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        capacity_g: float = 60_000.0,
        division_g: float = 1.0,
        unit: Literal["g", "kg"] = "g",
        settle_s: float = 0.2,
        noise_g: float = 0.0,
        stable_timeout_s: float = 1.0,
        serial_number: str = "SIM0000001",
        seed: int = 0,
        transport: Literal["tcp", "pty"] = "tcp",
        name: str = "sim-scale",
    ) -> None:
        if division_g <= 0 or capacity_g <= 0:
            raise ValueError("capacity_g and division_g must be > 0")
        self.capacity_g = capacity_g
        self.division_g = division_g
        self.unit = unit
        self.settle_s = settle_s
        self.noise_g = noise_g
        self.stable_timeout_s = stable_timeout_s
        self.serial_number = serial_number
        self._decimals = max(0, -math.floor(math.log10(division_g) + 1e-9))
        self._rng = random.Random(seed)
        self._lock = threading.Condition()
        self._load_g = 0.0
        self._from_g = 0.0
        self._changed_at = -math.inf
        self._zero_g = 0.0
        self._tare_g = 0.0
        self._queue: deque[tuple[str, float]] = deque()
        self._commands: list[str] = []
        self._silent = False
        self._busy = False
        self._vibrating = False
        self._range: str = ""
        self._answer_next: list[bytes] = []
        self._lines = LineSplitter()
        self._stop = threading.Event()
        self._port: SimPort
        if transport == "tcp":
            self._port = TcpSimPort(host, port, self._on_data, name)
        elif transport == "pty":
            self._port = PtySimPort(self._on_data, name)
        else:
            raise ValueError(f"transport must be 'tcp' or 'pty', not {transport!r}")
        self.transport = transport
        self._thread = threading.Thread(target=self._run, name=f"{name}-answers", daemon=True)
        self._thread.start()

    @property
    def url(self) -> str:
        """What the driver opens: tcp://127.0.0.1:PORT or the pty slave path."""
        return self._port.url

    def __enter__(self) -> SimScale:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Stop answering and serving; safe to call twice."""
        self._stop.set()
        with self._lock:
            self._lock.notify_all()
        if self._thread.is_alive() and self._thread is not threading.current_thread():
            self._thread.join(timeout=2.0)
        self._port.close()

    # World hooks -------------------------------------------------------------------------

    def place(self, grams: float) -> None:
        """Put a load of ``grams`` on the scale (replacing what was there); it settles next."""
        with self._lock:
            self._from_g = self._reading_g(time.monotonic())[0]
            self._load_g = float(grams)
            self._changed_at = time.monotonic()
            self._lock.notify_all()

    def remove(self) -> None:
        """Take the load off (the scale settles back to its zero)."""
        self.place(0.0)

    @property
    def load_g(self) -> float:
        """The load the world put on the scale."""
        with self._lock:
            return self._load_g

    def commands(self) -> list[str]:
        """Every command line received, in order, without CR LF."""
        with self._lock:
            return list(self._commands)

    def wait_for_client(self, timeout_s: float = 2.0) -> bool:
        """Block until the driver is connected (TCP); True at once on a pty."""
        return self._port.wait_for_client(timeout_s)

    # Faults ------------------------------------------------------------------------------

    def silence(self, on: bool = True) -> None:
        """Stop (or resume) answering; commands are still recorded and dropped."""
        with self._lock:
            self._silent = on

    def busy(self, on: bool = True) -> None:
        """Answer every weighing, tare and zero command with ``I`` (not executable)."""
        with self._lock:
            self._busy = on

    def vibrate(self, on: bool = True) -> None:
        """Keep the reading dynamic (a running belt, a draught): ``S`` never gets stable."""
        with self._lock:
            self._vibrating = on
            if not on:
                self._changed_at = time.monotonic()  # settles from now
            self._lock.notify_all()

    def force_range(self, status: Literal["+", "-", ""]) -> None:
        """Report overload (``+``), underload (``-``) whatever the load; ``""`` ends it."""
        with self._lock:
            self._range = status

    def error_next(self, code: Literal["ES", "ET", "EL"] = "ET") -> None:
        """Answer the next command with a general error instead."""
        self.answer_next(format_reply(code))

    def answer_next(self, raw: bytes) -> None:
        """Answer the next command with these bytes instead (a garbled or foreign answer)."""
        with self._lock:
            self._answer_next.append(raw)

    def send_raw(self, data: bytes) -> None:
        """Send arbitrary bytes now (line noise, a half answer)."""
        self._port.send(data)

    def drop(self) -> None:
        """Close the driver's connection now (TCP only), as a scale does when it reboots."""
        self._port.drop()

    # Internals ---------------------------------------------------------------------------

    def _on_data(self, data: bytes) -> None:
        with self._lock:
            for event in self._lines.feed(data):
                if isinstance(event, SicsFormatError):
                    self._queue.append(("", time.monotonic()))  # answered ES
                    continue
                line = event[:-2].decode("latin-1")
                self._commands.append(line)
                if line.strip() == "@":
                    self._queue.clear()  # @ cancels every command still waiting
                self._queue.append((line, time.monotonic()))
            self._lock.notify_all()

    def _run(self) -> None:
        while not self._stop.is_set():
            with self._lock:
                answer = self._next_answer(time.monotonic())
                if answer is None:
                    self._lock.wait(_TICK_S if self._queue else 0.1)
                    continue
            if answer:
                self._port.send(answer)

    def _next_answer(self, now: float) -> bytes | None:
        """The answer to the oldest waiting command, b"" to drop it, None to keep waiting."""
        if not self._queue:
            return None
        line, received = self._queue[0]
        command = line.split(" ", 1)[0]
        if command in _WAITS_FOR_STABLE and not self._silent and not self._busy:
            waiting = not self._stable(now) and not self._range
            if waiting and now - received < self.stable_timeout_s:
                return None
        self._queue.popleft()
        if self._silent:
            return b""
        if self._answer_next:
            return self._answer_next.pop(0)
        return self._answer(line, command, now)

    def _answer(self, line: str, command: str, now: float) -> bytes:
        if line != command:  # our commands take no parameters
            return format_reply("ES")
        if command in ("@", "I4"):
            return format_reply("I4", "A", self.serial_number, quote=True)
        if command == "I2":
            return format_reply(
                "I2", "A", f"SimScale {self.capacity_g:.{self._decimals}f} {self.unit}", quote=True
            )
        if command in ("S", "SI", "T", "Z") and self._busy:
            return format_reply("S" if command == "SI" else command, "I")
        gross, stable = self._reading_g(now)
        if command in ("S", "SI"):
            if self._range or self._out_of_range(gross):
                return format_reply("S", self._range or self._out_of_range(gross))
            if command == "S" and not stable:
                return format_reply("S", "I")  # stability not reached within the scale's time
            return self._weight("S", stable, gross - self._zero_g - self._tare_g)
        if command == "T":
            if not stable:
                return format_reply("T", "I")
            if gross - self._zero_g > self.capacity_g:
                return format_reply("T", "+")
            if gross - self._zero_g < 0:
                return format_reply("T", "-")
            self._tare_g = self._rounded(gross - self._zero_g)
            return self._weight("T", True, self._tare_g)
        if command == "Z":
            if not stable:
                return format_reply("Z", "I")
            if abs(gross) > 0.02 * self.capacity_g:  # zero range: ±2 % of capacity
                return format_reply("Z", "+" if gross > 0 else "-")
            self._zero_g, self._tare_g = gross, 0.0
            return format_reply("Z", "A")
        if command == "TA":  # the tare memory: status A, not S (it is no reading)
            weight = self._weight("TA", True, self._tare_g)
            return weight.replace(b"TA S ", b"TA A ", 1)
        if command == "TAC":
            self._tare_g = 0.0
            return format_reply("TAC", "A")
        return format_reply("ES")

    def _weight(self, command: str, stable: bool, grams: float) -> bytes:
        grams = self._rounded(grams)
        if self.unit == "kg":
            return format_weight(command, stable, grams / 1000.0, "kg", self._decimals + 3)
        return format_weight(command, stable, grams, "g", self._decimals)

    def _rounded(self, grams: float) -> float:
        return round(grams / self.division_g) * self.division_g

    def _out_of_range(self, gross: float) -> str:
        above_zero = gross - self._zero_g
        if above_zero > self.capacity_g + 9 * self.division_g:
            return "+"
        if above_zero < -20 * self.division_g:
            return "-"
        return ""

    def _stable(self, now: float) -> bool:
        return not self._vibrating and now - self._changed_at >= self.settle_s

    def _reading_g(self, now: float) -> tuple[float, bool]:
        """The gross reading now (load plus settling swing or noise) and whether it is stable."""
        if self._stable(now):
            return self._load_g + self._rng.gauss(0.0, self.noise_g), True
        if self._vibrating:
            swing = 0.01 * max(abs(self._load_g), 100 * self.division_g)
            return self._load_g + swing * math.sin(40 * now), False
        t = (now - self._changed_at) / max(self.settle_s, 1e-6)
        swing = (self._from_g - self._load_g) * math.exp(-3 * t) * math.cos(12 * t)
        return self._load_g + swing + self._rng.gauss(0.0, 3 * self.noise_g), False
