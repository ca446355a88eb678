"""Plant link: a line on its own SQLite claims from a real PostgreSQL plant, prints on when the
plant server is really stopped (pg_ctl), and reports back; claims and reports are idempotent."""

from __future__ import annotations

import os
import subprocess
from collections import Counter
from pathlib import Path

import pytest
from pgserver import PgServer
from plant_helpers import ROOT, fill_pool, last_json, run_station
from sqlalchemy import Engine, func, select, text

from station.batch.check import check_batches
from station.config import load_settings
from station.line.store import LineStore, PoolEmpty
from station.plant import blocks as plant
from station.plant.link import (
    PlantUnreachable,
    block_size,
    claim_to,
    local_available,
    plant_engine,
    sync_blocks,
    top_up,
)
from station.plant.link_report import chain_of, pending, report
from station.plant.link_run import PlantLink, stop_all
from station.store import audit, batches
from station.store.db import make_engine
from station.store.lifecycle import State
from station.store.models import Code, Link, Reject

_codes, _links, _rejects = Code.__table__, Link.__table__, Reject.__table__


@pytest.fixture(scope="module")
def server():
    """This module's own PostgreSQL server."""
    srv = PgServer(max_connections=50, prefix="linestation-pglink-")
    try:
        yield srv
    finally:
        srv.close()


@pytest.fixture(autouse=True)
def _no_leaked_links():
    yield
    stop_all()


def _config(tmp_path: Path, plant_url: str, sid: str) -> Path:
    cfg = (ROOT / "examples" / "line-offline.toml").read_text()
    cfg = cfg.replace('id = "LS-PLANT-C"', f'id = "{sid}"')
    cfg = cfg.replace("sqlite:///../var/plant/line-c/station.db", f"sqlite:///{tmp_path}/line.db")
    cfg = cfg.replace('data_dir = "../var/plant/line-c"', f'data_dir = "{tmp_path}/var"')
    cfg = cfg.replace("postgresql://station@127.0.0.1:5432/linestation", plant_url)
    path = tmp_path / "line.toml"
    path.write_text(cfg)
    return path


def _station(*args: str, timeout: float = 180) -> subprocess.CompletedProcess:
    env = {
        k: v for k, v in os.environ.items() if k not in ("LINESTATION_DATABASE", "LINESTATION_USER")
    }
    return run_station(*args, env=env, timeout=timeout)


def _story(engine: Engine, batch_id: str) -> dict:
    """A batch as both stores must tell it: codes (state, parent, container), links, rejects."""
    p, ch = _codes.alias("p"), _codes.alias("ch")
    with engine.connect() as conn:
        codes = {
            r.code: (r.level, r.state, r.parent, r.container_status, r.child_count, r.seq)
            for r in conn.execute(
                select(
                    _codes.c.code,
                    _codes.c.level,
                    _codes.c.state,
                    p.c.code.label("parent"),
                    _codes.c.container_status,
                    _codes.c.child_count,
                    _codes.c.seq,
                )
                .select_from(_codes.outerjoin(p, p.c.id == _codes.c.parent_id))
                .where(_codes.c.batch_id == batch_id)
            )
        }
        links = Counter(
            tuple(r)
            for r in conn.execute(
                select(p.c.code, ch.c.code, _links.c.action)
                .join(p, p.c.id == _links.c.parent_id)
                .join(ch, ch.c.id == _links.c.child_id)
                .where(_links.c.batch_id == batch_id)
            )
        )
        rejects = Counter(
            tuple(r)
            for r in conn.execute(
                select(_codes.c.code, _rejects.c.reason, _rejects.c.seq, _rejects.c.read_text)
                .select_from(_rejects.outerjoin(_codes, _codes.c.id == _rejects.c.code_id))
                .where(_rejects.c.batch_id == batch_id)
            )
        )
    return {"codes": codes, "links": links, "rejects": rejects}


def _dump(engine: Engine) -> tuple:
    """Everything a report may touch in the plant, to prove a second report changes nothing."""
    with engine.connect() as conn:
        return tuple(
            conn.execute(text(q)).all()
            for q in (
                "SELECT * FROM codes ORDER BY id",
                "SELECT * FROM links ORDER BY id",
                "SELECT * FROM rejects ORDER BY id",
                "SELECT * FROM batches ORDER BY id",
                "SELECT * FROM audit ORDER BY id",
                "SELECT * FROM meta WHERE key NOT LIKE 'line:%' ORDER BY key",
            )
        )


