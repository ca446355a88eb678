"""Moments to kill in: what the line is doing, read from the world's journal and the store.

The kill campaign (kills.py) names each kill by what was really going on at the instant of the
SIGKILL, not by what the run last printed (it prints every 5 s): the world journals every
physical event as it happens (flushed line by line), and the store says whether the batch was
closed and where its outbox entry stood.

- `start`: the run starting (imports, voiding what the last one left, connecting), before its
  first note says it runs the line (station/line/runnotes.py);
- `items`: items on the conveyor, no case at the gate, no pallet about to close;
- `case`: a case shown to the case camera, its verdict not given yet (inspection in progress);
- `pallet`: the open pallet's last case on its way to the palletizer, or stacked and the pallet
  not yet labelled (the pallet closing);
- `batch close`: every item made, the gate empty: the station drains, closes the last pallet as
  partial, closes the batch and seals its file set;
- `outbox send`: `station sync push` with the batch's entry claimed or sending.
"""

from __future__ import annotations

import json
import sqlite3
import time
from collections import Counter
from pathlib import Path
from typing import NamedTuple

RUN_KEY = "run:"  # station/line/runnotes.py: a run's live note, by batch

ITEMS, CASE, PALLET, CLOSE, OUTBOX = "items", "case", "pallet", "batch close", "outbox send"
START = "start"


class JournalTail:
    """The world's journal read as it grows: the physical state of the line right now."""

    def __init__(self, path: Path, pallet_cap: int, total: int) -> None:
        self.path, self.pallet_cap, self.total = path, pallet_cap, total
        self._at = 0
        self._rest = b""
        self.items = 0
        self.gate: str | None = None  # the label of the case at the case camera
        self.gate_since = 0.0
        self.entry = 0  # cases closed, on their way to the palletizer
        self.stacked = 0  # cases on the open pallet
        self.pallets = 0
        self.conveyor_on = True
        self.events = 0

    def read(self) -> JournalTail:
        """Take in what the world wrote since the last read."""
        try:
            with self.path.open("rb") as fh:
                fh.seek(self._at)
                data = fh.read()
        except FileNotFoundError:
            return self
        self._at += len(data)
        *lines, self._rest = (self._rest + data).split(b"\n")
        for line in lines:
            try:
                self._take(json.loads(line))
            except ValueError:
                continue
        return self

    def _take(self, e: dict) -> None:
        self.events += 1
        t = e["t"]
        if t == "item":
            self.items += 1
        elif t in ("case_formed", "case_reshown"):  # a container at its gate (`lv`: its level;
            self.gate = e["label"]  # the case, the last before the pallet, by default)
            self.gate_since = time.monotonic()
        elif t == "case_closed":
            self.gate = None
            self.entry += e.get("lv", "case") == "case"  # cases go on to the palletizer
        elif t == "case_rejected":
            self.gate = None
        elif t == "palletized":
            self.entry = max(0, self.entry - 1)
            self.stacked += 1
        elif t == "pallet_closed":
            self.stacked = 0
            self.pallets += 1
        elif t == "conveyor":
            self.conveyor_on = bool(e["on"])

    def moment(self) -> str:
        """What the line is doing now, by the journal."""
        if self.items >= self.total and self.gate is None and not self.entry:
            return CLOSE
        last = self.stacked + self.entry >= self.pallet_cap
        if self.stacked >= self.pallet_cap or (last and self.entry):
            return PALLET
        if self.gate is not None:
            return CASE
        return ITEMS

    def left(self) -> dict[str, int]:
        """What is still on the line after the pack: a case at the gate, cases on their way to
        the palletizer, cases on a pallet without its label."""
        return {"gate": int(self.gate is not None), "entry": self.entry, "stacked": self.stacked}

    def settle(self, timeout_s: float = 10.0) -> dict[str, int]:
        """Wait (at most `timeout_s`) for the world to hear the last verdicts and the last
        pallet's label after the run ended; what is left on the line then."""
        deadline = time.monotonic() + timeout_s
        while any(self.read().left().values()) and time.monotonic() < deadline:
            time.sleep(0.05)
        return self.left()

    def ready(self, target: str) -> bool:
        """True when the line is in the moment `target` (a kill now lands in it)."""
        return self.moment() == target


class Stored(NamedTuple):
    """What the store says now: the batch's state, its outbox entry's, the run's live note."""

    batch: str | None
    outbox: str | None
    live: dict | None


def store_state(db: Path, batch: str) -> Stored:
    """The batch's state, its outbox entry's and the run's live note, read-only."""
    try:
        with sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=5) as conn:
            b = conn.execute("SELECT state FROM batches WHERE id = ?", (batch,)).fetchone()
            # The batch's units (its pallets', its close): "sending" when one is, else the close's.
            units = dict(conn.execute("SELECT batch_id, state FROM outbox WHERE batch_id = ? OR "
                                      "chain = ?", (batch, batch)).fetchall())  # fmt: skip
            o = ("sending",) if "sending" in units.values() else (units.get(batch),)
            o = o if o[0] else None
            n = conn.execute("SELECT value FROM meta WHERE key = ?", (RUN_KEY + batch,)).fetchone()
        return Stored(b[0] if b else None, o[0] if o else None, json.loads(n[0]) if n else None)
    except sqlite3.Error:
        return Stored(None, None, None)


def world_counts(journal: Path) -> dict[str, int]:
    """What physically happened: cases formed, closed, refused and shown again, pallets, items
    that passed unprinted, conveyor stops."""
    n: Counter = Counter()
    for line in journal.read_text(encoding="utf-8").splitlines():
        try:
            e = json.loads(line)
        except ValueError:
            continue
        n[e["t"]] += 1
        n["unprinted"] += e["t"] == "item" and not e.get("p")
        n["conveyor_stops"] += e["t"] == "conveyor" and not e["on"]
    keep = ("item", "unprinted", "conveyor_stops", "case_formed", "case_closed", "case_rejected",
            "case_reshown", "pallet_closed")  # fmt: skip
    return {k: n[k] for k in keep}
