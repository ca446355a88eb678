"""The line store writes each code's moves in the order they happened, also when a group of the
same kind of move was opened earlier in the same window (a late printer confirmation)."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import select

from station.config import load_settings
from station.line.store import LineStore
from station.store import batches
from station.store.db import make_engine
from station.store.lifecycle import State
from station.store.models import Code

ROOT = Path(__file__).resolve().parents[2]


def test_a_late_confirmation_and_its_verify_in_one_window(tmp_path: Path) -> None:
    import shutil

    from station.codes import pools

    shutil.copy(ROOT / "config.toml", tmp_path / "config.toml")
    s = load_settings(tmp_path / "config.toml")
    engine = make_engine(s.database_url)
    try:
        pools.generate(engine, s, "outer", 4, "random", user="t")
        b = batches.create(engine, s, product="WATER-550", lot="L", quantity=4, user="t")
        st = LineStore(engine, b.id, "WATER-550", "t")
        a, late = st.reserve("outer", 2)
        st.move(a, State.PRINTED)  # confirmed in time
        st.flush()
        st.move(a, State.VERIFIED)  # opens the PRINTED → VERIFIED group of this window
        st.move(late, State.PRINTED)  # the read proved a print whose confirmation is late
        st.move(late, State.VERIFIED)  # joins the group opened above
        st.flush()
        c = Code.__table__
        with engine.connect() as conn:
            states = dict(conn.execute(select(c.c.code, c.c.state)).all())
        assert states[a.code] == states[late.code] == "verified"
        st.close_reader()
    finally:
        engine.dispose()
