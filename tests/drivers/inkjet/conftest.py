"""Fixtures: a simulator per protocol and a connected driver (leaks: tests/conftest.py)."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator

import pytest

from drivers.inkjet.driver import InkjetDriver
from drivers.inkjet.factory import open_inkjet
from drivers.inkjet.messages import available_protocols
from drivers.inkjet.sim import SimInkjet

PROTOCOLS = available_protocols()  # a new codec file is tested against the simulator at once
TIMEOUT_S = 0.3


@pytest.fixture(params=PROTOCOLS)
def protocol(request: pytest.FixtureRequest) -> str:
    """Each test runs once per wire protocol."""
    return request.param


@pytest.fixture
def sim(protocol: str) -> Iterator[SimInkjet]:
    """A FIFO simulator of depth 4 on a free TCP port."""
    with SimInkjet(protocol, mode="fifo", depth=4) as s:
        yield s


@pytest.fixture
def printer(protocol: str, sim: SimInkjet) -> Iterator[InkjetDriver]:
    """A connected FIFO driver of depth 4."""
    p = open_inkjet(protocol, sim.url, name="cap-printer", depth=4, timeout_s=TIMEOUT_S)
    p.connect()
    try:
        yield p  # type: ignore[misc]
    finally:
        p.close()


def wait_for(cond: Callable[[], bool], timeout_s: float = 2.0) -> None:
    """Wait until `cond()` holds or fail the test."""
    deadline = time.monotonic() + timeout_s
    while not cond():
        if time.monotonic() > deadline:
            pytest.fail("condition not reached in time")
        time.sleep(0.002)


def confirm_n(printer: InkjetDriver, n: int, timeout_s: float = 2.0) -> list[str]:
    """Collect confirmations until n texts arrived (or the deadline passed)."""
    got: list[str] = []
    deadline = time.monotonic() + timeout_s
    while len(got) < n and time.monotonic() < deadline:
        got += printer.confirmations(timeout_s=deadline - time.monotonic())
    return got


@pytest.fixture(name="wait_for")
def wait_for_fixture() -> Callable[..., None]:
    """The wait_for helper, as a fixture (test modules cannot import conftest)."""
    return wait_for


@pytest.fixture(name="confirm_n")
def confirm_n_fixture() -> Callable[..., list[str]]:
    """The confirm_n helper, as a fixture."""
    return confirm_n


def pytest_configure(config: pytest.Config) -> None:
    """Register the `mode` marker used by test_flows.py."""
    config.addinivalue_line("markers", "mode(name, *flags): print mode for the `line` fixture")
