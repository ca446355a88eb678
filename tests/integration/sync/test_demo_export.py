"""A demo batch, delivered while the line ran, exported in every format and checked against GS1.

The station here prints 20-digit trace codes (sequential, starting with 8) on items, cases and
pallets, so the 码上放心-style file can be made too; its pallet labeler is left out because the
ZPL pallet template insists on an SSCC.
"""

from __future__ import annotations

import csv
import io
import json
import re
import shutil
from collections import Counter
from pathlib import Path

import jsonschema
import pytest
from lxml import etree
from sync_station_helpers import ROOT, SCHEMAS

from station.cli import main
from station.codes import pools
from station.config import load_settings
from station.sim.demo import DemoPlan, run_demo
from station.store import batches
from station.store.db import make_engine
from station.upstream import outbox
from sync.manifest import verify_manifest
from sync.mashangfangxin import read_upload
from sync.receiver import serve
from sync.receiver.view import document_events, load_view, replay

# jsonschema checks "format" only with a checker; the stock "uri" check needs rfc3987 (not
# installed), so RFC 3986 absolute URI and RFC 3339 date-time are spelled out as in sync_export.
_URI = re.compile(r"[A-Za-z][A-Za-z0-9+.\-]*:[!#$%&'()*+,\-./0-9:;=?@A-Z\[\]_a-z~]*")
_DATE_TIME = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)", re.IGNORECASE)
FORMATS = jsonschema.FormatChecker(formats=())
FORMATS.checks("uri")(lambda v: not isinstance(v, str) or bool(_URI.fullmatch(v)))
FORMATS.checks("date-time")(lambda v: not isinstance(v, str) or bool(_DATE_TIME.fullmatch(v)))
NS12 = "urn:epcglobal:epcis:xsd:1"
ALL_FORMATS = ("epcis-jsonld", "epcis-xml", "epcis12-xml", "csv", "mashangfangxin")


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory):
    """A 120-item demo batch run with a receiver upstream: (config, engine, summary, server)."""
    folder = tmp_path_factory.mktemp("demo")
    text = (ROOT / "config.toml").read_text(encoding="utf-8")
    text = text.replace('[devices.pallet_labeler]\nurl = "tcp://127.0.0.1:19103"\n', "")
    assert "pallet_labeler" not in text
    config = folder / "config.toml"
    config.write_text(text, encoding="utf-8")
    settings = load_settings(config)
    engine = make_engine(settings.database_url)
    for level, n, prefix in (("outer", 330, "82"), ("case", 70, "84"), ("pallet", 20, "85")):
        pools.generate(engine, settings, level, n, "sequential", user="t", prefix=prefix + "0" * 8)
    plan = DemoPlan(items=120, batches=1, rate=1200, defects=0.03, seed=1, product="WATER-550")
    key = settings.station.signing_key.encode()
    with serve(0, folder / "received", key=key) as server:
        summary = run_demo(engine, settings, plan, user="t", resume=False, upstream=server.url)
        yield config, engine, summary, server
    engine.dispose()
    shutil.rmtree(folder, ignore_errors=True)


def station(config: Path, capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str]:
    """Run `station --config CONFIG ARGS…` in-process; (exit code, stdout)."""
    rc = main(["--config", str(config), *args])
    return rc, capsys.readouterr().out


def test_the_batch_went_upstream_while_the_line_ran(demo) -> None:
    config, engine, summary, server = demo
    [batch] = summary["batches"]
    # One partial pallet, closed at the batch's close: its unit, then the close.
    units = [e for e in outbox.entries(engine) if e["chain"] == batch]
    assert [u["batch_id"] for u in units] == [f"{batch}#P1", batch]
    assert summary["upstream"] == {"drained": True, "acknowledged": 2, "parked": [], "waiting": []}
    assert server.stored_counts() == {f"{batch}#P1": 1, batch: 1}
    for unit in units:
        sealed = Path(unit["path"])
        verify_manifest(sealed, load_settings(config).station.signing_key.encode())
        [name] = [p.name for p in sealed.glob("*.epcis.jsonld")]
        received = config.parent / "received" / unit["batch_id"] / name
        assert received.read_bytes() == (sealed / name).read_bytes()


