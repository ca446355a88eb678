"""EPCIS exporters: 2.0 JSON-LD, 2.0 XML and 1.2 XML, all fed by one event plan."""

from __future__ import annotations

from pathlib import Path

from sync.epcis.events import Event, plan_events
from sync.epcis.jsonld import write_jsonld
from sync.epcis.xml2 import write_xml2
from sync.epcis.xml12 import write_xml12

SCHEMA_DIR = Path(__file__).resolve().parent / "schemas"
"""GS1's EPCIS 2.0 JSON Schema, JSON-LD context and XSDs, carried unchanged (see its README)."""

__all__ = ["SCHEMA_DIR", "Event", "plan_events", "write_jsonld", "write_xml2", "write_xml12"]