def _plant_facts(peng: Engine, sid: str, batch_id: str) -> None:
    """No code of the batch held by another line; one audited claim per block; chains intact."""
    with peng.connect() as conn:
        holders = conn.execute(
            select(plant.held.c.holder, func.count())
            .where(plant.held.c.batch_id == batch_id)
            .group_by(plant.held.c.holder)
        ).all()
        assert dict(holders).keys() == {sid}
        blocks = conn.execute(select(func.count()).where(plant.blocks.c.holder == sid)).scalar_one()
        claims = conn.execute(
            text("SELECT count(*) FROM audit WHERE action = 'block.claim' AND new = :s"), {"s": sid}
        ).scalar_one()
        assert blocks >= 1 and claims == blocks
        checked, brk = audit.verify(conn)
        assert brk is None and checked > 0
        local_chain = conn.execute(
            text("SELECT count(*) FROM audit WHERE chain = :c"), {"c": chain_of(sid)}
        ).scalar_one()
        assert local_chain > 0


def test_demo_on_a_plant_link_line_claims_runs_and_reports(
    server: PgServer, tmp_path, capsys, monkeypatch
) -> None:
    from station.cli import main

    url = server.new_db()
    cfg = str(_config(tmp_path, url, "LS-LINK-A"))
    r = _station("demo", "--config", cfg, "--items", "300", "--rate", "1200", "--json")
    assert r.returncode == 0, r.stderr[-3000:] + r.stdout[-2000:]
    s = last_json(r.stdout)
    assert s["items"] == 300 and s["world_mismatches"] == 0 and s["duplicates"] == 0
    assert s["plant_link"]["reported"] and s["plant_link"]["done"], s["plant_link"]
    monkeypatch.delenv("LINESTATION_DATABASE", raising=False)
    monkeypatch.delenv("LINESTATION_USER", raising=False)
    capsys.readouterr()

    def station(*args: str) -> tuple[int, str]:
        rc = main(["--config", cfg, *args])
        return rc, capsys.readouterr().out

    rc, out = station("plant", "report", "--json")
    assert rc == 0 and {k: v for k, v in last_json(out).items() if k not in ("rounds", "done")} == {
        "batches": 0, "codes": 0, "links": 0, "rejects": 0, "audit": 0, "not_in_plant": 0,
    }  # fmt: skip
    for cmd in (("check",), ("plant", "check")):
        rc, out = station(*cmd)
        assert rc == 0 and f"{s['batch']}: OK" in out, out
    rc, out = station("plant", "status", "--json")
    assert rc == 0
    snap = last_json(out)
    line = {ln["station_id"]: ln for ln in snap["lines"]}["LS-LINK-A"]
    assert line["batch_states"] == {"completed": 1} and line["state"] == "linked"
    with make_engine(load_settings(cfg).database_url).connect() as lc:  # the line's own outbox
        mine = dict(lc.execute(text("SELECT state, count(*) FROM outbox GROUP BY state")).all())
    assert mine and line["outbox"] == mine, (line["outbox"], mine)
    assert snap["link"]["unreported"] == {"audit": 0, "links": 0, "rejects": 0}
    settings = load_settings(cfg)
    local, peng = make_engine(settings.database_url), plant_engine(settings)
    story = _story(local, s["batch"])
    assert len(story["codes"]) >= 300 and story["links"] and story["rejects"]
    assert _story(peng, s["batch"]) == story
    _plant_facts(peng, "LS-LINK-A", s["batch"])
    local.dispose()


def test_line_prints_on_while_the_plant_server_is_down_and_reports_later(
    server: PgServer, tmp_path
) -> None:
    from station.sim.demo import DemoPlan, run_demo

    url = server.new_db()
    settings = load_settings(_config(tmp_path, url, "LS-LINK-B"))
    local = make_engine(settings.database_url)
    stopped: list[int] = []

    def progress(done: int, total: int) -> None:
        if done >= 60 and not stopped:  # mid-run: the plant server really goes away
            server.stop()
            stopped.append(done)

    try:
        s = run_demo(
            local,
            settings,
            DemoPlan(300, 1, 3000, 0.03, 1, "WATER-550"),
            user="t",
            resume=False,
            on_progress=progress,
        )
        assert stopped and stopped[0] < 300
        assert s["items"] == 300 and s["world_mismatches"] == 0 and s["duplicates"] == 0
        assert s["printed"] > 200 and not s["plant_link"]["reported"]  # (fewer on a busy box)
        assert "unreachable" in s["plant_link"]["error"]
        with pytest.raises(PlantUnreachable, match="unreachable"):
            report(local, settings)
        # Blocks of a million items: what is left locally is "low"; the reporter says so.
        link = PlantLink(local, settings, user="t", block=1_000_000)
        with pytest.raises(PlantUnreachable):
            link.round()
        assert link.reachable is False
        assert any("only" in w and "outer codes left locally" in w for w in link.warnings)
        # The last pallet codes go; the next reservation finds none and the link says why.
        b2 = batches.create(local, settings, product="WATER-550", lot="L2", quantity=1, user="t")
        store = LineStore(local, b2.id, b2.product_sku, "t")
        store.reserve("pallet", local_available(local)["pallet"])
        # The line's own alarm says why, not just "import or generate more".
        with pytest.raises(PoolEmpty, match="plant database unreachable and no pallet codes"):
            store.reserve("pallet", 1)
        with pytest.raises(PlantUnreachable):
            link.round()
        assert any(
            "unreachable and no pallet codes left locally" in w and "outer " in w
            for w in link.warnings
        ), link.warnings
        assert check_batches(local, s["batch"])["ok"]
    finally:
        if stopped:
            server.start()
    r = report(local, settings)
    assert r["done"] and r["codes"] >= 300 and r["not_in_plant"] == 0
    peng = plant_engine(settings)
    assert check_batches(peng, s["batch"])["ok"], check_batches(peng, s["batch"])
    assert _story(peng, s["batch"]) == _story(local, s["batch"])
    assert pending(local, settings) == {"audit": 0, "links": 0, "rejects": 0}
    _plant_facts(peng, "LS-LINK-B", s["batch"])
    local.dispose()


