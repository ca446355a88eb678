"""Simulated ESC/POS ticket printer on 127.0.0.1: captures bytes, decodes tickets."""

from __future__ import annotations

import threading
from collections.abc import Callable

from drivers.labels.escpos.decode import EscposDecoder, Ticket
from drivers.labels.simserver import TcpSimLifecycle, TcpSimServer


class SimTicketPrinter(TcpSimLifecycle):
    """Raw-TCP ESC/POS printer; `tickets()` gives each cut ticket's text lines."""

    def __init__(self, host: str = "127.0.0.1", port: int = 0) -> None:
        self._lock = threading.Lock()
        self._tickets: list[Ticket] = []
        self._raw = bytearray()
        self._server = TcpSimServer(host, port, self._new_session)

    def _new_session(self) -> Callable[[bytes, Callable[[bytes], None]], bool]:
        decoder = EscposDecoder()

        def on_bytes(data: bytes, send: Callable[[bytes], None]) -> bool:
            finished = decoder.feed(data)
            with self._lock:
                self._raw += data
                self._tickets.extend(finished)
            return True

        return on_bytes

    def tickets(self) -> list[list[str]]:
        """Text lines of every ticket completed by a cut, in order."""
        with self._lock:
            return [list(t.lines) for t in self._tickets]

    def ticket_details(self) -> list[Ticket]:
        """Decoded tickets with QR payloads, command names and protocol errors."""
        with self._lock:
            return list(self._tickets)

    def raw_bytes(self) -> bytes:
        """Every byte received so far."""
        with self._lock:
            return bytes(self._raw)
