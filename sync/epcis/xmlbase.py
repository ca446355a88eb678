"""Shared streaming XML writer for EPCIS 2.0 and 1.2: one lxml element per event, then dropped."""

from __future__ import annotations

from typing import IO

from lxml import etree

from sync.epcis.events import Event, plan_events
from sync.model import BatchData, iso_time, tz_offset

MDA_NS = "urn:epcglobal:cbv:mda"
BIZSTEP = "urn:epcglobal:cbv:bizstep:"
DISP = "urn:epcglobal:cbv:disp:"


def write_epcis_xml(
    data: BatchData, out: IO[bytes], *, namespace: str, version: str, pair_event: str
) -> None:
    """Write an EPCISDocument in `namespace` (1.2 or 2.0 layout by `version`) to binary `out`."""
    info = data.info
    legacy = version.startswith("1.")
    build = _Builder(data, legacy)
    root = etree.QName(namespace, "EPCISDocument")
    attrs = {"schemaVersion": version, "creationDate": iso_time(info.closed_at)}
    with etree.xmlfile(out, encoding="utf-8") as xf:
        xf.write_declaration()
        with xf.element(root, attrs, nsmap={"epcis": namespace, "cbvmda": MDA_NS}):
            with xf.element("EPCISBody"), xf.element("EventList"):
                for event in plan_events(data, pair_event=pair_event):
                    xf.write("\n")
                    xf.write(build(event))
                xf.write("\n")
            xf.write("\n")


class _Builder:
    """Turns a plan Event into an element in the order the schema's xsd:sequence demands."""

    def __init__(self, data: BatchData, legacy: bool) -> None:
        info = data.info
        self.legacy = legacy
        self.read_point = info.read_point
        self.biz_location = info.biz_location
        self.lot = info.lot
        self.expires = info.expires.isoformat() if info.expires else None

    def __call__(self, ev: Event) -> etree._Element:
        sub = etree.SubElement
        el = etree.Element(ev.kind)
        sub(el, "eventTime").text = iso_time(ev.time)
        sub(el, "eventTimeZoneOffset").text = tz_offset(ev.time)
        if self.legacy:  # 1.2 keeps eventID in baseExtension
            sub(sub(el, "baseExtension"), "eventID").text = ev.event_id
        else:
            sub(el, "eventID").text = ev.event_id
        if ev.kind == "ObjectEvent":
            _epc_list(sub(el, "epcList"), ev.epcs)
        else:
            sub(el, "parentID").text = ev.parent
            _epc_list(sub(el, "childEPCs"), ev.epcs)
        sub(el, "action").text = ev.action
        sub(el, "bizStep").text = BIZSTEP + ev.biz_step
        sub(el, "disposition").text = DISP + ev.disposition
        if self.read_point:
            sub(sub(el, "readPoint"), "id").text = self.read_point
        if self.biz_location:
            sub(sub(el, "bizLocation"), "id").text = self.biz_location
        if ev.ilmd:
            holder = sub(el, "extension") if self.legacy else el  # 1.2: extension/ilmd
            ilmd = sub(holder, "ilmd")
            sub(ilmd, etree.QName(MDA_NS, "lotNumber")).text = self.lot
            if self.expires:
                sub(ilmd, etree.QName(MDA_NS, "itemExpirationDate")).text = self.expires
        return el


def _epc_list(parent: etree._Element, epcs: list[str]) -> None:
    sub = etree.SubElement
    for epc in epcs:
        sub(parent, "epc").text = epc
