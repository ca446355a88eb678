"""PtyBridge: two pseudo-terminals joined back to back, a null-modem cable for serial simulators.

pymodbus's serial server and client both open a port by name, and a single pty has only one
named end, so the simulator's server opens one slave, the driver the other, and a thread copies
bytes between the two masters.
"""

from __future__ import annotations

import os
import select
import threading
import tty


class PtyBridge:
    """Two ptys whose slaves (server_port, client_port) talk to each other like a cable."""

    def __init__(self) -> None:
        self._m1, self._s1 = os.openpty()
        self._m2, self._s2 = os.openpty()
        for fd in (self._s1, self._s2):
            tty.setraw(fd)
        self.server_port = os.ttyname(self._s1)
        self.client_port = os.ttyname(self._s2)
        self._stop_r, self._stop_w = os.pipe()
        self._thread = threading.Thread(target=self._pump, name="sim-plc-pty", daemon=True)
        self._thread.start()

    def _pump(self) -> None:
        peer = {self._m1: self._m2, self._m2: self._m1}
        while True:
            ready, _, _ = select.select([self._m1, self._m2, self._stop_r], [], [])
            if self._stop_r in ready:
                return
            for fd in ready:
                try:
                    data = os.read(fd, 4096)
                except OSError:
                    # EIO while nobody has the slave open: nothing to forward.
                    continue
                if data:
                    os.write(peer[fd], data)

    def close(self) -> None:
        """Stop the pump thread and close all four ends."""
        os.write(self._stop_w, b"x")
        self._thread.join(timeout=2)
        for fd in (self._m1, self._s1, self._m2, self._s2, self._stop_r, self._stop_w):
            os.close(fd)
