"""Work off the UI thread: a thread pool runs it, the result comes back through a queued signal."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, QRunnable, Qt, QThreadPool, Signal, Slot


class _Job(QRunnable):
    def __init__(self, token: int, work: Callable[[], Any], out: TaskRunner) -> None:
        super().__init__()
        self.token, self.work, self.out = token, work, out

    def run(self) -> None:
        try:
            result, error = self.work(), None
        except Exception as exc:  # handed back to the UI thread, which shows it
            result, error = None, exc
        self.out.finished.emit(self.token, result, error)


class TaskRunner(QObject):
    """A `ui.viewmodels.Runner`: work in a pool thread, callbacks on the UI thread."""

    finished = Signal(int, object, object)

    def __init__(self, parent: QObject | None = None, *, max_threads: int = 4) -> None:
        super().__init__(parent)
        self.pool = QThreadPool(self)
        self.pool.setMaxThreadCount(max_threads)
        self._next = itertools.count(1)
        self._pending: dict[int, tuple[Callable, Callable]] = {}
        self.finished.connect(self._deliver, Qt.ConnectionType.QueuedConnection)

    def __call__(
        self,
        work: Callable[[], Any],
        done: Callable[[Any], None],
        failed: Callable[[Exception], None],
    ) -> None:
        """Run `work` in the pool; `done(result)` or `failed(exc)` later on the UI thread."""
        token = next(self._next)
        self._pending[token] = (done, failed)
        self.pool.start(_Job(token, work, self))

    @Slot(int, object, object)
    def _deliver(self, token: int, result: object, error: object) -> None:
        done, failed = self._pending.pop(token)
        if error is not None:
            failed(error)  # type: ignore[arg-type]
        else:
            done(result)

    @property
    def idle(self) -> bool:
        """No work waiting for its callback."""
        return not self._pending

    def wait(self, timeout_ms: int = 10000) -> bool:
        """Wait for the pool threads (shutdown, tests)."""
        return self.pool.waitForDone(timeout_ms)
