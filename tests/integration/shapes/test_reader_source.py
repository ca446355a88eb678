"""An item reader (smart camera decoding on the device) as an item-station source, over TCP
against the reader simulator: one message per item, `码1//码2` split by the configured separator."""

from __future__ import annotations

import time

import pytest

from drivers.reader.factory import open_reader
from drivers.reader.sim import SimReader
from station.line.parts import ReaderSource


def _next(src: ReaderSource, timeout_s: float = 5.0):
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        got = src.get(0.05)
        if got is not None:
            return got
    raise AssertionError("no message from the reader")


@pytest.mark.parametrize("separator", ["//", ";"])
def test_messages_become_reads_in_trigger_order(separator: str) -> None:
    with SimReader(separator=separator) as sim:
        src = ReaderSource(open_reader(sim.url, name="item_reader", separator=separator))
        src.connect()
        try:
            assert sim.wait_for_client(5)
            sim.read(["码1", "码2"])
            sim.read([])  # a no-read: the reader's NOREAD message
            sim.read(["C3"])
            tag, reads = _next(src)
            assert tag is None and [r.text for r in reads] == ["码1", "码2"]
            assert [r.grade for r in reads] == ["", ""]
            assert _next(src)[1] == ()
            assert [r.text for r in _next(src)[1]] == ["C3"]
        finally:
            src.close()


def test_a_lost_reader_is_raised_to_the_station() -> None:
    from drivers.errors import DriverError

    sim = SimReader()
    src = ReaderSource(open_reader(sim.url, name="item_reader"))
    src.connect()
    try:
        assert sim.wait_for_client(5)
        sim.close()  # the reader goes away
        deadline = time.monotonic() + 10
        with pytest.raises(DriverError):
            while time.monotonic() < deadline:
                src.get(0.05)
    finally:
        src.close()
        sim.close()
