"""What the simulated world journals: physical facts, replayed after a kill, checked with the store.

The world (station/sim/world.py) appends one JSON line per physical event, flushed, so a killed
run resumes with the same world; at the end every link in the store is compared with where each
item physically is (`world_mismatches`) and every code with how often it was printed.
"""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

ITEM_DEFECTS = ("smudge", "missing", "wrong", "duplicate", "nocap")
READ_DEFECTS = ("smudge", "missing", "notinpack", "duplicate", "nocap")
"""A read (pre-printed) line's item defects: the supplier's codes, not our printer's."""
DEFECT_REASONS = {
    "smudge": "no_read",
    "missing": "no_read",
    "wrong": "misprint",
    "duplicate": "duplicate",
    "nocap": "missing_pair",
    "notinpack": "not_in_pack",
    **{
        f"{lv}_{kind}": reason
        for lv in ("box", "case")
        for kind, reason in (
            ("foreign", "foreign_item"),
            ("short", "too_few"),
            ("notinpack", "not_in_pack"),
            ("dupcode", "duplicate"),
        )
    },
}
"""The reject reason the station must give each defect the world injects (as journalled)."""


@dataclass
class Physical:
    """What the world knows for sure, rebuilt from the journal after a kill."""

    item_case: dict[str, str] = field(default_factory=dict)
    case_pallet: dict[str, str] = field(default_factory=dict)
    pallet_open: list[str] = field(default_factory=list)
    held: dict[str, list[str]] = field(default_factory=dict)  # pallets parked aside (暂存)
    printed: Counter = field(default_factory=Counter)
    items: int = 0
    pending: dict[str, tuple[str, list[str]]] = field(default_factory=dict)
    """Containers at a gate by level (code, children): formed, not yet passed or refused."""
    used: set[str] = field(default_factory=set)
    """Pre-printed codes already on an item or a container."""
    entry: list[str] = field(default_factory=list)
    defects: Counter = field(default_factory=Counter)
    caps_used: set[str] = field(default_factory=set)

    def pallet_moved(self, e: dict) -> None:
        """A line lead's hand on the pallets: parked, brought back, cleared, merged."""
        t = e["t"]
        if t == "pallet_held":
            self.held[e["pallet"]] = self.pallet_open
            self.pallet_open = []
        elif t == "pallet_resumed":
            self.pallet_open = self.held.pop(e["pallet"], []) + self.pallet_open
        elif t == "pallet_cleared":  # the cases go back onto the palletizer's infeed
            gone = set(e["cases"])
            self.pallet_open = [c for c in self.pallet_open if c not in gone]
            for p in self.held:
                self.held[p] = [c for c in self.held[p] if c not in gone]
            self.entry.extend(e["cases"])
        elif t == "pallet_merged":
            into, was = e["into"], e["was"]
            for c in e["cases"]:
                self.case_pallet.pop(c, None)
                if c in self.pallet_open:
                    self.pallet_open.remove(c)
                for p in self.held:
                    if c in self.held[p]:
                        self.held[p].remove(c)
                if was[into] == "open":
                    self.pallet_open.append(c)
                elif was[into] == "held":
                    self.held.setdefault(into, []).append(c)
                else:
                    self.case_pallet[c] = into


def cap_key(cap: str | None) -> str | None:
    """What the journal keeps of a cap's inner code: a digest, never the secret prize code."""
    return hashlib.sha256(cap.encode()).hexdigest()[:20] if cap else None


class Journal:
    """Append-only JSON lines of physical events."""

    def __init__(self, path: Path) -> None:
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)
        self.fh = open(path, "a", encoding="utf-8")  # noqa: SIM115

    def write(self, **event) -> None:
        """One event, flushed to the OS (survives SIGKILL of this process)."""
        self.fh.write(json.dumps(event, separators=(",", ":")) + "\n")
        self.fh.flush()

    def close(self) -> None:
        """Close the file."""
        self.fh.close()

    @staticmethod
    def replay(path: Path) -> Physical:
        """The physical state after every complete line of the journal."""
        ph = Physical()
        if not path.exists():
            return ph
        for line in path.read_text(encoding="utf-8").splitlines():
            try:
                e = json.loads(line)
            except json.JSONDecodeError:
                break  # a half-written last line: the kill came mid-write
            t = e["t"]
            if t == "item":
                ph.items += 1
                if e.get("p"):
                    ph.printed[e["p"]] += 1
                if e.get("m"):
                    ph.used.add(e["m"])
                if e.get("d"):
                    ph.defects[e["d"]] += 1
                if e.get("c"):
                    ph.caps_used.add(e["c"])
            elif t == "case_formed":
                lv = e.get("lv", "case")
                ph.pending[lv] = (e["label"], e["items"])
                ph.used.add(e["label"])
                if e.get("d"):
                    ph.defects[f"{lv}_{e['d']}"] += 1
            elif t == "case_closed":
                for code in e["items"]:
                    ph.item_case[code] = e["label"]
                ph.pending.pop(e.get("lv", "case"), None)
                if e.get("last", True):
                    ph.entry.append(e["label"])
            elif t == "case_rejected":
                ph.pending.pop(e.get("lv", "case"), None)
            elif t == "palletized":
                ph.pallet_open.append(e["case"])
                if e["case"] in ph.entry:
                    ph.entry.remove(e["case"])
            elif t == "pallet_closed":
                stack = ph.held.pop(e["held"], []) if e.get("held") else ph.pallet_open
                for c in stack:
                    ph.case_pallet[c] = e["label"]
                if not e.get("held"):
                    ph.pallet_open = []
            elif t.startswith("pallet_"):
                ph.pallet_moved(e)
            elif t == "restart":
                ph.pending = {lv: p for lv, p in ph.pending.items() if p[0]}
        return ph


def world_mismatches(journal: Path, links: list[tuple[str, str, str]]) -> tuple[int, list[str]]:
    """Compare (parent, child, child_level) links in the store with the journalled world."""
    ph = Journal.replay(journal)
    out: list[str] = []
    seen_items: set[str] = set()
    seen_cases: set[str] = set()
    for parent, child, level in links:
        if level == "case":
            seen_cases.add(child)
            # The world stops before the batch ends: the last open pallet, and pallets still
            # held then, are closed by the station after it (their labels unseen here).
            aside = child in ph.pallet_open or any(child in cs for cs in ph.held.values())
            where = ph.case_pallet.get(child) or ("(open)" if aside else None)
            if where == "(open)":
                continue
            if where != parent:
                out.append(f"case {child}: store says pallet {parent}, world says {where}")
        else:
            seen_items.add(child)
            where = ph.item_case.get(child)
            if where != parent:
                out.append(f"item {child}: store says case {parent}, world says {where}")
    for item, case in ph.item_case.items():
        if item not in seen_items:
            out.append(f"item {item}: world has it in case {case}, the store links it nowhere")
    for case, pallet in ph.case_pallet.items():
        if case not in seen_cases:
            out.append(f"case {case}: world has it on pallet {pallet}, the store nowhere")
    return len(out), out


def physical_duplicates(journal: Path) -> int:
    """Codes the printer marked on more than one item, or packed in more than one case."""
    ph = Journal.replay(journal)
    return sum(1 for n in ph.printed.values() if n > 1)
