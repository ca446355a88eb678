"""Relabel against the simulated ZPL printer over TCP; a few decisions on PostgreSQL too."""

from __future__ import annotations

import socket

from sqlalchemy import select

from drivers.labels.sim import SimZplPrinter
from station.store.models import AuditEntry

from .conftest import build, check_invariants

_audit = AuditEntry.__table__
CAP = {"outer": 1, "case": 4, "pallet": 2}


def _point_labeler(store, url: str) -> None:
    cfg = store.dir / "config.toml"
    text = cfg.read_text(encoding="utf-8")
    cfg.write_text(text.replace('url = "tcp://127.0.0.1:19102"', f'url = "{url}"'), "utf-8")


def _reprints(store) -> list:
    with store.engine.connect() as conn:
        return conn.execute(select(_audit).where(_audit.c.action == "label.reprint")).all()


def test_relabel_prints_the_same_code_and_records_it(store) -> None:
    with SimZplPrinter() as sim:
        _point_labeler(store, sim.url)
        r = store.as_("qa1", "qa", "relabel", "C1", "--json")
        assert r.rc == 0, r.err
        labels = sim.received()
    assert len(labels) == 1 and "C1" in labels[0] and "QTY 4" in labels[0]
    assert [(a.subject, a.new, a.user) for a in _reprints(store)] == [("C1", "4", "qa1")]
    assert store.as_("qa1", "qa", "relabel", "O1").rc == 2  # an item has no case label


def test_relabel_with_printer_unreachable_records_nothing(store) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    _point_labeler(store, f"tcp://127.0.0.1:{port}")
    r = store.as_("qa1", "qa", "relabel", "C1")
    assert r.rc == 2
    assert "case_labeler" in r.err and "NOT reprinted and nothing was recorded" in r.err
    assert _reprints(store) == []


def test_relabel_refused_when_printer_reports_paper_out(store) -> None:
    with SimZplPrinter() as sim:
        _point_labeler(store, sim.url)
        sim.set_fault(paper_out=True)
        r = store.as_("qa1", "qa", "relabel", "C1")
        assert r.rc == 2 and "not ready" in r.err and sim.received() == []
    assert _reprints(store) == []


def test_decisions_on_postgresql(station_dir, cli, pg_url) -> None:
    store = build(station_dir, cli, database=pg_url)
    assert store.engine.dialect.name == "postgresql"
    assert store.as_("qa1", "qa", "release", "O10").rc == 0
    r = store.as_("qa1", "qa", "replace", "O2", "O8")
    assert r.rc == 0, r.err
    r = store.as_("qa1", "qa", "unpack", "C2", "--reuse")
    assert r.rc == 0, r.err
    r = store.as_("qa1", "qa", "aggregate", "C2", "O5", "O6", "O7", "O10")
    assert r.rc == 0, r.err
    r = store.as_("qa1", "qa", "destroy", "O9", "--reason", "a very long reason " * 5)
    assert r.rc == 0, r.err
    assert store.row("O9").reason.startswith("destroyed:")
    r = store.as_("qa1", "qa", "unpack", "P1", "--cascade", "--preview", "--json")
    assert r.rc == 0 and r.json["counts"] == {"case": 1, "outer": 4}, r.err
    r = store.as_("qa1", "qa", "unpack", "P1", "--cascade")
    assert r.rc == 0, r.err
    assert store.row("C1").state == "decommissioned" and store.row("O1").parent_id is None
    check_invariants(store.engine, CAP)
    r = store.as_("qa1", "audit", "verify", "--json")
    assert r.rc == 0 and r.json["ok"]
    assert (
        store.as_("qa1", "report", "B1", "--format", "json").json["actual"] == 8
    )  # 11 - O2, O9, O11