def test_claims_and_reports_are_idempotent_and_survive_a_kill(server: PgServer, tmp_path) -> None:
    url = server.new_db()
    sid = "LS-LINK-C"
    settings = load_settings(_config(tmp_path, url, sid))
    local = make_engine(settings.database_url)
    peng = plant_engine(settings)
    fill_pool(peng, 3000, "outer", "O")
    fill_pool(peng, 100, "case", "C")
    # Killed between the plant's commit and the local copy: the plant holds a block for us.
    assert plant.claim(peng, sid, "outer", 700, user="t") == 700
    assert local_available(local) == {}
    assert sync_blocks(local, settings, user="t") == 700
    assert sync_blocks(local, settings, user="t") == 0
    assert local_available(local) == {"outer": 700}
    assert claim_to(local, settings, "outer", 1000, user="t", block=200) == 1000
    assert claim_to(local, settings, "case", 5, user="t", block=1000) >= 5
    with peng.connect() as conn:  # no code held twice, no code of ours in another's block
        assert plant.held_available(conn, sid, "outer") == 1000
    # Local work: print 30, verify 28 (2 rejected), pack 20 into a case.
    b = batches.create(local, settings, product="WATER-550", lot="L1", quantity=30, user="t")
    store = LineStore(local, b.id, b.product_sku, "t")
    rows = store.reserve("outer", 30)
    for i, row in enumerate(rows):
        store.move(row, State.PRINTED)
        store.set_fields(row, seq=i)
    store.reject("smudged", row=rows[0], read=None, seq=0)
    store.reject("unreadable", row=rows[1], read=None, seq=1)
    store.reject("no_read", row=None, read=None, seq=99)
    for row in rows[2:]:
        store.move(row, State.VERIFIED)
    case = store.reserve("case", 1)[0]
    store.move(case, State.PRINTED)
    store.move(case, State.VERIFIED)
    for row in rows[2:22]:
        store.link(case, row)
    store.container(case, "normal", 20)
    store.flush()
    # A report killed after its first round commits that round only; the next one resumes.
    first = report(local, settings, chunk=25, max_rounds=1)
    assert not first["done"] and first["audit"] == 25
    rest = report(local, settings, chunk=25)
    assert rest["done"] and rest["audit"] > 0
    assert check_batches(peng, b.id)["ok"], check_batches(peng, b.id)
    assert _story(peng, b.id) == _story(local, b.id)
    before = _dump(peng)
    nothing = report(local, settings)
    assert {
        k: nothing[k] for k in ("batches", "codes", "links", "rejects", "audit")
    } == dict.fromkeys(("batches", "codes", "links", "rejects", "audit"), 0)
    assert _dump(peng) == before
    with peng.connect() as conn:
        assert audit.verify(conn)[1] is None
        states = dict(
            conn.execute(
                select(_codes.c.state, func.count())
                .where(_codes.c.batch_id == b.id)
                .group_by(_codes.c.state)
            ).all()
        )
    assert states == {"rejected": 2, "linked": 20, "verified": 8 + 1}
    local.dispose()


@pytest.mark.parametrize("blocks", [1, 3])
def test_the_local_reserve_is_the_configured_number_of_blocks(
    server: PgServer, tmp_path, blocks: int
) -> None:
    path = _config(tmp_path, server.new_db(), f"LS-RES-{blocks}")
    text_ = path.read_text().replace("plant_reserve_blocks = 2", f"plant_reserve_blocks = {blocks}")
    path.write_text(text_)
    settings = load_settings(path)
    assert settings.station.plant_reserve_blocks == blocks
    local = make_engine(settings.database_url)
    have = top_up(local, settings, user="t", block=200, generate=True)
    size = block_size(settings, "outer", 200)
    assert blocks * size <= have["outer"] <= (blocks + 1) * size, (have, size)
    # Above the floor nothing is claimed; below it, one refill brings it back.
    assert top_up(local, settings, user="t", block=200, generate=True) == have
    local.dispose()
