"""Fixtures: a SimPLC on a free TCP port and a connected driver (leaks: tests/conftest.py)."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator

import pytest

from drivers.plc.factory import open_plc
from drivers.plc.modbus import ModbusPLC
from drivers.plc.sim import SimPLC

TIMEOUT_S = 0.3


@pytest.fixture
def sim() -> Iterator[SimPLC]:
    """A simulated PLC with the default register map; seqs start at 500 to differ from counts."""
    with SimPLC(first_seq=500, heartbeat_period_s=0.05) as s:
        yield s


@pytest.fixture
def plc(sim: SimPLC) -> Iterator[ModbusPLC]:
    """A connected driver with a short timeout."""
    p = open_plc(sim.url, name="line-plc", timeout_s=TIMEOUT_S, heartbeat_timeout_ms=400)
    p.connect()
    try:
        yield p  # type: ignore[misc]
    finally:
        p.close()


def _wait_for(cond: Callable[[], object], timeout_s: float = 2.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not cond():
        if time.monotonic() > deadline:
            pytest.fail(f"condition not met within {timeout_s} s")
        time.sleep(0.005)


@pytest.fixture
def wait_for() -> Callable[..., None]:
    """wait_for(cond, timeout_s=2.0): wait until `cond()` is truthy or fail the test."""
    return _wait_for
