"""EPCIS 2.0 JSON-LD document, written event by event to a text file object.

Strings are assembled by hand: EPCs come out of `epc_converter` already free of anything JSON
would escape, so only the few free-text values (lot, ids) go through json.dumps. One event per
line keeps the file greppable.
"""

from __future__ import annotations

import json
from typing import IO

from sync.epcis.events import Event, plan_events
from sync.model import BatchData, iso_time, tz_offset

CONTEXT_URL = "https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld"


def write_jsonld(data: BatchData, out: IO[str], *, pair_event: str = "association") -> None:
    """Write the batch as one EPCISDocument (JSON-LD) to `out`, streaming."""
    info = data.info
    dumps = json.dumps
    where = ""
    if info.read_point:
        where += ',"readPoint":{"id":' + dumps(info.read_point) + "}"
    if info.biz_location:
        where += ',"bizLocation":{"id":' + dumps(info.biz_location) + "}"
    ilmd_parts = ['"cbvmda:lotNumber":' + dumps(info.lot, ensure_ascii=False)]
    if info.expires is not None:
        ilmd_parts.append('"cbvmda:itemExpirationDate":"' + info.expires.isoformat() + '"')
    ilmd = ',"ilmd":{' + ",".join(ilmd_parts) + "}"

    out.write(
        '{"@context":"' + CONTEXT_URL + '","type":"EPCISDocument","schemaVersion":"2.0",'
        '"creationDate":"' + iso_time(info.closed_at) + '","epcisBody":{"eventList":[\n'
    )
    write = out.write
    separator = ""
    for event in plan_events(data, pair_event=pair_event):
        write(separator)
        write(_event_json(event, where, ilmd))
        separator = ",\n"
    write("\n]}}\n")


def _event_json(ev: Event, where: str, ilmd: str) -> str:
    # One f-string per event, a single allocation: a million events stay fast and lean.
    time = ev.time
    epcs = '","'.join(ev.epcs)
    q = '"' if epcs else ""
    if ev.kind == "ObjectEvent":
        return (
            f'{{"type":"ObjectEvent","eventTime":"{iso_time(time)}","eventTimeZoneOffset":'
            f'"{tz_offset(time)}","eventID":"{ev.event_id}","epcList":[{q}{epcs}{q}],'
            f'"action":"{ev.action}","bizStep":"{ev.biz_step}","disposition":"{ev.disposition}"'
            f"{where}{ilmd if ev.ilmd else ''}}}"
        )
    return (
        f'{{"type":"{ev.kind}","eventTime":"{iso_time(time)}","eventTimeZoneOffset":'
        f'"{tz_offset(time)}","eventID":"{ev.event_id}","parentID":"{ev.parent}",'
        f'"childEPCs":[{q}{epcs}{q}],"action":"{ev.action}",'
        f'"bizStep":"{ev.biz_step}","disposition":"{ev.disposition}"{where}}}'
    )
