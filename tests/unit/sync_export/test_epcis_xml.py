"""EPCIS 2.0 XML against the official XSD; EPCIS 1.2 XML structure by XPath."""

from __future__ import annotations

import io

import pytest
from lxml import etree

from sync.epcis import write_xml2, write_xml12
from sync.model import ExportError

NS2 = "urn:epcglobal:epcis:xsd:2"
NS1 = "urn:epcglobal:epcis:xsd:1"
MDA = {"cbvmda": "urn:epcglobal:cbv:mda"}


@pytest.fixture(scope="module")
def xsd(schemas) -> etree.XMLSchema:
    return etree.XMLSchema(etree.parse(str(schemas / "XSD" / "EPCglobal-epcis-2_0.xsd")))


def render(writer, batch, **kwargs) -> etree._ElementTree:
    out = io.BytesIO()
    writer(batch, out, **kwargs)
    return etree.parse(io.BytesIO(out.getvalue()))


def steps(doc: etree._ElementTree) -> list[tuple[str, str, str]]:
    return [
        (e.tag, e.findtext("action"), e.findtext("bizStep").rsplit(":", 1)[1])
        for e in doc.getroot().find("EPCISBody/EventList")
    ]


@pytest.mark.parametrize("pair_event", ["association", "aggregation"])
def test_xml2_is_valid_against_the_xsd(batch, xsd, pair_event) -> None:
    doc = render(write_xml2, batch, pair_event=pair_event)
    assert xsd.validate(doc), xsd.error_log
    root = doc.getroot()
    assert root.tag == f"{{{NS2}}}EPCISDocument" and root.get("schemaVersion") == "2.0"
    seen = steps(doc)
    assert ("ObjectEvent", "DELETE", "decommissioning") in seen
    assert ("ObjectEvent", "DELETE", "destroying") in seen
    assert ("AggregationEvent", "DELETE", "unpacking") in seen
    associations = [s for s in seen if s[0] == "AssociationEvent"]
    assert len(associations) == (24 if pair_event == "association" else 0)
    first = root.find("EPCISBody/EventList/ObjectEvent")
    assert first.findtext("ilmd/cbvmda:lotNumber", namespaces=MDA) == "L2611-A"
    assert first.findtext("ilmd/cbvmda:itemExpirationDate", namespaces=MDA) == "2028-11-23"
    assert first.findtext("readPoint/id") == "urn:epc:id:sgln:9506000.13435.1"


def test_xsd_catches_a_misplaced_element(batch, xsd) -> None:
    doc = render(write_xml2, batch)
    event = doc.getroot().find("EPCISBody/EventList/AggregationEvent")
    event.append(event.find("parentID"))  # parentID after bizLocation breaks the sequence
    assert not xsd.validate(doc)


def test_xml12_structure(batch) -> None:
    doc = render(write_xml12, batch)
    root = doc.getroot()
    assert root.tag == f"{{{NS1}}}EPCISDocument"
    assert root.get("schemaVersion") == "1.2"
    events = root.find("EPCISBody/EventList")
    assert {e.tag for e in events} == {"ObjectEvent", "AggregationEvent"}  # no AssociationEvent
    pairs = events.xpath(
        "AggregationEvent[action='ADD'][bizStep='urn:epcglobal:cbv:bizstep:packing']"
        "[count(childEPCs/epc)=1][starts-with(parentID, 'https://id.linestation.example/code/82')]"
    )
    assert len(pairs) == 24
    commission = events.xpath("ObjectEvent[bizStep='urn:epcglobal:cbv:bizstep:commissioning']")
    assert len(commission) == 1
    obj = commission[0]
    # 1.2 order: eventTime, eventTimeZoneOffset, baseExtension, epcList, action, ..., extension
    assert [c.tag for c in obj] == [
        "eventTime", "eventTimeZoneOffset", "baseExtension", "epcList", "action", "bizStep",
        "disposition", "readPoint", "bizLocation", "extension",
    ]  # fmt: skip
    assert obj.findtext("baseExtension/eventID").startswith("urn:uuid:")
    assert obj.findtext("extension/ilmd/cbvmda:lotNumber", namespaces=MDA) == "L2611-A"
    assert len(obj.findall("epcList/epc")) == 57
    retired = events.xpath("ObjectEvent[action='DELETE']/bizStep/text()")
    assert sorted(retired) == [
        "urn:epcglobal:cbv:bizstep:decommissioning",
        "urn:epcglobal:cbv:bizstep:destroying",
    ]
    unpack = events.xpath("AggregationEvent[action='DELETE']")
    assert len(unpack) == 1 and unpack[0].findtext("disposition").endswith(":in_progress")


def test_text_is_escaped(batch_factory, xsd) -> None:
    def outer(i: int) -> str:
        return f"https://id.gs1.org/01/09506000134352/21/X{i}?17=281123&10=L<1>"

    odd = batch_factory(4, box=2, case=2, special=False, outer_code=outer, lot='L&<"1">')
    for writer in (write_xml2, write_xml12):
        doc = render(writer, odd)
        events = doc.getroot().find("EPCISBody/EventList")
        lots = events.xpath("//cbvmda:lotNumber/text()", namespaces=MDA)
        assert lots == ['L&<"1">']
        epcs = set(events.xpath("//epc/text()"))
        # '<' and '>' are not plain URI characters, so such a code is prefixed and quoted
        assert (
            "https://id.linestation.example/code/"
            + (
                "https%3A%2F%2Fid.gs1.org%2F01%2F09506000134352%2F21%2FX0%3F17%3D281123%2610%3DL%3C1%3E"
            )
            in epcs
        )
    assert xsd.validate(render(write_xml2, odd)), xsd.error_log
    amp = batch_factory(
        2, box=2, case=2, special=False, outer_code=lambda i: f"https://x.cn/a?b={i}&c=1"
    )
    doc = render(write_xml2, amp)
    assert xsd.validate(doc), xsd.error_log
    assert "https://x.cn/a?b=0&c=1" in doc.xpath("//epc/text()")
    assert doc.xpath("//AssociationEvent/parentID/text()")[0] == "https://x.cn/a?b=0&c=1"
    with pytest.raises(ExportError, match="lot"):
        render(write_xml12, batch_factory(2, box=2, case=2, special=False, lot="L\x01"))
