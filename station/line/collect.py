"""手工采集, manual collection: a handheld scanner instead of a failed camera or reader.

Codes arrive one per scan (a handheld types the code then CR or LF): the children of one
container first, then the container's code. A container is linked with the camera path's rules
(known code of the right level, verified, not a duplicate, not linked elsewhere, count within
capacity: aggregation's check_link through the rework plan) in ONE transaction, audited as
`collect`; a refused container links nothing and the operator scans it again.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

from aggregation import Hierarchy
from station.errors import InputError, StationError
from station.qa import rework
from station.qa.store import find
from station.store.db import read_engine

ACTION = "collect"
REASON = "collected by hand"


@dataclass
class Outcome:
    """One container: linked, or refused with the reason (nothing of it linked)."""

    level: str
    parent: str | None
    children: list[str] = field(default_factory=list)
    ok: bool = False
    reason: str = ""
    status: str | None = None

    def to_json(self) -> dict:
        """A JSON-ready dict."""
        return dict(self.__dict__)


def scans(chunks: Iterable[bytes | str]) -> Iterator[str]:
    """Codes from a scanner's keystrokes: split on CR and LF, blanks skipped, as they come."""
    buf = ""
    for chunk in chunks:
        buf += chunk.decode("utf-8", "replace") if isinstance(chunk, bytes) else chunk
        *done, buf = buf.replace("\r\n", "\n").replace("\r", "\n").split("\n")
        for code in done:
            if code.strip():
                yield code.strip()
    if buf.strip():
        yield buf.strip()


class Collector:
    """Guided manual collection at one level: feed scans, get an Outcome per container."""

    def __init__(self, engine, settings, level: str, *, user: str, partial: bool = False):
        self.engine, self.settings, self.user, self.partial = engine, settings, user, partial
        h = Hierarchy.from_settings(settings.levels)
        if level not in h:
            raise InputError(
                f"level {level!r} is not configured on this line (levels: {', '.join(h.names)})"
            )
        child = h.child_of(level)
        if child is None or child.name == rework.PAIR_LEVEL:
            raise InputError(f"{level} codes hold no children on this line: nothing to collect")
        self.level, self.child_level = level, child.name
        self.capacity = h.capacity(level)
        self.pending: list[str] = []

    @property
    def expected(self) -> str:
        """What to scan next: 'child' until the container is full, then 'parent'."""
        return "parent" if len(self.pending) >= self.capacity else "child"

    def _level_of(self, code: str) -> str | None:
        with read_engine(self.engine).connect() as conn:
            row = find(conn, code)
            return None if row is None else row.level

    def _refuse(self, parent: str | None, why: str) -> Outcome:
        out = Outcome(self.level, parent, list(self.pending), False, why)
        self.pending = []
        return out

    def scan(self, code: str) -> Outcome | None:
        """One scanned code; an Outcome when a container was linked or refused."""
        level = self._level_of(code)
        if level is None:
            return self._refuse(None, f"unknown_code {code}: in no pool of this station")
        if level == self.child_level:
            if code in self.pending:
                return self._refuse(None, f"duplicate {code}: scanned twice for one {self.level}")
            if len(self.pending) >= self.capacity:
                return self._refuse(
                    None,
                    f"capacity {code}: a {self.level} holds {self.capacity}; "
                    f"scan the {self.level} code after the {self.capacity}th",
                )
            self.pending.append(code)
            return None
        if level == self.level:
            return self._close(code)
        return self._refuse(
            None,
            f"wrong_level {code}: a {level} code while collecting {self.level}s "
            f"({self.child_level} codes first, then the {self.level} code)",
        )

    def _close(self, parent: str) -> Outcome:
        n = len(self.pending)
        if n == 0:
            return self._refuse(
                parent, f"out_of_order {parent}: {self.level} code scanned before its children"
            )
        if n < self.capacity and not self.partial:
            return self._refuse(
                parent,
                f"count_mismatch {parent}: {n} of {self.capacity} scanned; scan the rest "
                "first (or collect with --partial for a short one)",
            )
        try:
            d = rework.aggregate(
                self.engine,
                self.settings,
                parent,
                self.pending,
                user=self.user,
                partial=self.partial,
                reason=REASON,
                action=ACTION,
            )
        except StationError as exc:
            return self._refuse(parent, str(exc))
        out = Outcome(self.level, parent, list(self.pending), True, "", d["status"])
        self.pending = []
        return out

    def finish(self) -> Outcome | None:
        """The input ended: children still waiting for their container are refused."""
        if not self.pending:
            return None
        return self._refuse(
            None, f"incomplete: {len(self.pending)} scanned but no {self.level} code followed"
        )
