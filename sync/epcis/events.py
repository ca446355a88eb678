"""The batch as a stream of EPCIS events, independent of the output syntax.

Every writer (JSON-LD, XML 2.0, XML 1.2) walks the same plan, so the three documents always say
the same thing. The plan holds one chunk of EPCs (≤ CHUNK) at a time, plus the retired codes it
meets while commissioning (up to RETIRED_BUFFER; beyond that it reads the codes a second time).

Order: ObjectEvent ADD commissioning (chunked), the inner ↔ outer pairs, AggregationEvents for
links in the order they come (ADD packing / DELETE unpacking, one event per run of the same parent
and action), then ObjectEvent DELETE decommissioning / destroying (chunked).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime

from sync.model import RETIRED_STATES, BatchData, ExportError, epc_converter

CHUNK = 10_000
RETIRED_BUFFER = 50_000
PAIR_EVENTS = ("association", "aggregation")
EXPORTED_STATES = ("verified", "linked", *RETIRED_STATES)
SKIPPED_STATES = ("void", "rejected")

# Business step and disposition for each kind of event (CBV 2.0 bare words; XML uses URNs).
COMMISSION = ("commissioning", "active")
PACK = ("packing", "in_progress")
UNPACK = ("unpacking", "in_progress")
ASSOCIATE = ("assembling", "active")
RETIRE = {
    "decommissioned": ("decommissioning", "inactive"),
    "destroyed": ("destroying", "destroyed"),
}


@dataclass(slots=True)
class Event:
    """One EPCIS event: kind, action, business step, disposition, time and the EPCs it names."""

    kind: str  # ObjectEvent | AggregationEvent | AssociationEvent
    action: str  # ADD | DELETE
    biz_step: str
    disposition: str
    time: datetime
    epcs: list[str]  # epcList of an ObjectEvent, childEPCs otherwise
    event_id: str
    parent: str | None = None
    ilmd: bool = False


def event_id_factory(batch_id: str) -> Callable[[int], str]:
    """Deterministic event ids, so a resend of the batch is byte-identical.

    The batch's UUID v5 with the event's index in the last 48 bits (the node field): a well-formed
    urn:uuid, unique within the batch, and 74 bits of batch hash keep batches apart. A real uuid5
    per event costs ~10 µs, too much for a million events.
    """
    base = str(uuid.uuid5(uuid.NAMESPACE_URL, "https://linestation.example/batch/" + batch_id))
    prefix = "urn:uuid:" + base[:24]

    def make(index: int) -> str:
        return f"{prefix}{index:012x}"

    return make


def plan_events(
    data: BatchData, *, pair_event: str = "association", chunk: int = CHUNK
) -> Iterator[Event]:
    """Yield the batch's events in document order (see the module docstring)."""
    if pair_event not in PAIR_EVENTS:
        raise ExportError(f"pair_event must be one of {PAIR_EVENTS}, got {pair_event!r}")
    to_epc = epc_converter(data.info.code_prefix)
    new_id = event_id_factory(data.info.batch_id)
    counter = iter(range(1 << 48))
    retired: list[tuple[str, str, datetime]] | None = []
    for item in _commissioning(data, to_epc, chunk):
        if isinstance(item, list):  # the retired codes seen, or None when there were too many
            retired = item if len(item) <= RETIRED_BUFFER else None
            continue
        item.event_id = new_id(next(counter))
        yield item
    yield from _pairs(data, to_epc, new_id, counter, pair_event)
    yield from _links(data, to_epc, new_id, counter)
    if retired is None:
        retired = ((r.state, to_epc(r.code), r.time) for r in data.codes() if r.state in RETIRE)
    yield from _retirements(retired, new_id, counter, chunk)


def _commissioning(data, to_epc, chunk) -> Iterator[Event | list]:
    # Retired codes were commissioned first, so they are in here too; void ones never were.
    # Retired codes are few: collect them on the way and spare a second pass over all codes,
    # unless there are more than RETIRED_BUFFER (the last item yielded is that list).
    epcs: list[str] = []
    first: datetime | None = None
    batch = data.info.batch_id
    exported = EXPORTED_STATES
    retired: list[tuple[str, str, datetime]] = []
    for rec in data.codes():
        state = rec.state
        if state not in exported:
            if state in SKIPPED_STATES:
                continue
            raise ExportError(f"batch {batch}: code {rec.code!r} has unknown state {state!r}")
        epc = to_epc(rec.code)
        epcs.append(epc)
        if first is None or rec.time < first:
            first = rec.time
        if state in RETIRE and len(retired) <= RETIRED_BUFFER:
            retired.append((state, epc, rec.time))
        if len(epcs) >= chunk:
            yield _object("ADD", COMMISSION, first, epcs, ilmd=True)
            epcs, first = [], None
    if epcs:
        yield _object("ADD", COMMISSION, first, epcs, ilmd=True)
    yield retired


def _pairs(data, to_epc, new_id, counter, pair_event) -> Iterator[Event]:
    kind, step = (
        ("AssociationEvent", ASSOCIATE)
        if pair_event == "association"
        else ("AggregationEvent", PACK)
    )
    for pair in data.pairs():
        yield Event(
            kind, "ADD", step[0], step[1], pair.time, [to_epc(pair.inner)],
            new_id(next(counter)), to_epc(pair.outer),
        )  # fmt: skip


def _links(data, to_epc, new_id, counter) -> Iterator[Event]:
    key: tuple[str, str] | None = None
    children: list[str] = []
    last: datetime | None = None
    for link in data.links():
        action = link.action
        if action not in ("add", "delete"):
            raise ExportError(
                f"batch {data.info.batch_id}: link {link.parent!r} ← {link.child!r} has unknown "
                f"action {action!r} (expected 'add' or 'delete')"
            )
        this = (link.parent, action)
        if this != key:
            if key is not None:
                yield _aggregation(key, children, last, to_epc, new_id(next(counter)))
            key, children, last = this, [], None
        children.append(to_epc(link.child))
        if last is None or link.time > last:
            last = link.time
    if key is not None:
        yield _aggregation(key, children, last, to_epc, new_id(next(counter)))


def _retirements(retired, new_id, counter, chunk) -> Iterator[Event]:
    buffers: dict[str, tuple[list[str], list[datetime]]] = {s: ([], []) for s in RETIRE}
    for state, epc, time in retired:
        epcs, latest = buffers[state]
        epcs.append(epc)
        if not latest or time > latest[0]:
            latest[:] = [time]
        if len(epcs) >= chunk:
            yield _object("DELETE", RETIRE[state], latest[0], epcs, new_id(next(counter)))
            buffers[state] = ([], [])
    for state, (epcs, latest) in buffers.items():
        if epcs:
            yield _object("DELETE", RETIRE[state], latest[0], epcs, new_id(next(counter)))


def _object(action, step, time, epcs, event_id: str = "", *, ilmd: bool = False) -> Event:
    return Event("ObjectEvent", action, step[0], step[1], time, epcs, event_id, None, ilmd)


def _aggregation(key, children, time, to_epc, event_id) -> Event:
    parent, action = key
    if action == "add":
        return Event("AggregationEvent", "ADD", *PACK, time, children, event_id, to_epc(parent))
    return Event("AggregationEvent", "DELETE", *UNPACK, time, children, event_id, to_epc(parent))
