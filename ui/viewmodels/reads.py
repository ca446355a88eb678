"""What the line reads, for the operator: the latest reads, a short alarm per reject naming the
code, and a long alarm (until acknowledged) when the same reject repeats.

Fed from LineSignals (item_verified, item_rejected, case_accepted, case_rejected) through the
one bridge, on the UI thread. Bounded: only the newest `limit` reads are kept. Inner (secret)
codes are masked as everywhere else (station.codes.masking).
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from psygnal import Signal

from station.codes.masking import mask
from station.events import Alarm

LIMIT = 200  # reads kept (the screen shows the newest of them)
ESCALATE_AFTER = 3  # the same reject this many times in a row: a long alarm
ESCALATE_REASONS = frozenset({"duplicate"})
ALARM_PREFIX = "reads:"


@dataclass(frozen=True)
class Read:
    """One read as the operator sees it: time, code (masked), level, good or not, reason."""

    time: datetime
    code: str
    level: str
    ok: bool
    reason: str = ""
    where: str = "item"  # item | case


def _levels(settings) -> tuple[str, str]:
    names = [lv.name for lv in settings.levels]
    item = "outer" if "outer" in names else names[0]
    case = "case" if "case" in names else names[-1]
    return item, case


class ReadLog:
    """The latest reads, newest first; short and long alarms for rejects."""

    changed = Signal()
    flashed = Signal(object)  # Read: a reject to show briefly (the short alarm)
    escalated = Signal(object)  # Alarm: a repeated reject, shown until acknowledged

    def __init__(
        self,
        settings,
        *,
        limit: int = LIMIT,
        escalate_after: int = ESCALATE_AFTER,
        escalate_reasons=ESCALATE_REASONS,
        clock: Callable[[], datetime] = datetime.now,
    ) -> None:
        self.item_level, self.case_level = _levels(settings)
        names = [lv.name for lv in settings.levels if lv.name != "inner"]
        self.child_of = dict(zip(names[1:], names, strict=False))  # box → outer, case → box
        self.reads: deque[Read] = deque(maxlen=limit)
        self.escalate_after = escalate_after
        self.escalate_reasons = frozenset(escalate_reasons)
        self.clock = clock
        self.last: Read | None = None  # the newest reject (the short alarm's subject)
        self.streak: tuple[str, int] = ("", 0)  # reason, rejects in a row with it

    def clear(self) -> None:
        """Forget every read (a new batch)."""
        self.reads.clear()
        self.last = None
        self.streak = ("", 0)
        self.changed.emit()

    def _add(self, read: Read) -> None:
        self.reads.appendleft(read)
        if read.ok:
            if read.where == "item":  # a good item read ends a run of rejects
                self.streak = ("", 0)
        else:
            self.last = read
            reason, n = self.streak
            n = n + 1 if reason == read.reason else 1
            self.streak = (read.reason, n)
            self.flashed.emit(read)
            if read.reason in self.escalate_reasons and n % self.escalate_after == 0:
                self.escalated.emit(self.alarm(read, n))
        self.changed.emit()

    def alarm(self, read: Read, count: int) -> Alarm:
        """The long alarm for `count` rejects in a row with the same reason."""
        device = "verify_camera" if read.where == "item" else "case_camera"
        return Alarm(
            f"{ALARM_PREFIX}{read.reason}",
            device,
            f"{count} rejects in a row ({read.reason}), the last {read.level} {read.code}",
            "stop the infeed and look for codes printed or fed twice",
            severity="alarm",
            key="repeated_reject",
            args=(("count", str(count)), ("reason", read.reason), ("code", read.code)),
        )

    # -- LineSignals, on the UI thread ----------------------------------------------------------
    def on_item_verified(self, _seq, code: str) -> None:
        """A good item read."""
        lv = self.item_level
        self._add(Read(self.clock(), mask(code, lv), lv, True))

    def on_item_rejected(self, _seq, code, reason: str) -> None:
        """An item refused (its code may be None: nothing readable)."""
        lv = self.item_level
        self._add(Read(self.clock(), mask(code, lv) if code else "", lv, False, reason))

    def _level(self, slot) -> str:
        """The container's level: the station names it in the slot (number, level)."""
        if isinstance(slot, tuple) and len(slot) == 2 and isinstance(slot[1], str):
            return slot[1]
        return self.case_level

    def on_case_accepted(self, slot, code: str) -> None:
        """A box or case closed from its frame."""
        lv = self._level(slot)
        self._add(Read(self.clock(), mask(code, lv), lv, True, where="case"))

    def on_case_rejected(self, slot, label, reasons) -> None:
        """A box or case refused: one read per (reason, code) its check named."""
        level = self._level(slot)
        below = self.child_of.get(level, self.item_level)
        for reason, code in reasons or (("unknown_code", label),):
            lv = level if code == label else below
            self._add(Read(self.clock(), mask(code, lv) if code else "", lv, False, reason, "case"))
