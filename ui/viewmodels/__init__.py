"""Qt-free view models: they hold the screens' state, call station functions, emit psygnal events.

Each view model takes a `Runner` to do work off the UI thread: the Qt UI passes ui.tasks.TaskRunner,
tests pass `run_now`, which runs the work at once in the caller's thread.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol


class Runner(Protocol):
    """Runs `work` somewhere, then `done(result)` or `failed(exc)` on the UI thread."""

    def __call__(
        self,
        work: Callable[[], Any],
        done: Callable[[Any], None],
        failed: Callable[[Exception], None],
    ) -> None: ...


def run_now(
    work: Callable[[], Any], done: Callable[[Any], None], failed: Callable[[Exception], None]
) -> None:
    """A Runner that runs the work at once, in the caller's thread (tests, scripts)."""
    try:
        result = work()
    except Exception as exc:  # handed to the view model, which shows it
        failed(exc)
        return
    done(result)
