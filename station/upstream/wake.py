"""In-process background senders to nudge when a unit is queued or re-queued (no waiting for
their next poll); its own module so that what queues units need not import the outbox."""

from __future__ import annotations

import threading
from collections.abc import Callable

_wakers: list[Callable[[], None]] = []
_lock = threading.Lock()


def register_waker(wake: Callable[[], None]) -> None:
    """Let queued units nudge an in-process sender (called by BackgroundSync)."""
    with _lock:
        _wakers.append(wake)


def unregister_waker(wake: Callable[[], None]) -> None:
    """Undo register_waker."""
    with _lock:
        if wake in _wakers:
            _wakers.remove(wake)


def wake_senders() -> None:
    """Nudge every in-process background sender: a unit was queued or re-queued."""
    with _lock:
        wakers = list(_wakers)
    for wake in wakers:
        wake()
