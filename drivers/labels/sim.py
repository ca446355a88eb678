"""Simulated printers: a ZPL label printer over TCP or a pty, and (re-exported) the ESC/POS one.

with SimZplPrinter() as sim:                # 127.0.0.1, free port
    printer = open_label_printer(sim.url)   # tcp://127.0.0.1:PORT
    printer.print_label(case_label(...))
    sim.pop_label(); sim.render(zpl)        # the simulated labeler's view
    sim.set_fault(paper_out=True); sim.set_behavior(garbage=True)
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from drivers.labels.escpos.sim import SimTicketPrinter
from drivers.labels.simmodel import ZplPrinterModel, ZplStream
from drivers.labels.simserver import PtySimPort, TcpSimLifecycle, TcpSimServer

__all__ = ["SimTicketPrinter", "SimZplPrinter", "SimZplSerialPrinter"]

_GARBAGE = b"\x15ERR?? 7f,zz\r\n"


class _ZplSimBase:
    """World hooks and fault switches shared by the TCP and pty simulators."""

    def __init__(self, model: ZplPrinterModel | None) -> None:
        self.model = model or ZplPrinterModel()

    def _session_factory(self, stop_wait: Callable[[float], bool]) -> Callable[[], Any]:
        def new_session() -> Callable[[bytes, Callable[[bytes], None]], bool]:
            stream = ZplStream()

            def on_bytes(data: bytes, send: Callable[[bytes], None]) -> bool:
                queries, labels = stream.feed(data)
                for zpl in labels:
                    self.model.accept(zpl)
                return all(self._answer(send, stop_wait) for _ in range(queries))

            return on_bytes

        return new_session

    def _answer(self, send: Callable[[bytes], None], stop_wait: Callable[[float], bool]) -> bool:
        behavior = self.model.behavior
        if behavior.answer_delay_s and stop_wait(behavior.answer_delay_s):
            return False
        if behavior.garbage:
            send(_GARBAGE)
            return True
        answer = self.model.host_status()
        if answer is None:
            return True
        if behavior.drop_mid_answer:
            send(answer[: len(answer) // 2])
            return False
        send(answer)
        return True

    def set_fault(self, **flags: bool) -> None:
        """paper_out, ribbon_out, head_open, paused = True/False."""
        self.model.set_fault(**flags)

    def set_behavior(self, **changes: object) -> None:
        """silent, garbage, drop_mid_answer, answer_delay_s, silent_on_fault."""
        self.model.set_behavior(**changes)

    def received(self) -> list[str]:
        """Each label's ZPL, in the order received."""
        return self.model.received()

    def pop_label(self) -> str | None:
        """The next printed label, or None."""
        return self.model.pop_label()

    def render(self, zpl: str) -> np.ndarray:
        """The printed image of `zpl` (uint8 grayscale, white background)."""
        return self.model.render(zpl)


class SimZplPrinter(TcpSimLifecycle, _ZplSimBase):
    """A ZPL printer on 127.0.0.1 raw TCP; restartable on the same port."""

    def __init__(
        self, host: str = "127.0.0.1", port: int = 0, *, model: ZplPrinterModel | None = None
    ) -> None:
        super().__init__(model)
        self._server = TcpSimServer(host, port, self._session_factory(self._wait))

    def _wait(self, seconds: float) -> bool:
        return self._server.stop_event.wait(seconds)


class SimZplSerialPrinter(_ZplSimBase):
    """A ZPL printer behind a pseudo-terminal; `.url` is the pty path for pyserial."""

    def __init__(self, *, model: ZplPrinterModel | None = None) -> None:
        super().__init__(model)
        self._port = PtySimPort(self._session_factory(self._wait))

    def _wait(self, seconds: float) -> bool:
        return self._port.stop_event.wait(seconds)

    @property
    def url(self) -> str:
        """The slave pty path."""
        return self._port.path

    def start(self) -> SimZplSerialPrinter:
        """Open the pty and serve."""
        self._port.start()
        return self

    def stop(self) -> None:
        """Close the pty."""
        self._port.stop()

    def __enter__(self) -> SimZplSerialPrinter:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
