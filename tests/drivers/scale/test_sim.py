"""SimScale on the wire: what a terminal program would see (raw socket, no driver)."""

from __future__ import annotations

import socket

from drivers.scale.sim import SimScale


def _talk(sim: SimScale, data: bytes, lines: int) -> list[bytes]:
    host, port = sim.url.removeprefix("tcp://").rsplit(":", 1)
    with socket.create_connection((host, int(port)), timeout=10) as sock:
        sock.sendall(data)
        got = b""
        while got.count(b"\r\n") < lines:
            chunk = sock.recv(4096)
            assert chunk, f"connection closed after {got!r}"
            got += chunk
    return got.splitlines(keepends=True)


def test_answers_in_order_and_refuses_what_it_does_not_know() -> None:
    with SimScale(settle_s=0.0) as sim:
        sim.place(250)
        answers = _talk(sim, b"SI\r\nXYZ\r\nsi\r\nS 1\r\nI4\r\n", 5)
    assert answers == [
        b"S S        250 g\r\n",
        b"ES\r\n",
        b"ES\r\n",
        b"ES\r\n",
        b'I4 A "SIM0000001"\r\n',
    ]


def test_at_cancels_a_waiting_s() -> None:
    """A dynamic load keeps S waiting; @ drops it and answers with the serial number."""
    with SimScale(settle_s=3600, stable_timeout_s=3600) as sim:
        sim.place(250)
        answers = _talk(sim, b"S\r\n@\r\nSI\r\n", 2)
    assert answers[0] == b'I4 A "SIM0000001"\r\n'
    assert answers[1].startswith(b"S D ")


def test_s_gives_up_after_the_scale_stability_time() -> None:
    with SimScale(settle_s=3600, stable_timeout_s=0.05) as sim:
        sim.place(250)
        assert _talk(sim, b"S\r\nT\r\nZ\r\n", 3) == [b"S I\r\n", b"T I\r\n", b"Z I\r\n"]


def test_tare_memory_commands() -> None:
    with SimScale(settle_s=0.0, division_g=0.01) as sim:
        sim.place(400)
        answers = _talk(sim, b"T\r\nTA\r\nSI\r\nTAC\r\nSI\r\n", 5)
    assert answers == [
        b"T S     400.00 g\r\n",
        b"TA A     400.00 g\r\n",
        b"S S       0.00 g\r\n",
        b"TAC A\r\n",
        b"S S     400.00 g\r\n",
    ]
