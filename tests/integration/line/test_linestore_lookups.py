"""The runner's lookups: the fast sqlite3 path agrees with the store, and sees unflushed moves."""

from __future__ import annotations

import shutil
import sqlite3
from pathlib import Path

import pytest

from station.codes import pools
from station.config import load_settings
from station.line.store import LineStore
from station.store import batches
from station.store.db import make_engine
from station.store.lifecycle import State

ROOT = Path(__file__).resolve().parents[3]
USER = "tester"


def _store(tmp_path: Path) -> tuple[LineStore, list[str]]:
    shutil.copy(ROOT / "config.toml", tmp_path / "config.toml")
    s = load_settings(tmp_path / "config.toml")
    engine = make_engine(s.database_url)
    for level, n in (("inner", 4), ("outer", 4), ("case", 1)):
        pools.generate(engine, s, level, n, "random", user=USER)
    b = batches.create(engine, s, product="WATER-550", lot="L", quantity=4, user=USER)
    store = LineStore(engine, b.id, b.product_sku, USER)
    inner = [r.code for r in store.reserve("inner", 4)]
    return store, inner


def test_a_move_queued_but_not_flushed_is_what_the_next_lookup_sees(tmp_path: Path) -> None:
    store, inner = _store(tmp_path)
    assert store._raw is not None  # SQLite: the fast path is in use
    row = store.find(inner[0])
    assert row.state == State.RESERVED.value and row.level == "inner"
    store.move(row, State.PRINTED)
    store.move(row, State.VERIFIED)
    # Not flushed: a second cap with the same inner code must not look unused.
    assert store.find(inner[0]).state == "verified"
    assert store.find_many([inner[0], inner[1]])[inner[1]].state == "reserved"
    store.flush()
    fresh = store.find(inner[0])
    assert fresh is not row and fresh.state == "verified"  # from the store itself now


def test_lookups_return_parents_and_skip_unknown_codes(tmp_path: Path) -> None:
    store, _ = _store(tmp_path)
    (case,) = store.reserve("case", 1)
    outers = store.reserve("outer", 2)
    for r in outers:
        store.move(r, State.PRINTED)
        store.move(r, State.VERIFIED)
    store.move(case, State.PRINTED)
    store.move(case, State.VERIFIED)
    for r in outers:
        store.link(case, r)
    store.flush()
    got = store.find_many([o.code for o in outers] + ["NOT-A-CODE"])
    assert set(got) == {o.code for o in outers}
    assert all(g.parent == case.code and g.state == "linked" for g in got.values())
    assert store.find("NOT-A-CODE") is None


def test_an_empty_pool_does_not_roll_back_queued_changes(tmp_path: Path) -> None:
    import pytest

    from station.line.store import PoolEmpty

    store, inner = _store(tmp_path)  # every inner code is reserved already
    row = store.find(inner[0])
    store.move(row, State.PRINTED)  # queued, not yet written
    with pytest.raises(PoolEmpty, match="no available inner codes left"):
        store.reserve("inner", 1)
    assert store.pending  # still queued, not lost with the failed reservation's transaction
    store.flush()
    assert store.find(inner[0]) is not row  # read from the store now
    assert store.find(inner[0]).state == "printed"


def test_after_the_run_the_raw_reader_is_closed_and_lookups_still_answer(tmp_path: Path) -> None:
    store, inner = _store(tmp_path)
    raw = store._raw
    store.close_reader()
    assert store._raw is None
    with pytest.raises(sqlite3.ProgrammingError):  # its file handle is released
        raw.lookup([inner[0]])
    assert store.find(inner[0]).state == "reserved"  # through the engine
    store.close_reader()  # twice is harmless
