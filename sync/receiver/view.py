"""What a platform knows after the documents it stored: every code's state and disposition, who
holds whom, and the inner ↔ outer pairs, by replaying the EPCIS events as they happened.

The tests compare this view across delivery paths (a batch per pallet with corrections, or the
whole batch at once): the same codes in the same states and the same links mean upstream was
told the same thing. `station receiver --store DIR --view` prints it.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sync.receiver.state import RECEIPT

RETIRED = {"destroying": "destroyed"}  # any other DELETE of an ObjectEvent: decommissioned


@dataclass
class View:
    """The replayed state: EPC → state/disposition, child → parent, inner → outer."""

    codes: dict[str, dict[str, Any]] = field(default_factory=dict)
    parents: dict[str, str] = field(default_factory=dict)
    pairs: dict[str, str] = field(default_factory=dict)
    units: list[str] = field(default_factory=list)

    def children(self, parent: str) -> list[str]:
        """The EPCs `parent` holds now."""
        return sorted(c for c, p in self.parents.items() if p == parent)

    def states(self) -> dict[str, str]:
        """EPC → commissioned | decommissioned | destroyed."""
        return {epc: c["state"] for epc, c in self.codes.items()}

    def dispositions(self) -> dict[str, str | None]:
        """EPC → its last disposition."""
        return {epc: c.get("disposition") for epc, c in self.codes.items()}

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready dict."""
        return {"units": self.units, "codes": self.codes, "parents": self.parents,
                "pairs": self.pairs}  # fmt: skip


def replay(events: Iterable[dict[str, Any]], view: View | None = None) -> View:
    """Apply EPCIS 2.0 JSON events to `view` (a new one when None) in eventTime order.

    A document need not list its events in time order (the whole-batch export groups packing
    by container), so they are applied as they happened; events of the same instant keep the
    order given (what was received first, then document order).
    """
    view = view or View()
    for ev in sorted(events, key=_when):
        kind, action, disp = ev.get("type"), ev.get("action"), ev.get("disposition")
        if kind == "ObjectEvent":
            for epc in ev.get("epcList", []):
                code = view.codes.setdefault(epc, {"state": "unknown"})
                if action == "ADD":
                    code["state"] = "commissioned"
                elif action == "DELETE":
                    code["state"] = RETIRED.get(ev.get("bizStep", ""), "decommissioned")
                if disp:
                    code["disposition"] = disp
            continue
        target = view.pairs if kind == "AssociationEvent" else view.parents
        parent = ev.get("parentID")
        for child in ev.get("childEPCs", []):
            if action == "ADD":
                target[child] = parent
            elif action == "DELETE" and target.get(child) == parent:
                del target[child]
            if disp and child in view.codes:
                view.codes[child]["disposition"] = disp
    return view


def _when(event: dict[str, Any]) -> datetime:
    text = str(event.get("eventTime", "")).replace("Z", "+00:00")
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        return datetime.min.replace(tzinfo=UTC)
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def document_events(path: Path) -> list[dict[str, Any]]:
    """The eventList of one stored EPCIS JSON-LD document."""
    doc = json.loads(path.read_text(encoding="utf-8"))
    return list(doc.get("epcisBody", {}).get("eventList", []))


def stored_units(store_dir: Path) -> list[tuple[str, dict[str, Any], Path]]:
    """(id, manifest, folder) of every stored unit, in the order received (a batch's units by
    their place in its chain when two arrived in the same millisecond)."""
    out = []
    for receipt_path in Path(store_dir).glob(f"*/{RECEIPT}"):
        folder = receipt_path.parent
        receipt = json.loads(receipt_path.read_text(encoding="utf-8"))
        manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
        unit = manifest.get("unit") or {}
        key = (receipt.get("received_at", ""), unit.get("batch") or "", unit.get("seq") or 0)
        out.append((key, receipt["batch_id"], manifest, folder))
    out.sort(key=lambda item: item[0])
    return [(unit_id, manifest, folder) for _, unit_id, manifest, folder in out]


def load_view(store_dir: Path | str) -> View:
    """The view after every document the receiver stored in `store_dir`."""
    view = View()
    events: list[dict[str, Any]] = []
    for unit_id, manifest, folder in stored_units(Path(store_dir)):
        view.units.append(unit_id)
        for entry in manifest.get("files", []):
            if str(entry.get("name", "")).endswith(".jsonld"):
                events.extend(document_events(folder / entry["name"]))
    return replay(events, view)
