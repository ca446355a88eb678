"""ESC/POS batch tickets and pallet sheets with python-escpos over TCP, serial or a file.

Each ticket is composed into bytes first (escpos Dummy, no I/O) and then sent in one write, so
a lost link never leaves half a ticket queued in our process.
"""

from __future__ import annotations

import select
import socket
import threading
from collections.abc import Sequence
from urllib.parse import urlsplit

import serial
from escpos.escpos import Escpos
from escpos.exceptions import Error as EscposError
from escpos.printer import Dummy, File, Network, Serial

from drivers.errors import DriverConnectionError, DriverTimeout


def format_row(key: str, value: str, columns: int) -> list[str]:
    """Key left, value right on one line; two lines when they do not fit."""
    gap = columns - len(key) - len(value)
    if gap >= 1:
        return [f"{key}{' ' * gap}{value}"]
    return [key, value.rjust(columns) if len(value) < columns else value]


class TicketPrinter:
    """An ESC/POS printer at tcp://host:port, file:///path or a serial device path."""

    def __init__(
        self,
        url: str,
        *,
        name: str = "ticket",
        timeout_s: float = 2.0,
        columns: int = 42,
        profile: str | None = None,
        baudrate: int = 9600,
    ) -> None:
        self.name = name
        self.url = url
        self.timeout_s = timeout_s
        self.columns = columns
        self.profile = profile
        self.baudrate = baudrate
        self._printer: Escpos | None = None
        self._lock = threading.Lock()

    def connect(self) -> None:
        """Open the connection; raises DriverConnectionError naming the port."""
        with self._lock:
            self._open()

    def close(self) -> None:
        """Close the connection; safe to call twice."""
        with self._lock:
            self._close()

    def __enter__(self) -> TicketPrinter:
        self.connect()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def print_batch_ticket(
        self, title: str, rows: Sequence[tuple[str, str]], qr: str | None = None
    ) -> None:
        """A batch ticket: bold centred title, key/value rows, an optional QR, a cut."""
        doc = self._composer()
        doc.hw("INIT")
        doc.set(align="center", bold=True, double_height=True)
        doc.textln(title)
        doc.set_with_default()
        doc.textln("-" * self.columns)
        for key, value in rows:
            for line in format_row(key, value, self.columns):
                doc.textln(line)
        if qr:
            doc.set(align="center")
            doc.qr(qr, size=6, native=True)
            doc.set_with_default()
            doc.textln(qr)
        doc.cut()
        self.send(doc.output)

    def print_pallet_sheet(
        self,
        sscc: str,
        *,
        product: str,
        lot: str,
        cases: int,
        rows: Sequence[tuple[str, str]] = (),
        qr: str | None = None,
    ) -> None:
        """A pallet sheet: SSCC, product, lot, case count, extra rows, a QR (default: SSCC)."""
        body = [("SSCC", sscc), ("Product", product), ("Lot", lot), ("Cases", str(cases))]
        self.print_batch_ticket("PALLET", [*body, *rows], qr=qr or f"00{sscc}")

    def send(self, data: bytes) -> None:
        """Send raw ESC/POS bytes in one write; reconnects first if the printer closed the link."""
        with self._lock:
            if self._printer is None or self._peer_closed():
                self._close()
                self._open()
            assert self._printer is not None
            try:
                self._printer._raw(data)
            except (TimeoutError, serial.SerialTimeoutException) as exc:
                self._close()
                raise DriverTimeout(self.name, self.url, "send stalled") from exc
            except (OSError, serial.SerialException, EscposError) as exc:
                self._close()
                raise DriverConnectionError(self.name, self.url, f"send failed: {exc}") from exc

    def _composer(self) -> Dummy:
        return Dummy(profile=self.profile) if self.profile else Dummy()

    def _open(self) -> None:
        if self._printer is not None:
            return
        parts = urlsplit(self.url)
        kwargs = {"profile": self.profile} if self.profile else {}
        printer: Escpos
        if parts.scheme == "tcp":
            printer = Network(parts.hostname or "", parts.port or 9100, self.timeout_s, **kwargs)
            # python-escpos drops (without closing) the socket of a failed connect; we connect
            # ourselves and hand it the socket.
            try:
                sock = socket.create_connection(
                    (printer.host, printer.port), timeout=self.timeout_s
                )
            except OSError as exc:
                raise DriverConnectionError(
                    self.name, self.url, f"cannot connect: {exc}",
                    "check the printer is on, its cable, and the IP address and port in "
                    "config.toml",
                ) from exc  # fmt: skip
            printer.device = sock
            self._printer = printer
            return
        if parts.scheme == "file":
            printer = File(parts.path, **kwargs)
        else:
            printer = Serial(
                self.url, baudrate=self.baudrate, timeout=self.timeout_s, dsrdtr=False, **kwargs
            )
        try:
            printer.open()
        except (EscposError, OSError) as exc:
            raise DriverConnectionError(self.name, self.url, f"cannot open: {exc}") from exc
        self._printer = printer

    def _close(self) -> None:
        printer, self._printer = self._printer, None
        if printer is not None:
            try:
                printer.close()
            except (OSError, serial.SerialException, EscposError):
                pass

    def _peer_closed(self) -> bool:
        device = getattr(self._printer, "_device", None)
        if not isinstance(device, socket.socket):
            return False
        try:
            while select.select([device], [], [], 0)[0]:
                # Status bytes (ASB) are dropped; an empty read means the printer hung up.
                if not device.recv(4096):
                    return True
        except OSError:
            return True
        return False
