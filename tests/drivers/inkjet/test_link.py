"""Links: pyserial URLs and TCP; a pty that vanishes; bad addresses named in the error."""

from __future__ import annotations

import pytest

from drivers.errors import DriverConnectionError
from drivers.inkjet.factory import open_inkjet
from drivers.inkjet.link import LinkClosed, open_link
from drivers.inkjet.sim import SimInkjet


def test_loop_url_goes_through_pyserial() -> None:
    link = open_link("loop://", timeout_s=0.5)
    try:
        link.write(b"\x02abc")
        got = b""
        for _ in range(10):
            got += link.read()
            if len(got) == 4:
                break
        assert got == b"\x02abc"
    finally:
        link.close()


def test_tcp_url_needs_a_port() -> None:
    with pytest.raises(ValueError, match="host and port"):
        open_link("tcp://127.0.0.1", timeout_s=0.1)


def test_tcp_link_sees_peer_close(protocol: str) -> None:
    with SimInkjet(protocol) as sim:
        link = open_link(sim.url.replace("socket://", "tcp://"), timeout_s=0.5)
        sim.stop()
        with pytest.raises(LinkClosed):
            for _ in range(100):
                link.read()
        link.close()


def test_missing_serial_device_is_a_connection_error(protocol: str) -> None:
    p = open_inkjet(protocol, "/dev/ttyNOSUCHPORT", name="cij-9", timeout_s=0.2)
    with pytest.raises(DriverConnectionError, match="cij-9 at /dev/ttyNOSUCHPORT: cannot open"):
        p.connect()
    p.close()


def test_pty_printer_vanishing_keeps_in_flight(protocol: str) -> None:
    with SimInkjet(protocol, transport="pty") as sim:
        p = open_inkjet(protocol, sim.url, timeout_s=0.5)
        p.connect()
        p.send("P1")
        p.send("P2")
        sim.trigger()
        assert p.confirmations(timeout_s=1.0) == ["P1"]
        sim.stop()
        with pytest.raises(DriverConnectionError):
            p.confirmations(timeout_s=1.0)
        assert p.in_flight() == ["P2"]
        p.close()
