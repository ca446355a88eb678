"""EPCIS 2.0 JSON-LD: valid against the official JSON Schema, every event kind, no void codes."""

from __future__ import annotations

import io
import json
import re
from collections import Counter
from dataclasses import replace

import jsonschema
import pytest

from sync.epcis import events, plan_events, write_jsonld
from sync.model import ExportError, epc_converter

# jsonschema checks "format" only with a checker; the stock "uri" check needs rfc3987, which
# is not installed, so these two are spelled out (RFC 3986 absolute URI, RFC 3339 date-time).
_URI = re.compile(r"[A-Za-z][A-Za-z0-9+.\-]*:[!#$%&'()*+,\-./0-9:;=?@A-Z\[\]_a-z~]*")
_DATE_TIME = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)", re.IGNORECASE)
FORMATS = jsonschema.FormatChecker(formats=())
FORMATS.checks("uri")(lambda value: not isinstance(value, str) or bool(_URI.fullmatch(value)))
FORMATS.checks("date-time")(
    lambda value: not isinstance(value, str) or bool(_DATE_TIME.fullmatch(value))
)


@pytest.fixture(scope="module")
def validator(schemas) -> jsonschema.Draft7Validator:
    schema = json.loads((schemas / "EPCIS-JSON-Schema.json").read_text(encoding="utf-8"))
    return jsonschema.Draft7Validator(schema, format_checker=FORMATS)


def export(batch, **kwargs) -> dict:
    out = io.StringIO()
    write_jsonld(batch, out, **kwargs)
    return json.loads(out.getvalue())


def kinds(doc: dict) -> Counter:
    return Counter((e["type"], e["action"], e["bizStep"]) for e in doc["epcisBody"]["eventList"])


def test_document_is_schema_valid_and_has_every_event_kind(batch, validator) -> None:
    doc = export(batch)
    errors = [f"{list(e.path)}: {e.message}" for e in validator.iter_errors(doc)]
    assert errors == []
    seen = kinds(doc)
    assert seen[("ObjectEvent", "ADD", "commissioning")] == 1
    assert seen[("AssociationEvent", "ADD", "assembling")] == 24  # 23 pairs + the replacement
    # 6 boxes + 2 cases, box 0 in three runs (add, unpack one, add the replacement)
    assert seen[("AggregationEvent", "ADD", "packing")] == 6 + 1 + 2
    assert seen[("AggregationEvent", "DELETE", "unpacking")] == 1
    assert seen[("ObjectEvent", "DELETE", "decommissioning")] == 1
    assert seen[("ObjectEvent", "DELETE", "destroying")] == 1
    assert doc["@context"] == "https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld"


def test_commissioning_carries_lot_and_expiry_and_skips_void(batch) -> None:
    doc = export(batch)
    events = doc["epcisBody"]["eventList"]
    commission = events[0]
    assert commission["ilmd"] == {
        "cbvmda:lotNumber": "L2611-A",
        "cbvmda:itemExpirationDate": "2028-11-23",
    }
    to_epc = epc_converter(batch.info.code_prefix)
    all_codes = list(batch.codes())
    void = {to_epc(c.code) for c in all_codes if c.state == "void"}
    exported = {to_epc(c.code) for c in all_codes if c.state != "void"}
    assert len(void) == 3
    assert set(commission["epcList"]) == exported
    mentioned = set()
    for e in events:
        mentioned.update(e.get("epcList", []), e.get("childEPCs", []), [e.get("parentID")])
    assert not void & mentioned
    unpack = next(e for e in events if e["bizStep"] == "unpacking")
    decommission = next(e for e in events if e["bizStep"] == "decommissioning")
    assert unpack["childEPCs"] == decommission["epcList"]  # item 1: unpacked, then retired
    assert decommission["disposition"] == "inactive"


def test_pairs_as_aggregation_when_the_partner_wants_it(batch, validator) -> None:
    doc = export(batch, pair_event="aggregation")
    assert not list(validator.iter_errors(doc))
    seen = kinds(doc)
    assert not any(kind == "AssociationEvent" for kind, _, _ in seen)
    assert seen[("AggregationEvent", "ADD", "packing")] == 9 + 24
    with pytest.raises(ExportError, match="pair_event"):
        export(batch, pair_event="glue")


def test_validator_rejects_a_broken_event(batch, validator) -> None:
    doc = export(batch)
    del doc["epcisBody"]["eventList"][1]["eventTimeZoneOffset"]
    doc["epcisBody"]["eventList"][2]["parentID"] = "not a uri"
    assert len(list(validator.iter_errors(doc))) >= 2


def test_every_key_is_defined_by_the_local_context(batch, schemas) -> None:
    context = json.loads((schemas / "epcis-context.jsonld").read_text(encoding="utf-8"))
    terms = context["@context"]
    doc = export(batch)

    def check(obj: dict) -> None:
        for key, value in obj.items():
            if key != "@context":
                prefix = key.split(":", 1)[0] if ":" in key else None
                assert key in terms or prefix in terms, key
            if isinstance(value, dict):
                check(value)

    check(doc)
    for event in doc["epcisBody"]["eventList"]:
        check(event)
    assert terms["cbvmda"] == "urn:epcglobal:cbv:mda:"


def test_large_batches_are_chunked(batch) -> None:
    events = list(plan_events(batch, chunk=7))
    commission = [e for e in events if e.biz_step == "commissioning"]
    assert [len(e.epcs) for e in commission] == [7] * 8 + [1]  # 57 exported codes
    assert len({epc for e in commission for epc in e.epcs}) == 57
    ids = [e.event_id for e in events]
    assert len(set(ids)) == len(ids)
    assert ids == [e.event_id for e in plan_events(batch, chunk=7)]  # a resend is identical


def test_codes_become_uris(batch_factory, validator) -> None:
    def outer(i: int) -> str:
        if i % 3 == 0:
            return f"https://id.gs1.org/01/09506000134352/21/X{i}?17=281123"
        if i % 3 == 1:
            return f"(01)09506000134352(21)A B/{i}é"
        return f"8200000000000000000{i % 10}"

    doc = export(batch_factory(6, box=3, case=2, special=False, outer_code=outer))
    assert not list(validator.iter_errors(doc))
    epcs = doc["epcisBody"]["eventList"][0]["epcList"]
    assert "https://id.gs1.org/01/09506000134352/21/X0?17=281123" in epcs
    assert (
        "https://id.linestation.example/code/%2801%2909506000134352%2821%29A%20B%2F1%C3%A9" in epcs
    )
    with pytest.raises(ExportError, match="code_prefix"):
        epc_converter("id linestation/")


def test_many_retired_codes_take_a_second_pass(batch, monkeypatch) -> None:
    def summary(evs):
        return [(e.kind, e.action, e.biz_step, e.time, e.epcs, e.parent) for e in evs]

    buffered = summary(plan_events(batch))
    monkeypatch.setattr(events, "RETIRED_BUFFER", 0)
    assert summary(plan_events(batch)) == buffered


def test_empty_batch_is_a_valid_document(batch, validator) -> None:
    empty = replace(batch, codes=list, links=list, pairs=list, containers=list)
    doc = export(empty)
    assert doc["epcisBody"]["eventList"] == []
    assert not list(validator.iter_errors(doc))
