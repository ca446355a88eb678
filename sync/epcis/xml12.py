"""EPCIS 1.2 XML document (urn:epcglobal:epcis:xsd:1) for partners not yet on 2.0, streamed.

1.2 has no AssociationEvent, so inner ↔ outer pairs go out as AggregationEvent ADD packing;
eventID sits in baseExtension and the ILMD in extension, as the 1.2 schema wants.
"""

from __future__ import annotations

from typing import IO

from sync.epcis.xmlbase import write_epcis_xml
from sync.model import BatchData

NS = "urn:epcglobal:epcis:xsd:1"


def write_xml12(data: BatchData, out: IO[bytes]) -> None:
    """Write the batch as an EPCIS 1.2 XML document to binary `out`."""
    write_epcis_xml(data, out, namespace=NS, version="1.2", pair_event="aggregation")
