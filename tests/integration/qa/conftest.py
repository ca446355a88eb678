"""A small QA store: users through the CLI, a batch, codes moved through lifecycle.move.

Cases hold 4 items and pallets 2 cases here (config edited), so full and partial are cheap:
  C1: O1..O4 (normal, full), on pallet P1 (partial, 1 case)
  C2: O5..O7 (partial, 3)
  O8, O9 verified, loose;  O10 rejected (low_grade, reject row);  O11 rejected (no row)
  every outer On has its inner pair In (16 characters, masked in output)
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import Engine, insert, select, update

from station.config import load_settings
from station.store import audit, lifecycle
from station.store.db import make_engine
from station.store.lifecycle import State
from station.store.models import Code, Link, Reject

_codes = Code.__table__
_links = Link.__table__
_rejects = Reject.__table__

ADMIN_PIN, QA_PIN, OP_PIN = "1111", "2222", "3333"
BATCH = "B1"


def inner(n: int) -> str:
    """The inner (prize) code paired with outer On: 16 characters."""
    return f"INR{n:02d}SECRETXYZ{n:02d}"[:16].ljust(16, "Q")


@dataclass
class Store:
    """The built station: its folder, engine and a CLI runner per user."""

    dir: Path
    engine: Engine
    cli: object

    def as_(self, user: str, *args: str, pin: str | None = None, env: dict | None = None):
        """Run `station --user USER ARGS` with that user's PIN."""
        pins = {"admin": ADMIN_PIN, "qa1": QA_PIN, "op1": OP_PIN}
        e = {"LINESTATION_PIN": pin or pins[user], **(env or {})}
        return self.cli("--user", user, *args, env=e)

    def row(self, code: str):
        """The codes row of `code`."""
        with self.engine.connect() as conn:
            return conn.execute(select(_codes).where(_codes.c.code == code)).one()


def _small_config(station_dir: Path, database: str | None) -> None:
    cfg = station_dir / "config.toml"
    text = cfg.read_text(encoding="utf-8")
    text = text.replace("capacity = 24", "capacity = 4").replace("capacity = 20", "capacity = 2")
    if database:
        text = re.sub(r'^database = ".*"$', f'database = "{database}"', text, flags=re.M)
    cfg.write_text(text, encoding="utf-8")


def build(station_dir: Path, cli, database: str | None = None) -> Store:
    """Users, batch B1 and the codes described in the module docstring."""
    _small_config(station_dir, database)
    r = cli("users", "add", "admin", env={"LINESTATION_PIN": ADMIN_PIN})
    assert r.rc == 0, r.err
    store = Store(station_dir, None, cli)  # type: ignore[arg-type]
    for name, role, pin in (("qa1", "qa", QA_PIN), ("op1", "operator", OP_PIN)):
        r = store.as_(
            "admin", "users", "add", name, "--role", role, env={"LINESTATION_NEW_PIN": pin}
        )
        assert r.rc == 0, r.err
    r = store.as_(
        "admin",
        "batch",
        "create",
        "--product",
        "WATER-550",
        "--lot",
        "L1",
        "--quantity",
        "10",
        "--id",
        BATCH,
    )
    assert r.rc == 0, r.err
    settings = load_settings(station_dir / "config.toml")
    engine = make_engine(settings.database_url)
    store.engine = engine
    with engine.begin() as conn:
        rows = [{"code": f"O{n}", "level": "outer", "state": "available"} for n in range(1, 12)]
        rows += [{"code": inner(n), "level": "inner", "state": "available"} for n in range(1, 12)]
        rows += [{"code": c, "level": "case", "state": "available"} for c in ("C1", "C2", "C3")]
        rows += [{"code": "P1", "level": "pallet", "state": "available"}]
        conn.execute(insert(_codes), rows)
        ids = dict(conn.execute(select(_codes.c.code, _codes.c.id)).all())
        outers = [ids[f"O{n}"] for n in range(1, 12)]
        path = (State.RESERVED, State.PRINTED, State.VERIFIED)
        for st in path:
            lifecycle.move(conn, outers, st, user="line", batch_id=BATCH, extra={"batch_id": BATCH})
        inners = [ids[inner(n)] for n in range(1, 12)]
        lifecycle.move(
            conn, inners, State.VERIFIED, user="line", batch_id=BATCH, extra={"batch_id": BATCH}
        )
        for n in range(1, 12):
            o, i = ids[f"O{n}"], ids[inner(n)]
            conn.execute(update(_codes).where(_codes.c.id == o).values(pair_id=i))
            conn.execute(update(_codes).where(_codes.c.id == i).values(pair_id=o))
        cases = [ids["C1"], ids["C2"], ids["C3"], ids["P1"]]
        for st in path:
            lifecycle.move(conn, cases, st, user="line", batch_id=BATCH, extra={"batch_id": BATCH})
        _pack(conn, ids["C1"], [ids[f"O{n}"] for n in range(1, 5)], "normal")
        _pack(conn, ids["C2"], [ids[f"O{n}"] for n in range(5, 8)], "partial")
        _pack(conn, ids["P1"], [ids["C1"]], "partial")
        lifecycle.move(
            conn,
            [ids["O10"], ids["O11"]],
            State.REJECTED,
            user="line",
            batch_id=BATCH,
            extra={"reason": "low_grade"},
        )
        conn.execute(update(_codes).where(_codes.c.id == ids["O11"]).values(reason="not_verified"))
        conn.execute(
            insert(_rejects).values(
                batch_id=BATCH,
                code_id=ids["O10"],
                read_text="O10",
                reason="low_grade",
                seq=10,
                time=audit.now(),
            )
        )
        conn.execute(
            insert(_rejects).values(
                batch_id=BATCH,
                code_id=None,
                read_text=None,
                reason="no_read",
                seq=12,
                time=audit.now(),
            )
        )
    return store


