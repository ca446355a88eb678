"""Issue 17 point 3 acceptance: create, scan a pallet, close, `sync push --wait`; the receiver
holds the shipping event with the pallet and the order; the pallet cannot ship twice."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

from station.config import load_settings
from sync.manifest import verify_manifest
from sync.receiver import serve
from sync.receiver.validate import EpcisValidator


def _upstream(config: Path, url: str) -> None:
    text = config.read_text(encoding="utf-8").split("[upstream]")[0]
    config.write_text(text + f'[upstream]\ntransport = "epcis-capture"\nurl = "{url}"\n',
                      encoding="utf-8")  # fmt: skip


def test_ship_a_pallet_upstream_and_never_twice(st, tmp_path: Path) -> None:
    b1 = st.batches()[0]
    pallet = st.codes(b1, "pallet")[0]
    assert st.cli("wh1", "ship", "create", "--order", "PO1", "--to", "DIST-A")[0] == 0
    # Not released yet: refused with the reason, nothing added.
    rc, r = st.json("wh1", "ship", "scan", "PO1", pallet)
    assert rc == 1 and r["results"][0]["reason"] == "not_released", r
    assert b1 in r["results"][0]["message"]
    st.release(b1)
    rc, r = st.json("wh1", "ship", "scan", "PO1", pallet)
    assert rc == 0, r
    cases = st.children(pallet)
    items = [i for c in cases for i in st.children(c)]
    assert r["results"][0]["codes"] == 1 + len(cases) + len(items)
    rc, out, err = st.cli("wh1", "ship", "close", "PO1")
    assert rc == 0, out + err
    assert "closed" in out and "ticket not printed" in out  # no printer listens in the test

    settings = load_settings(st.config)
    key = settings.station.signing_key.encode()
    with serve(0, tmp_path / "received", key=key) as server:
        _upstream(st.config, server.url)
        rc, out, err = st.cli("admin", "sync", "push", "--wait", "--timeout", "120")
        assert rc == 0, out + err
    unit = tmp_path / "received" / "SHIP-PO1"
    sealed = st.dir / "var" / "outbox" / "SHIP-PO1"
    verify_manifest(sealed, key)  # the signed set as sealed; EPCIS capture carries its .jsonld
    doc = json.loads((unit / "SHIP-PO1.epcis.jsonld").read_text(encoding="utf-8"))
    EpcisValidator().check(doc)
    [event] = doc["epcisBody"]["eventList"]
    assert event["bizStep"] == "shipping" and event["disposition"] == "in_transit"
    assert event["action"] == "OBSERVE"
    assert [e.endswith("/" + pallet) for e in event["epcList"]] == [True]
    assert event["bizTransactionList"][0]["type"] == "po"
    assert event["bizTransactionList"][0]["bizTransaction"].endswith("PO1")
    types = {s["type"] for s in event["sourceList"]} | {d["type"] for d in event["destinationList"]}
    assert types == {"owning_party", "location"}
    assert any("DIST-A" in d["destination"] for d in event["destinationList"])
    bill = list(csv.reader(io.StringIO((sealed / "SHIP-PO1.outbound.csv").read_text("utf-8"))))
    assert bill[0][:3] == ["单据编号", "单据时间", "单据类型"]
    assert [row[0] for row in bill[1:]] == ["PO1"] and bill[1][7] == pallet
    assert bill[1][5] == "DIST-A" and int(bill[1][11]) == 1 + len(cases) + len(items)
    receipt = json.loads((unit / "receipt.json").read_text(encoding="utf-8"))
    assert receipt["batch_id"] == "SHIP-PO1"
    # The demo batches went too, the shipment once: its outbox row is acknowledged.
    rc, status = st.json("admin", "sync", "status")
    ship_rows = [e for e in status["entries"] if e["batch_id"] == "SHIP-PO1"]
    assert [e["state"] for e in ship_rows] == ["acknowledged"]

    # The pallet (or a case on it) on a second order: refused as already shipped, naming PO1.
    assert st.cli("wh1", "ship", "create", "--order", "PO2", "--to", "DIST-B")[0] == 0
    rc, r = st.json("wh1", "ship", "scan", "PO2", pallet, cases[0])
    assert rc == 1
    assert [x["reason"] for x in r["results"]] == ["already_shipped", "already_shipped"]
    assert all("PO1" in x["message"] for x in r["results"])
    # The dispatch note was written beside the sealed set.
    assert (st.dir / "var" / "outbox" / "SHIP-PO1.dispatch.pdf").read_bytes()[:5] == b"%PDF-"
    # Everything was audited with the acting users.
    actions = st.sql("SELECT action, user FROM audit WHERE action LIKE 'ship.%' OR "
                     "action = 'qa.batch_release' ORDER BY id")  # fmt: skip
    assert ("ship.create", "wh1") in actions and ("ship.close", "wh1") in actions
    assert ("ship.scan", "wh1") in actions and ("qa.batch_release", "qa1") in actions
    rc, out, err = st.cli("admin", "audit", "verify")
    assert rc == 0, out + err  # the chain holds every shipping entry
