"""A batch's data upstream as a chain of units: plain data, and the EPCIS 2.0 events of one unit.

A batch reaches upstream as units, each sealed once and delivered once, in order: a unit per
closed pallet (everything under it), the close (what no pallet carried, with the batch's
summary), corrections (changes to what earlier units told), and QA's verdict on the batch.
No prize before release: codes are commissioned `inactive` (printed and packed, not yet
sellable) until the release unit's ObjectEvent OBSERVE (`inspecting`, `active`) names them; a
rejected batch's unit decommissions them instead. Once the release is told, codes a later unit
commissions are `active` at once.

Event order in a unit: commissioning (ADD, chunked, with the lot), pairs taken apart (DELETE),
pairs made (ADD), children taken out (AggregationEvent DELETE `unpacking`), children put in (ADD
`packing`), retirements (ObjectEvent DELETE `decommissioning` / `destroying`, with the reason as
`ls:reason`), then the release (OBSERVE). Link and pair events carry no disposition: packing
never changes whether a code may be sold, only commissioning, the release and retirement do.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import IO, Any

from sync.epcis.events import CHUNK, event_id_factory
from sync.model import (
    BatchInfo,
    CodeRecord,
    ContainerRecord,
    ExportError,
    LinkRecord,
    PairRecord,
    epc_converter,
    iso_time,
    tz_offset,
)

UNIT_KINDS = ("pallet", "close", "correction", "release", "reject")
CONTEXT = [
    "https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld",
    {"ls": "https://linestation.example/ns/"},
]
NOT_YET_SELLABLE = "inactive"
RELEASE = ("inspecting", "active")
RETIRE = {
    "decommissioned": ("decommissioning", "inactive"),
    "destroyed": ("destroying", "destroyed"),
}


@dataclass(frozen=True, slots=True)
class UnitInfo:
    """Which unit: its key (the outbox's and the receiver's idempotency key), kind and place."""

    unit_id: str
    kind: str
    seq: int
    batch: BatchInfo
    sealed_at: datetime
    released: bool = False  # the batch's release went in an earlier unit: commission active
    subject: str | None = None  # the pallet code of a pallet unit
    previous: str | None = None  # the unit before this one in the batch's chain
    reason: str | None = None  # a verdict's reason


@dataclass(frozen=True, slots=True)
class UnitData:
    """What one unit tells upstream; every field lists what is new since the units before it."""

    info: UnitInfo
    commission: Sequence[CodeRecord] = ()  # told for the first time (retired ones retire below)
    pairs: Sequence[PairRecord] = ()
    unpairs: Sequence[PairRecord] = ()
    links: Sequence[LinkRecord] = ()  # action "add"
    unlinks: Sequence[LinkRecord] = ()  # action "delete"
    retire: Sequence[CodeRecord] = ()  # state decommissioned | destroyed
    activate: Sequence[CodeRecord] = ()  # the release
    voids: Sequence[CodeRecord] = ()  # printed perhaps, never valid: the CSV lists them
    containers: Sequence[ContainerRecord] = ()  # containers whose status is new or changed
    levels: tuple[str, ...] = ()
    summary: dict[str, Any] | None = None  # the close: counts of the whole batch

    def is_empty(self) -> bool:
        """True when the unit would tell upstream nothing."""
        return not any(
            (
                self.commission,
                self.pairs,
                self.unpairs,
                self.links,
                self.unlinks,
                self.retire,
                self.activate,
                self.voids,
                self.containers,
            )
        )

    def counts(self) -> dict[str, int]:
        """How many of each change the unit carries (for its manifest and `sync status`)."""
        return {
            "commissioned": len(self.commission),
            "pairs_added": len(self.pairs),
            "pairs_removed": len(self.unpairs),
            "links_added": len(self.links),
            "links_removed": len(self.unlinks),
            "retired": len(self.retire),
            "released": len(self.activate),
            "void": len(self.voids),
            "containers": len(self.containers),
        }


def plan_unit_events(unit: UnitData, *, pair_event: str = "association") -> Iterator[dict]:
    """The unit's events as JSON-ready dicts, in the order the module docstring gives."""
    if pair_event not in ("association", "aggregation"):
        raise ExportError(f"pair_event must be association or aggregation, got {pair_event!r}")
    info = unit.info
    to_epc = epc_converter(info.batch.code_prefix)
    new_id = event_id_factory(info.unit_id)
    counter = iter(range(1 << 48))
    ilmd: dict[str, str] = {"cbvmda:lotNumber": info.batch.lot}
    if info.batch.expires is not None:
        ilmd["cbvmda:itemExpirationDate"] = info.batch.expires.isoformat()

    def event(kind: str, time: datetime, **fields: Any) -> dict:
        return {
            "type": kind,
            "eventTime": iso_time(time),
            "eventTimeZoneOffset": tz_offset(time),
            "eventID": new_id(next(counter)),
            **fields,
        }

    disposition = "active" if info.released else NOT_YET_SELLABLE
    for chunk in _chunks(unit.commission):
        yield event(
            "ObjectEvent",
            min(r.time for r in chunk),
            epcList=[to_epc(r.code) for r in chunk],
            action="ADD",
            bizStep="commissioning",
            disposition=disposition,
            ilmd=ilmd,
        )
    pair_kind, add_step, del_step = (
        ("AssociationEvent", "assembling", "disassembling")
        if pair_event == "association"
        else ("AggregationEvent", "packing", "unpacking")
    )
    for action, step, pairs in (("DELETE", del_step, unit.unpairs), ("ADD", add_step, unit.pairs)):
        for p in pairs:
            yield event(
                pair_kind,
                p.time,
                parentID=to_epc(p.outer),
                childEPCs=[to_epc(p.inner)],
                action=action,
                bizStep=step,
            )
    for action, step, links in (
        ("DELETE", "unpacking", unit.unlinks),
        ("ADD", "packing", unit.links),
    ):
        for parent, group in _by_parent(links):
            yield event(
                "AggregationEvent",
                max(r.time for r in group),
                parentID=to_epc(parent),
                childEPCs=[to_epc(r.child) for r in group],
                action=action,
                bizStep=step,
            )
    groups: dict[tuple[str, str], list[CodeRecord]] = {}
    for r in unit.retire:
        if r.state not in RETIRE:
            raise ExportError(f"unit {info.unit_id}: code {r.code!r} retired as {r.state!r}")
        groups.setdefault((r.state, r.reason or info.reason or ""), []).append(r)
    for (state, reason), records in groups.items():
        step, disp = RETIRE[state]
        extra = {"ls:reason": reason} if reason else {}
        for chunk in _chunks(records):
            yield event(
                "ObjectEvent",
                max(r.time for r in chunk),
                epcList=[to_epc(r.code) for r in chunk],
                action="DELETE",
                bizStep=step,
                disposition=disp,
                **extra,
            )
    for chunk in _chunks(unit.activate):
        extra = {"ls:reason": info.reason} if info.reason else {}
        yield event(
            "ObjectEvent",
            info.sealed_at,
            epcList=[to_epc(r.code) for r in chunk],
            action="OBSERVE",
            bizStep=RELEASE[0],
            disposition=RELEASE[1],
            **extra,
        )


def write_unit_jsonld(unit: UnitData, out: IO[str], *, pair_event: str = "association") -> None:
    """The unit as one EPCISDocument (JSON-LD), one event per line."""
    head = {
        "@context": CONTEXT,
        "type": "EPCISDocument",
        "schemaVersion": "2.0",
        "creationDate": iso_time(unit.info.sealed_at),
    }
    text = json.dumps(head, ensure_ascii=False, separators=(",", ":"))
    out.write(text[:-1] + ',"epcisBody":{"eventList":[\n')
    separator = ""
    for ev in plan_unit_events(unit, pair_event=pair_event):
        out.write(separator + json.dumps(ev, ensure_ascii=False, separators=(",", ":")))
        separator = ",\n"
    out.write("\n]}}\n")


def _chunks(records: Sequence, size: int = CHUNK) -> Iterator[Sequence]:
    for start in range(0, len(records), size):
        yield records[start : start + size]


def _by_parent(links: Sequence[LinkRecord]) -> Iterator[tuple[str, list[LinkRecord]]]:
    groups: dict[str, list[LinkRecord]] = {}
    for link in links:
        groups.setdefault(link.parent, []).append(link)
    yield from groups.items()
