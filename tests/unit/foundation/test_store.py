"""The store on SQLite and on a real PostgreSQL server: migrations, lifecycle, audit chain."""

from __future__ import annotations

import pytest
from sqlalchemy import select, text

from station.errors import TransitionError
from station.store import audit, lifecycle
from station.store.db import make_engine, schema_version
from station.store.lifecycle import State
from station.store.models import AuditEntry, Code

_codes = Code.__table__


def _add_codes(engine, n: int = 3) -> list[int]:
    with engine.begin() as conn:
        conn.execute(
            _codes.insert(),
            [{"code": f"C{i}", "level": "outer", "state": "available"} for i in range(n)],
        )
        return list(conn.execute(select(_codes.c.id).order_by(_codes.c.id)).scalars())


def test_migrations_from_empty_database(db_url: str) -> None:
    engine = make_engine(db_url, migrate=False)
    assert schema_version(engine) is None
    engine = make_engine(db_url)
    assert schema_version(engine) == "0006"
    make_engine(db_url)  # applying again is harmless
    if db_url.startswith("sqlite"):
        with engine.connect() as conn:
            assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
            assert conn.exec_driver_sql("PRAGMA synchronous").scalar() == 2  # FULL
            assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1


def test_legal_path_writes_one_audit_entry_per_transition(db_url: str) -> None:
    engine = make_engine(db_url)
    ids = _add_codes(engine)
    path = [State.RESERVED, State.PRINTED, State.VERIFIED, State.LINKED]
    with engine.begin() as conn:
        for st in path:
            lifecycle.move(conn, ids[:1], st, user="tester", reason="test", batch_id=None)
    with engine.connect() as conn:
        assert (
            conn.execute(select(_codes.c.state).where(_codes.c.id == ids[0])).scalar() == "linked"
        )
        rows = conn.execute(select(AuditEntry.__table__).order_by(AuditEntry.id)).all()
        assert [(r.old, r.new) for r in rows] == [
            ("available", "reserved"),
            ("reserved", "printed"),
            ("printed", "verified"),
            ("verified", "linked"),
        ]
        assert all(r.user == "tester" and r.subject == "C0" for r in rows)
        checked, brk = audit.verify(conn)
        assert checked == 4 and brk is None


@pytest.mark.parametrize(
    ("path", "bad"),
    [
        ([], State.PRINTED),
        ([State.RESERVED, State.VOID], State.AVAILABLE),
        ([State.RESERVED, State.VOID], State.RESERVED),
        ([State.DECOMMISSIONED], State.VERIFIED),
        ([State.RESERVED], State.LINKED),
    ],
)
def test_illegal_transitions_refused_and_nothing_changes(db_url: str, path, bad) -> None:
    engine = make_engine(db_url)
    ids = _add_codes(engine, 1)
    with engine.begin() as conn:
        for st in path:
            lifecycle.move(conn, ids, st, user="t")
    before = path[-1].value if path else "available"
    with pytest.raises(TransitionError, match=f"C0: {before} → {bad.value} is not allowed"):
        with engine.begin() as conn:
            lifecycle.move(conn, ids, bad, user="t")
    with engine.connect() as conn:
        assert conn.execute(select(_codes.c.state)).scalar() == before
        assert conn.execute(select(AuditEntry.__table__)).all().__len__() == len(path)


def test_expected_state_mismatch_is_refused(db_url: str) -> None:
    engine = make_engine(db_url)
    ids = _add_codes(engine, 2)
    with pytest.raises(TransitionError, match="changed state underneath"):
        with engine.begin() as conn:
            lifecycle.move(
                conn, ids, State.PRINTED, user="t", expect=State.RESERVED, labels=["C0", "C1"]
            )


def test_audit_chain_detects_an_edited_and_a_deleted_row(db_url: str) -> None:
    engine = make_engine(db_url)
    ids = _add_codes(engine, 5)
    with engine.begin() as conn:
        lifecycle.move(conn, ids, State.RESERVED, user="t")
        lifecycle.move(conn, ids, State.VOID, user="t", reason="crash")
    with engine.begin() as conn:
        conn.execute(text("UPDATE audit SET reason = 'nothing happened' WHERE id = 7"))
    with engine.connect() as conn:
        _, brk = audit.verify(conn)
    assert brk is not None and brk.entry_id == 7 and "edited" in brk.problem
    with engine.begin() as conn:
        conn.execute(text("UPDATE audit SET reason = 'crash' WHERE id = 7"))
        conn.execute(text("DELETE FROM audit WHERE id = 10"))
    with engine.connect() as conn:
        _, brk = audit.verify(conn)
    assert brk is not None and brk.entry_id == 10 and "deleted" in brk.problem


def test_head_revision_matches_alembic() -> None:
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    from station.store.db import MIGRATIONS, head_revision

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    assert head_revision() == ScriptDirectory.from_config(cfg).get_current_head()
