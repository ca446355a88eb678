"""What `station run` notes in the store's meta table as it goes (one small transaction a second).

- `plc_items:<batch>`: the PLC's trigger counter and the batch's item count at that value
  (PlcCount): how a restarted run knows what passed the photocell while no station ran.
- `run:<batch>`: the run's live figures (LiveFigures): what it has done so far and over its last
  complete window (decisions, late, starved, trigger → decision p50/p99/max), with the time and
  the process; dashboards and bench/soak.py read it.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import time
from datetime import UTC, datetime

from sqlalchemy import Engine, insert, select, update
from sqlalchemy.engine import Connection

from drivers.errors import DriverError
from station.line.parts import LatencyHistogram
from station.store.models import Meta

log = logging.getLogger("station.line.run")
_meta = Meta.__table__
COUNT_KEY = "plc_items:"
RUN_KEY = "run:"
U16 = 0x10000


def meta_key(prefix: str, batch_id: str) -> str:
    """`prefix` + the batch id, or a digest of it when that would not fit the key (64)."""
    key = prefix + batch_id
    return key if len(key) <= 64 else prefix + hashlib.sha256(key.encode()).hexdigest()[:40]


def _put(conn: Connection, key: str, value: str) -> None:
    if not conn.execute(update(_meta).where(_meta.c.key == key).values(value=value)).rowcount:
        conn.execute(insert(_meta).values(key=key, value=value))


def read_note(engine: Engine, key: str) -> dict | None:
    """The JSON noted under `key`, or None."""
    with engine.connect() as conn:
        value = conn.execute(select(_meta.c.value).where(_meta.c.key == key)).scalar()
    return json.loads(value) if value else None


class PlcCount:
    """The items of one batch that passed the photocell, by the PLC's trigger counter.

    The station counts the triggers it polled; items that went by while it was dead (the conveyor
    runs until the PLC's watchdog trips: the printer's queue marks them with codes the restart
    voids, or nothing marks them) never reach its counts, and a run that waits for its own count
    to reach the batch's quantity waits for ever. The PLC counted them all. The counter's value is
    noted with the batch's count at that value (at start, then every second and at the end), so a
    restarted run adds what the counter moved while no station watched. A counter that went back
    (the PLC restarted) keeps what was noted and counts on from the PLC's new zero.
    """

    def __init__(self, engine: Engine, batch_id: str, plc) -> None:
        self.plc = plc
        self.key = meta_key(COUNT_KEY, batch_id)
        self.base_total = plc.trigger_count  # the driver's unwrapped counter at connect
        noted = read_note(engine, self.key)
        raw = self.base_total % U16
        self.unseen = 0
        self.base_items = 0  # the batch's first run: nothing has passed for it yet
        if noted is not None:
            moved = (raw - noted["counter"]) % U16
            if moved >= U16 // 2:  # went back: the PLC restarted since the note
                log.warning("PLC trigger counter went back (%d → %d): the PLC restarted; "
                            "items between the last note and its restart are not counted",
                            noted["counter"], raw)  # fmt: skip
                moved = raw
            self.base_items = noted["items"] + moved
            self.unseen = moved
            if moved:
                log.info("%d item(s) passed the photocell while no station ran", moved)
        with engine.begin() as conn:  # before the line moves: a failure here stops the start
            _put(conn, self.key, self.value())

    @classmethod
    def start(cls, engine: Engine, batch_id: str, plc) -> PlcCount | None:
        """Connect the PLC and take its counter; None when it has none or does not answer (the
        runner then reports the PLC's fault, and the end falls back to the station's counts)."""
        if not hasattr(plc, "trigger_count"):
            return None
        try:
            plc.connect()  # the runner's connect later keeps this baseline
        except DriverError as exc:
            log.warning("PLC item count not taken: %s", exc)
            return None
        return cls(engine, batch_id, plc)

    def items(self) -> int:
        """Items of the batch through the photocell so far, this run and every earlier one."""
        return self.base_items + self.plc.trigger_count - self.base_total

    def value(self) -> str:
        """The note: the counter (u16, as the PLC has it) and the batch's count at it."""
        total = self.plc.trigger_count
        return json.dumps({"counter": total % U16, "items": self.items()})


class LiveFigures:
    """A run's figures so far, and over its last complete window of `window_s` seconds."""

    def __init__(self, batch_id: str, window_s: float = 10.0) -> None:
        self.key = meta_key(RUN_KEY, batch_id)
        self.window_s = window_s
        self._at = time.monotonic()
        self._mark: tuple[list[int], int, int, int] | None = None
        self.window: dict = {}

    def value(self, status, hist: LatencyHistogram, starved: int, plc_items: int | None) -> str:
        """The note now; a window closes when `window_s` has passed since the last one."""
        decided = status.verified + status.rejected
        now = time.monotonic()
        if self._mark is None:
            self._mark = (list(hist.counts), decided, status.late, starved)
        elif now - self._at >= self.window_s:
            bins, was_decided, was_late, was_starved = self._mark
            delta = LatencyHistogram()
            delta.counts = [a - b for a, b in zip(hist.counts, bins, strict=True)]
            delta.n = sum(delta.counts)
            top = max((i for i, c in enumerate(delta.counts) if c), default=0)
            delta.max_ms = min((top + 1) * delta.BIN_MS, hist.max_ms)  # the top bin's ceiling
            self.window = {"s": round(now - self._at, 1), "decided": decided - was_decided,
                           "late": status.late - was_late, "starved": starved - was_starved,
                           "latency_ms": delta.summary()}  # fmt: skip
            self._at = now
            self._mark = (list(hist.counts), decided, status.late, starved)
        return json.dumps({
            "at": datetime.now(UTC).isoformat(timespec="seconds"), "pid": os.getpid(),
            "state": status.state.value, "triggered": status.triggered,
            "verified": status.verified, "rejected": status.rejected, "late": status.late,
            "starved": starved, "cases": status.cases, "pallets": status.pallets,
            "plc_items": plc_items, "latency_ms": hist.summary(), "window": self.window,
        })  # fmt: skip


class RunNotes:
    """The PLC item count and the live figures, noted together every `every_s` seconds."""

    def __init__(self, engine: Engine, batch_id: str, plc, inkjet, every_s: float = 1.0) -> None:
        self.engine, self.inkjet, self.every_s = engine, inkjet, every_s
        self.count = PlcCount.start(engine, batch_id, plc)
        self.live = LiveFigures(batch_id)
        self._noted_at = 0.0

    def tick(self, runner, force: bool = False) -> None:
        """Note both when the last note is `every_s` old (or now, with force). A store that
        cannot be written is logged and tried again: the runner stops the line and says why."""
        now = time.monotonic()
        if not force and now - self._noted_at < self.every_s:
            return
        self._noted_at = now
        starved = getattr(self.inkjet, "missed_triggers", 0) if self.inkjet else 0
        items = self.count.items() if self.count is not None else None
        live = self.live.value(runner.status(), runner.snapshot_latencies(), starved, items)
        try:
            with self.engine.begin() as conn:
                if self.count is not None:
                    _put(conn, self.count.key, self.count.value())
                _put(conn, self.live.key, live)
        except Exception:
            log.warning("run notes not written to the store", exc_info=True)
