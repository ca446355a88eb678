"""Two handhelds scan the same pallet into two orders at once: exactly one wins, by the database.

On SQLite a writer holds the store from BEGIN, so the two scans queue; on PostgreSQL both pass
every check and both insert, and the unique code row lets exactly one through. The PostgreSQL
test makes both transactions wait at a barrier right before their insert, so the check-then-
insert window is wide open and only the constraint can decide.
"""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
from ship_helpers import build_station, run

from station.config import load_settings
from station.ship import orders
from station.ship import scan as ship_scan
from station.ship.texts import ShipRefused
from station.store.db import make_engine


def _race(config: Path, code: str, a: str, b: str) -> dict[str, object]:
    """Scan `code` into orders a and b from two threads, each with its own engine."""
    url = load_settings(config).database_url
    engines = [make_engine(url), make_engine(url)]
    start = threading.Barrier(2, timeout=60)
    out: dict[str, object] = {}

    def go(order: str, engine) -> None:
        start.wait()
        try:
            out[order] = ship_scan.scan(engine, order, code, user="wh1")
        except ShipRefused as exc:
            out[order] = exc

    threads = [
        threading.Thread(target=go, args=(o, e)) for o, e in zip((a, b), engines, strict=True)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    for e in engines:
        e.dispose()
    return out


def _one_wins(out: dict[str, object], code: str) -> None:
    won = [o for o, r in out.items() if isinstance(r, ship_scan.Added)]
    lost = [r for r in out.values() if isinstance(r, ShipRefused)]
    assert len(won) == 1 and len(lost) == 1, out
    assert lost[0].key == "already_shipped" and won[0] in str(lost[0]) and code in str(lost[0])


def _setup(config: Path, orders_: tuple[str, ...]) -> list[str]:
    settings = load_settings(config)
    engine = make_engine(settings.database_url)
    with engine.connect() as conn:
        batch_ids = [r[0] for r in conn.exec_driver_sql("SELECT id FROM batches ORDER BY id")]
        pallets = [
            r[0]
            for r in conn.exec_driver_sql(
                "SELECT code FROM codes WHERE level = 'pallet' AND batch_id IS NOT NULL ORDER BY id"
            )
        ]
    for b in batch_ids:
        assert run(config, "ship", "release-batch", b, user="qa1") == 0
    for o in orders_:
        orders.create(engine, order=o, to="DIST-" + o, gln=None, user="wh1")
    engine.dispose()
    return pallets


def test_two_handhelds_one_pallet_sqlite(st) -> None:
    pallets = _setup(st.config, ("A1", "B1"))
    for pallet in pallets:  # every pallet of both batches, each raced once
        _one_wins(_race(st.config, pallet, "A1", "B1"), pallet)


@pytest.mark.postgres
def test_two_handhelds_one_pallet_postgresql(pg_url: str, tmp_path: Path, monkeypatch) -> None:
    config = build_station(tmp_path / "pg", database=pg_url)
    pallets = _setup(config, ("A1", "B1"))
    _one_wins(_race(config, pallets[0], "A1", "B1"), pallets[0])
    # Both past every check before either inserts: the unique row alone decides.
    real, gate = ship_scan._insert, threading.Barrier(2, timeout=30)

    def insert_after_both_checked(*args, **kw):
        gate.wait()
        return real(*args, **kw)

    monkeypatch.setattr(ship_scan, "_insert", insert_after_both_checked)
    _one_wins(_race(config, pallets[1], "A1", "B1"), pallets[1])
    engine = make_engine(pg_url)
    with engine.connect() as conn:
        dupes = conn.exec_driver_sql(
            "SELECT code_id FROM shipment_codes GROUP BY code_id HAVING count(*) > 1"
        ).all()
    engine.dispose()
    assert dupes == []
