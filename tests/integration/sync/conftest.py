"""Fixtures for the station ↔ upstream tests: a station, small closed batches, a receiver."""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from station import batches, closing, pools
from station.config import Settings, load_settings
from station.db import make_engine
from station.lifecycle import State
from station.linestore import LineStore
from sync.receiver import ReceiverServer, serve

ROOT = Path(__file__).resolve().parents[3]
SCHEMAS = ROOT.parent / "shared" / "schemas" / "epcis-2.0"
USER = "t"


def set_upstream(station_dir: Path, **values: str) -> None:
    """Replace the [upstream] table of the station's config.toml."""
    cfg = station_dir / "config.toml"
    text = cfg.read_text(encoding="utf-8").split("[upstream]")[0]
    body = "".join(f'{k} = "{v}"\n' for k, v in values.items())
    cfg.write_text(text + "[upstream]\n" + body, encoding="utf-8")


@pytest.fixture
def station(station_dir: Path) -> tuple:
    """(engine, settings) of a fresh station; the engine is disposed afterwards."""
    settings = load_settings(station_dir / "config.toml")
    engine = make_engine(settings.database_url)
    yield engine, settings
    engine.dispose()


def close_small_batch(engine, settings: Settings, items: int = 4, *, lot: str = "L1") -> str:
    """A batch of `items` paired items in one case, moved through the lifecycle and closed."""
    for level, n in (("outer", items), ("inner", items), ("case", 1)):
        pools.generate(engine, settings, level, n, "random", user=USER)
    b = batches.create(engine, settings, product="WATER-550", lot=lot, quantity=items, user=USER)
    store = LineStore(engine, b.id, b.product_sku, USER)
    [case] = store.reserve("case", 1)
    outers = store.reserve("outer", items)
    inners = store.reserve("inner", items)
    for row in [case, *outers, *inners]:
        store.move(row, State.PRINTED)
        store.move(row, State.VERIFIED)
    for inner, outer in zip(inners, outers, strict=True):
        store.set_fields(inner, pair_id=outer.id)
        store.set_fields(outer, pair_id=inner.id)
        store.link(case, outer)
    store.container(case, "normal", items)
    store.flush()
    closing.close_batch(engine, settings, b.id, user=USER)
    return b.id


@pytest.fixture
def receiver(tmp_path: Path) -> Iterator[Callable[..., ReceiverServer]]:
    """Start reference receivers (stopped afterwards); kwargs go to sync.receiver.serve."""
    started: list[ReceiverServer] = []

    def start(key: bytes, port: int = 0, store: Path | None = None, **kw) -> ReceiverServer:
        server = serve(port, store or tmp_path / "received", key=key, **kw)
        started.append(server)
        return server

    yield start
    for server in started:
        server.stop()
    shutil.rmtree(tmp_path / "received", ignore_errors=True)
