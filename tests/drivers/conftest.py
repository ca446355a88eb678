"""Fixtures shared by the driver tests (the leak guard is in tests/conftest.py)."""

from __future__ import annotations

import time
from collections.abc import Callable

import pytest


def _wait_until(predicate: Callable[[], bool], timeout_s: float = 10.0) -> bool:
    # A generous deadline: a busy machine may take seconds where an idle one takes milliseconds.
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
