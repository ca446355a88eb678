"""EPCIS 2.0 XML document (urn:epcglobal:epcis:xsd:2), streamed."""

from __future__ import annotations

from typing import IO

from sync.epcis.xmlbase import write_epcis_xml
from sync.model import BatchData

NS = "urn:epcglobal:epcis:xsd:2"


def write_xml2(data: BatchData, out: IO[bytes], *, pair_event: str = "association") -> None:
    """Write the batch as an EPCIS 2.0 XML document to binary `out`."""
    write_epcis_xml(data, out, namespace=NS, version="2.0", pair_event=pair_event)
