"""Fixtures: ZPL and ticket simulators, a connected driver, a wait helper."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator

import pytest

from drivers.labels.sim import SimTicketPrinter, SimZplPrinter
from drivers.labels.zebra import ZplPrinter

TIMEOUT_S = 0.4


def _wait_until(condition: Callable[[], object], timeout_s: float = 10.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("condition not met before the deadline")
        time.sleep(0.005)


@pytest.fixture
def wait_until() -> Callable[..., None]:
    """wait_until(condition, timeout_s=10.0): poll until truthy, fail at the deadline."""
    return _wait_until


@pytest.fixture
def timeout_s() -> float:
    """The driver timeout the `printer` fixture uses."""
    return TIMEOUT_S


@pytest.fixture
def zpl_sim() -> Iterator[SimZplPrinter]:
    """A running ZPL simulator on a free port."""
    with SimZplPrinter() as sim:
        yield sim


@pytest.fixture
def printer(zpl_sim: SimZplPrinter) -> Iterator[ZplPrinter]:
    """A connected ZPL driver pointed at `zpl_sim`."""
    with ZplPrinter(zpl_sim.url, name="case-labeler", timeout_s=TIMEOUT_S) as driver:
        yield driver


@pytest.fixture
def ticket_sim() -> Iterator[SimTicketPrinter]:
    """A running ESC/POS simulator on a free port."""
    with SimTicketPrinter() as sim:
        yield sim