def _pack(conn, parent: int, kids: list[int], status: str) -> None:
    lifecycle.move(
        conn, kids, State.LINKED, user="line", batch_id=BATCH, extra={"parent_id": parent}
    )
    conn.execute(
        insert(_links),
        [
            {
                "parent_id": parent,
                "child_id": k,
                "action": "add",
                "batch_id": BATCH,
                "time": audit.now(),
                "user": "line",
            }
            for k in kids
        ],
    )
    conn.execute(
        update(_codes)
        .where(_codes.c.id == parent)
        .values(child_count=len(kids), container_status=status)
    )


@pytest.fixture
def store(station_dir: Path, cli) -> Store:
    """The small store on SQLite."""
    return build(station_dir, cli)


def check_invariants(engine: Engine, capacity: dict[str, int]) -> None:
    """One parent per child, counts match children, levels adjacent, linked ⇔ has a parent,
    and the links history ends with `add` exactly for the links that stand."""
    order = ["outer", "case", "pallet"]
    with engine.connect() as conn:
        rows = {r.id: r for r in conn.execute(select(_codes))}
        history = conn.execute(select(_links).order_by(_links.c.id)).all()
    kids: dict[int, list[int]] = {}
    for r in rows.values():
        if r.parent_id is not None:
            kids.setdefault(r.parent_id, []).append(r.id)
            parent = rows[r.parent_id]
            assert order.index(parent.level) == order.index(r.level) + 1, (r.code, parent.code)
            assert r.state == "linked", (r.code, r.state)
        elif r.level != "inner":
            assert r.state != "linked", r.code
    for pid, ks in kids.items():
        p = rows[pid]
        assert p.child_count == len(ks), (p.code, p.child_count, len(ks))
        assert len(ks) <= capacity[p.level]
    for r in rows.values():
        if r.container_status and r.id not in kids:
            assert (r.child_count or 0) == 0, r.code
    last: dict[int, tuple[str, int]] = {}
    for h in history:
        last[h.child_id] = (h.action, h.parent_id)
    for cid, (action, pid) in last.items():
        if action == "add":
            assert rows[cid].parent_id == pid, rows[cid].code
        else:
            assert rows[cid].parent_id is None, rows[cid].code
    from station.batch.check import check_batch  # the lead's reconciliation agrees

    with engine.connect() as conn:
        assert check_batch(conn, BATCH) == []
