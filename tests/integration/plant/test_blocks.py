"""Block claims on a real PostgreSQL plant database: disjoint, audited, reserve draws from them."""

from __future__ import annotations

import threading

import pytest
from plant_helpers import ROOT, fill_pool
from sqlalchemy import func, select, text

from station.config import load_settings
from station.line.store import LineStore, PoolEmpty
from station.plant import blocks as plant
from station.store import audit, batches
from station.store.db import make_engine


def _line_settings(tmp_path, sid: str):
    cfg = (ROOT / "config.toml").read_text().replace('id = "LS-DEMO-01"', f'id = "{sid}"')
    path = tmp_path / f"{sid}.toml"
    path.write_text(cfg)
    return load_settings(path)


def test_concurrent_claims_are_disjoint_and_audited(pg_url: str) -> None:
    engine = make_engine(pg_url)
    fill_pool(engine, 20_000)
    got: dict[str, int] = {}
    errors: list[BaseException] = []

    def worker(sid: str) -> None:
        total = 0
        try:
            while n := plant.claim(engine, sid, "outer", 700, user="t"):
                total += n
        except BaseException as exc:
            errors.append(exc)
        got[sid] = total

    threads = [threading.Thread(target=worker, args=(f"L{i}",)) for i in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not errors
    assert len(got) == 6 and sum(got.values()) == 20_000
    with engine.connect() as conn:
        per = dict(conn.execute(text("SELECT holder, count(*) FROM codes GROUP BY holder")).all())
        assert per == {sid: n for sid, n in got.items() if n}
        blocks = conn.execute(select(plant.blocks)).all()
        assert sum(b.count for b in blocks) == 20_000
        assert all(sum(1 for b in blocks if b.holder == s) * 700 >= n for s, n in got.items())
        checked, brk = audit.verify(conn)
        assert brk is None and checked == len(blocks)
    assert plant.claim(engine, "L0", "outer", 10, user="t") == 0
    engine.dispose()


def test_reserve_draws_only_from_the_lines_own_block(pg_url: str, tmp_path) -> None:
    engine = make_engine(pg_url)
    total = 12 * plant.BLOCK
    fill_pool(engine, total)
    stores = []
    for sid in ("LA", "LB"):
        s = _line_settings(tmp_path, sid)
        b = batches.create(engine, s, product="WATER-550", lot="X", quantity=10, user="t")
        stores.append(LineStore(engine, b.id, b.product_sku, "t"))
    a, b = stores
    assert (a.holder, b.holder) == ("LA", "LB")
    ra = a.reserve("outer", 8)
    rb = b.reserve("outer", 8)
    assert not {r.id for r in ra} & {r.id for r in rb}
    with engine.connect() as conn:
        assert plant.held_available(conn, "LA", "outer") == plant.BLOCK - 8
        assert plant.held_available(conn, "LB", "outer") == plant.BLOCK - 8
    # LA's block ends: its next claim comes from the free pool, nothing of LB's.
    a.reserve("outer", plant.BLOCK - 8)
    assert len(a.reserve("outer", 300)) == 300
    # Another line takes every free code; LA empties its block, then finds the plant empty.
    assert plant.claim(engine, "LZ", "outer", total, user="t") > 0
    with engine.connect() as conn:
        left = plant.held_available(conn, "LA", "outer")
        assert plant.free_count(conn, "outer") == 0
    assert len(a.reserve("outer", left + 50)) == left
    with pytest.raises(PoolEmpty):
        a.reserve("outer", 1)
    with engine.connect() as conn:
        owners = conn.execute(
            select(plant.held.c.holder, func.count())
            .where(plant.held.c.state == "reserved")
            .group_by(plant.held.c.holder)
        ).all()
        assert dict(owners) == {"LA": plant.BLOCK + 300 + left, "LB": 8}
        assert plant.held_available(conn, "LB", "outer") == plant.BLOCK - 8
    assert len(b.reserve("outer", 100)) == 100
    engine.dispose()