def test_every_format_validates(demo, capsys, tmp_path: Path) -> None:
    config, engine, summary, _ = demo
    [batch] = summary["batches"]
    with engine.connect() as conn:
        db = batches.counts(conn, batch)
    live = {lv: db[lv].get("verified", 0) + db[lv].get("linked", 0) for lv in db}
    packed = {lv: db[lv].get("linked", 0) for lv in db}
    args = [a for f in ALL_FORMATS for a in ("--format", f)]
    rc, out = station(config, capsys, "export", batch, *args, "--out", str(tmp_path), "--json")
    assert rc == 0, out
    result = json.loads(out.strip().splitlines()[-1])
    names = {f["format"]: f["name"] for f in result["files"]}
    assert set(names) == set(ALL_FORMATS)
    verify_manifest(tmp_path, load_settings(config).station.signing_key.encode())
    # What went upstream per pallet and at the close says what the whole export says.
    got = load_view(config.parent / "received")
    want = replay(document_events(tmp_path / names["epcis-jsonld"]))
    assert (got.states(), got.parents, got.pairs) == (want.states(), want.parents, want.pairs)

    doc = json.loads((tmp_path / names["epcis-jsonld"]).read_text(encoding="utf-8"))
    schema = json.loads((SCHEMAS / "EPCIS-JSON-Schema.json").read_text(encoding="utf-8"))
    validator = jsonschema.Draft7Validator(schema, format_checker=FORMATS)
    assert [f"{list(e.path)}: {e.message}" for e in validator.iter_errors(doc)] == []
    events = doc["epcisBody"]["eventList"]
    kinds = Counter((e["type"], e["action"]) for e in events)
    verified = summary["verified"]  # outer items verified or linked
    assert live["outer"] == live["inner"] == verified  # every verified item has its cap
    commissioned = sum(len(e["epcList"]) for e in events if e["type"] == "ObjectEvent")
    cases = sum(summary["containers"]["case"].values())
    pallets = sum(summary["containers"]["pallet"].values())
    assert commissioned == sum(live.values()) == 2 * verified + cases + pallets
    assert kinds[("AssociationEvent", "ADD")] == verified
    assert kinds[("AggregationEvent", "ADD")] == cases + pallets

    xsd = etree.XMLSchema(etree.parse(str(SCHEMAS / "XSD" / "EPCglobal-epcis-2_0.xsd")))
    xml2 = etree.parse(str(tmp_path / names["epcis-xml"]))
    assert xsd.validate(xml2), xsd.error_log
    assert len(xml2.getroot().find("EPCISBody/EventList")) == len(events)

    # The project carries no EPCIS 1.2 schema: check its namespace and that it says the same.
    xml12 = etree.parse(str(tmp_path / names["epcis12-xml"])).getroot()
    assert xml12.tag == f"{{{NS12}}}EPCISDocument" and xml12.get("schemaVersion") == "1.2"
    epcs12 = xml12.xpath("EPCISBody/EventList/ObjectEvent[action='ADD']/epcList/epc/text()")
    assert len(epcs12) == commissioned

    [relations, codes] = [
        list(csv.DictReader(io.StringIO((tmp_path / n).read_text(encoding="utf-8"))))
        for n in (f"{batch}.relations.csv", f"{batch}.codes.csv")
    ]
    pairs = [r for r in relations if r["child_level"] == "inner"]
    assert len(pairs) == verified
    assert Counter(r["parent_level"] for r in relations if r["child_level"] != "inner") == {
        "case": packed["outer"],
        "pallet": packed["case"],
    }
    states = Counter(r["state"] for r in codes)
    assert states["linked"] == sum(packed.values()) and "rejected" not in states

    _, xml = read_upload((tmp_path / names["mashangfangxin"]).read_bytes())
    root = etree.fromstring(xml)
    layers = Counter(c.get("packLayer") for c in root.iter("Code"))
    assert layers == {"1": packed["outer"], "2": cases, "3": pallets}  # loose items stay out
    assert root.find("Relation").get("packageSpec") == "1:20:480"
