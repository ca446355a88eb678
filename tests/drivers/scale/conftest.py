"""Fixtures for checkweigher tests: fail any test that leaves a thread running."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator

import pytest


def _wait_until(predicate: Callable[[], bool], timeout_s: float = 2.0) -> bool:
    deadline = time.monotonic() + timeout_s
    while not predicate():
        if time.monotonic() >= deadline:
            return False
        time.sleep(0.002)
    return True


@pytest.fixture
def wait_until() -> Callable[..., bool]:
    """Poll a condition with a deadline instead of sleeping a fixed time."""
    return _wait_until


@pytest.fixture(autouse=True)
def no_leaked_threads() -> Iterator[None]:
    """Every simulator and driver started in a test must be stopped by its end."""
    before = set(threading.enumerate())
    yield
    leaked: list[threading.Thread] = []

    def settled() -> bool:
        leaked[:] = [t for t in threading.enumerate() if t not in before and t.is_alive()]
        return not leaked

    assert _wait_until(settled, 2.0), f"threads left running: {[t.name for t in leaked]}"
