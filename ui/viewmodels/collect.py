"""手工采集 on the touchscreen: a guided sequence for a handheld (keyboard-wedge) scanner.

"Scan 6 bottles", then "scan the box code": each scan goes to station.line.collect.Collector
(the camera path's rules, one transaction per container) off the UI thread, one at a time in
the order scanned; every container linked or refused is reported with its reason.
"""

from __future__ import annotations

from collections import deque

from psygnal import Signal

from aggregation import Hierarchy
from station.line.collect import Collector, Outcome
from ui.viewmodels import Runner, run_now
from ui.viewmodels.session import SessionModel


def container_levels(settings) -> list[str]:
    """Levels whose containers are collected by hand (they hold codes of the level below)."""
    h = Hierarchy.from_settings(settings.levels)
    return [n for n in h.names if (c := h.child_of(n)) is not None and c.name != "inner"]


class CollectViewModel:
    """State of the collection screen: level, what to scan next, scanned codes, outcomes."""

    changed = Signal()  # the prompt or the scanned list changed
    finished = Signal(object)  # Outcome: a container linked or refused
    message = Signal(str, str)  # kind (info|error), text

    def __init__(self, engine, settings, session: SessionModel, *, run: Runner = run_now):
        self.engine, self.settings, self.session, self.run = engine, settings, session, run
        self.levels = container_levels(settings)
        self.level = self.levels[0] if self.levels else ""
        self.partial = False
        self.collector: Collector | None = None
        self.outcomes: list[Outcome] = []
        self._queue: deque[str] = deque()
        self._busy = False

    def choose(self, level: str, partial: bool = False) -> None:
        """Collect containers of `level` (partial: a container may close short, 零箱)."""
        self.level, self.partial = level, partial
        self.collector = None
        self._queue.clear()
        self.changed.emit()

    def _col(self) -> Collector:
        c = self.collector
        if c is None or c.user != self.session.user:
            c = Collector(
                self.engine,
                self.settings,
                self.level,
                user=self.session.user or "",
                partial=self.partial,
            )
            self.collector = c
        return c

    @property
    def pending(self) -> list[str]:
        """Children scanned for the container being collected."""
        return list(self.collector.pending) if self.collector else []

    def prompt(self) -> tuple[str, str, int, int]:
        """(what, level, scanned, capacity): what is 'child' or 'parent' (scan the container)."""
        c = self._col()
        n = len(c.pending)
        if c.expected == "parent":
            return "parent", c.level, n, c.capacity
        return "child", c.child_level, n, c.capacity

    def scan(self, code: str) -> None:
        """A scanned code; handled in order, one at a time, off the UI thread."""
        code = code.strip()
        if not code:
            return
        if not self.session.can("line.run"):
            self.message.emit("error", f"role {self.session.role} may not collect")
            return
        self._queue.append(code)
        self._next()

    def _next(self) -> None:
        if self._busy or not self._queue:
            return
        self._busy = True
        code = self._queue.popleft()
        col = self._col()
        self.run(lambda: col.scan(code), self._scanned, self._failed)

    def _scanned(self, out: Outcome | None) -> None:
        self._busy = False
        if out is not None:
            self.outcomes.insert(0, out)
            del self.outcomes[50:]
            self.finished.emit(out)
        self.changed.emit()
        self._next()

    def _failed(self, exc: Exception) -> None:
        self._busy = False
        self.message.emit("error", str(exc))
        self.changed.emit()
        self._next()

    def start_over(self) -> None:
        """Forget the codes scanned for the current container (nothing was linked yet)."""
        if self.collector is not None:
            self.collector.pending = []
        self._queue.clear()
        self.changed.emit()
