"""What `station run` notes as it goes: the PLC's item count across restarts, the live figures."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from station.events import LineStatus, RunState
from station.line.parts import LatencyHistogram
from station.line.runnotes import (
    COUNT_KEY,
    LiveFigures,
    PlcCount,
    _put,
    meta_key,
    read_note,
)
from station.store.db import make_engine


class CountingPLC:
    """The PLC's trigger counter as a driver sees it: unwrapped from its value at connect."""

    def __init__(self, raw: int) -> None:
        self.raw = raw % 0x10000
        self.trigger_count = 0
        self.connects = 0

    def connect(self) -> None:
        self.connects += 1
        self.trigger_count = self.raw  # the baseline

    def passes(self, n: int, seen: bool = True) -> None:
        """n items through the photocell; a station polling the PLC counts them."""
        self.raw = (self.raw + n) % 0x10000
        if seen:
            self.trigger_count += n


@pytest.fixture
def engine(tmp_path: Path):
    eng = make_engine(f"sqlite:///{tmp_path / 'station.db'}")
    yield eng
    eng.dispose()


def _run(engine, plc: CountingPLC, seen: int, unseen_after: int) -> PlcCount:
    """A run of the batch: it counts `seen` items, dies, and `unseen_after` pass before the next."""
    count = PlcCount.start(engine, "B1", plc)
    assert count is not None
    plc.passes(seen)
    with engine.begin() as conn:  # its last note (every second while it runs)
        _put(conn, count.key, count.value())
    plc.passes(unseen_after, seen=False)  # dead: the conveyor runs on until the watchdog trips
    return count


def test_the_plc_count_adds_what_passed_while_no_station_ran(engine) -> None:
    plc = CountingPLC(raw=65_500)  # the counter wraps in the second run
    first = _run(engine, plc, seen=30, unseen_after=20)
    assert first.items() == 30 and first.unseen == 0
    second = _run(engine, plc, seen=40, unseen_after=17)
    assert second.unseen == 20 and second.items() == 30 + 20 + 40
    third = PlcCount.start(engine, "B1", plc)
    assert third.unseen == 17 and third.items() == 107
    plc.passes(93)
    assert third.items() == 200
    assert read_note(engine, meta_key(COUNT_KEY, "B1"))["items"] == 107  # noted at start


def test_a_plc_that_restarted_counts_on_from_its_new_zero(engine) -> None:
    plc = CountingPLC(raw=1000)
    _run(engine, plc, seen=50, unseen_after=0)
    plc.raw = 12  # power cycled: 12 items since it came back
    again = PlcCount.start(engine, "B1", plc)
    assert again.unseen == 12 and again.items() == 62


def test_a_plc_without_a_counter_gives_no_count(engine) -> None:
    class Bare:
        def connect(self) -> None:
            raise AssertionError("not connected for a count it cannot give")

    assert PlcCount.start(engine, "B1", Bare()) is None


def test_long_batch_ids_get_a_key_that_fits() -> None:
    key = meta_key(COUNT_KEY, "X" * 64)
    assert len(key) <= 64 and key != meta_key(COUNT_KEY, "X" * 63 + "Y")


def _status(verified: int, rejected: int, late: int) -> LineStatus:
    return LineStatus(state=RunState.RUNNING, verified=verified, rejected=rejected, late=late)


def test_live_figures_close_a_window_with_its_own_percentiles() -> None:
    live = LiveFigures("B1", window_s=0.0)
    hist = LatencyHistogram()
    for ms in (5.0, 6.0, 300.0):  # a slow start
        hist.append(ms)
    first = json.loads(live.value(_status(3, 0, 0), hist, starved=0, plc_items=3))
    assert first["window"] == {} and first["latency_ms"]["max"] == 300.0
    for _ in range(100):
        hist.append(10.0)
    got = json.loads(live.value(_status(100, 3, 1), hist, starved=2, plc_items=104))
    w = got["window"]
    assert w["decided"] == 100 and w["late"] == 1 and w["starved"] == 2
    assert w["latency_ms"] == {"p50": 10.0, "p99": 10.0, "max": 10.1}  # not the start's 300 ms
    assert got["latency_ms"]["max"] == 300.0 and got["plc_items"] == 104
    assert got["state"] == "running" and got["pid"] > 0
