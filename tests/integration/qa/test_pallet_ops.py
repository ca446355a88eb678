"""Pallet operations on the store, no run on (`station pallet …` on the store, issue 16 point 3):
close now, hold and resume by a case code, clear, merge with its capacity refusal, the roles and
the e-signature, batch close of held pallets, and `station check` after all of it.

Pallets hold 5 cases here; the cases are linked through the runner's own LineStore.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from sqlalchemy import select

from station.codes import pools
from station.config import load_settings
from station.line.store import LineStore
from station.store import batches
from station.store.db import make_engine
from station.store.lifecycle import State
from station.store.models import AuditEntry, Code, Link

_codes, _links, _audit = Code.__table__, Link.__table__, AuditEntry.__table__
CAP = 5


@pytest.fixture
def line(station_dir: Path, cli, db_url: str):
    """A released batch, 40 case codes and SSCC pallets (on SQLite, and on PostgreSQL);
    returns (settings, engine, batch)."""
    cfg = station_dir / "config.toml"
    text = cfg.read_text(encoding="utf-8").replace("capacity = 20", f"capacity = {CAP}")
    text = re.sub(r'^database = ".*"$', f'database = "{db_url}"', text, flags=re.M)
    cfg.write_text(text, encoding="utf-8")
    s = load_settings(cfg)
    engine = make_engine(s.database_url)
    pools.generate(engine, s, "case", 40, "random", user="t")
    pools.generate(engine, s, "pallet", 10, "sscc", user="t")
    b = batches.create(engine, s, product="WATER-550", lot="P1", quantity=100, user="t")
    yield s, engine, b.id
    engine.dispose()


def stack(engine, batch: str, n: int, status: str = "open") -> tuple[str, list[str]]:
    """A pallet with `n` cases linked as the runner links them; its status `status`."""
    st = LineStore(engine, batch, "WATER-550", "t")
    (p,) = st.reserve("pallet", 1)
    st.move(p, State.PRINTED)
    st.move(p, State.VERIFIED)
    cases = st.reserve("case", n)
    for c in cases:
        st.move(c, State.PRINTED)
        st.move(c, State.VERIFIED)
        st.link(p, c)
    st.container(p, status, n)
    st.flush()
    st.close_reader()
    return p.code, [c.code for c in cases]


def row(engine, code: str):
    with engine.connect() as conn:
        return conn.execute(select(_codes).where(_codes.c.code == code)).one()


def kids(engine, code: str) -> list[str]:
    with engine.connect() as conn:
        pid = conn.execute(select(_codes.c.id).where(_codes.c.code == code)).scalar_one()
        return list(conn.execute(select(_codes.c.code).where(_codes.c.parent_id == pid)).scalars())


def trail(engine, action: str) -> list:
    with engine.connect() as conn:
        return conn.execute(select(_audit).where(_audit.c.action == action)).all()


def test_close_now_closes_the_open_pallet_partial_and_prints_its_label(line, cli, station_dir):
    from drivers.labels.sim import SimZplPrinter

    _s, engine, batch = line
    pallet, _cases = stack(engine, batch, 3)
    with SimZplPrinter() as printer:
        cfg = station_dir / "config.toml"
        text = cfg.read_text(encoding="utf-8")
        cfg.write_text(text.replace("tcp://127.0.0.1:19103", printer.url))
        r = cli("pallet", "close", "--json")
        label = printer.pop_label()
    assert r.rc == 0, r.err
    got = r.json
    assert got["pallet"] == pallet and got["status"] == "partial" and got["cases"] == 3
    assert got["via"] == "store" and got["printed"] is True
    assert label is not None and pallet[2:] in label.replace("(00) ", "")  # the SSCC's digits
    p = row(engine, pallet)
    assert (p.container_status, p.child_count) == ("partial", 3)
    (entry,) = trail(engine, "pallet.close")
    assert (entry.subject, entry.old, entry.new, entry.user) == (pallet, "open", "partial", "setup")
    r = cli("pallet", "close")  # nothing open any more: said, exit 2
    assert r.rc == 2 and "no pallet is open" in r.err
    assert cli("check").rc == 0


def test_close_without_a_labeler_still_closes_and_says_how_to_reprint(line, cli) -> None:
    _s, engine, batch = line
    pallet, _ = stack(engine, batch, 2)
    r = cli("pallet", "close", pallet)  # nobody listens on the configured labeler's port
    assert r.rc == 0, r.err
    assert row(engine, pallet).container_status == "partial"
    assert f"station qa relabel {pallet}" in r.err


def test_hold_parks_the_pallet_and_a_case_code_resumes_it(line, cli) -> None:
    _s, engine, batch = line
    pallet, cases = stack(engine, batch, 2)
    r = cli("pallet", "hold", "--json")
    assert r.rc == 0, r.err
    assert r.json["status"] == "held" and r.json["cases"] == 2
    # A restart reopens only open containers: the held pallet waits.
    st = LineStore(engine, batch, "WATER-550", "t")
    assert [c.code for c in st.open_containers()] == []
    listed = cli("pallet", "list", "--json").json["pallets"]
    assert [(p["code"], p["status"], p["cases"]) for p in listed] == [(pallet, "held", 2)]
    # The line went on with another pallet; resume by a case of the held one swaps them.
    other, _ = stack(engine, batch, 1)
    r = cli("pallet", "resume", cases[1], "--json")
    assert r.rc == 0, r.err
    assert (r.json["pallet"], r.json["held"], r.json["status"]) == (pallet, other, "open")
    assert [c.code for c in st.open_containers()] == [pallet]
    assert row(engine, other).container_status == "held"
    assert [e.subject for e in trail(engine, "pallet.hold")] == [pallet, other]
    (resumed,) = trail(engine, "pallet.resume")
    assert (resumed.subject, resumed.old, resumed.new) == (pallet, "held", "open")
    # Resuming the open one changes nothing; a loose code is refused with what to scan.
    assert cli("pallet", "resume", pallet, "--json").json["changed"] is False
    r = cli("pallet", "resume", "NOT-A-CODE")
    assert r.rc == 2 and "not known" in r.err
    # Closing the batch closes the held pallet too (partial), and the check agrees.
    assert cli("batch", "close", batch).rc == 0
    assert row(engine, other).container_status == "partial"
    assert cli("check", "--json").json["ok"] is True
    st.close_reader()


def test_clear_takes_the_cases_off_and_retires_the_pallet_code(line, cli) -> None:
    _s, engine, batch = line
    pallet, cases = stack(engine, batch, 4)
    r = cli("pallet", "clear", "--reason", "stacked crooked", "--json")
    assert r.rc == 0, r.err
    assert sorted(r.json["cases"]) == sorted(cases)
    p = row(engine, pallet)
    assert (p.state, p.container_status, p.child_count) == ("decommissioned", "retired", 0)
    assert p.reason == "pallet_cleared"
    for c in cases:  # free to be stacked again
        cr = row(engine, c)
        assert (cr.state, cr.parent_id) == ("verified", None)
    with engine.connect() as conn:
        deletes = conn.execute(
            select(_links).where(_links.c.action == "delete", _links.c.parent_id == p.id)
        ).all()
    assert len(deletes) == 4
    assert [e.new for e in trail(engine, "esign") if e.subject == pallet] == ["clear"]
    assert cli("check").rc == 0
    # A retired code is never a pallet again; a closed pallet is QA's (unpack), not clear's.
    assert cli("pallet", "resume", pallet).rc == 2
    closed, _ = stack(engine, batch, 2, status="partial")
    r = cli("pallet", "clear", closed)
    assert r.rc == 2 and "station qa unpack" in r.err


def test_merge_moves_cases_within_capacity_and_refuses_more(line, cli) -> None:
    _s, engine, batch = line
    a, a_cases = stack(engine, batch, 3, status="partial")
    b, b_cases = stack(engine, batch, 2, status="partial")
    r = cli("pallet", "merge", a, b_cases[0], "--json")  # B named by a case on it
    assert r.rc == 0, r.err
    assert (r.json["cases"], r.json["status"]) == (CAP, "normal")  # full now
    assert sorted(kids(engine, a)) == sorted(a_cases + b_cases)
    rb = row(engine, b)
    assert (rb.state, rb.container_status, rb.child_count) == ("decommissioned", "retired", 0)
    ra = row(engine, a)
    assert (ra.container_status, ra.child_count) == ("normal", CAP)
    assert all(row(engine, c).state == "linked" for c in b_cases)
    # Over capacity: refused, nothing changed.
    c, c_cases = stack(engine, batch, 3, status="partial")
    d, d_cases = stack(engine, batch, 3, status="held")
    before = len(trail(engine, "link.add")), len(trail(engine, "pallet.merge"))
    r = cli("pallet", "merge", c, d, "--json")
    assert r.rc == 2 and "refused, nothing changed" in r.err and "more than" in r.err
    assert sorted(kids(engine, c)) == sorted(c_cases)
    assert sorted(kids(engine, d)) == sorted(d_cases)
    assert row(engine, d).container_status == "held"
    assert (len(trail(engine, "link.add")), len(trail(engine, "pallet.merge"))) == before
    assert cli("pallet", "merge", c, c).rc == 2  # one pallet twice
    assert cli("check", "--json").json["ok"] is True


def test_merge_refuses_pallets_of_two_batches(line, cli) -> None:
    s, engine, batch = line
    other = batches.create(engine, s, product="WATER-550", lot="P2", quantity=10, user="t")
    a, _ = stack(engine, batch, 1, status="partial")
    b, _ = stack(engine, other.id, 1, status="partial")
    r = cli("pallet", "merge", a, b)
    assert r.rc == 2 and "lots do not mix" in r.err


def test_roles_and_the_e_signature(line, cli) -> None:
    _s, engine, batch = line
    admin = {"LINESTATION_PIN": "9999"}
    assert cli("users", "add", "admin", env=admin).rc == 0
    for name, role, pin in (("op1", "operator", "3333"), ("qa1", "qa", "2222")):
        r = cli("--user", "admin", "users", "add", name, "--role", role,
                env={**admin, "LINESTATION_NEW_PIN": pin})  # fmt: skip
        assert r.rc == 0, r.err
    pallet, _ = stack(engine, batch, 2)
    op = {"LINESTATION_PIN": "3333"}
    r = cli("--user", "op1", "pallet", "clear", env=op)  # clearing takes cases apart: not theirs
    assert r.rc == 2 and "pallet.rework" in r.err
    assert row(engine, pallet).container_status == "open"
    assert cli("--user", "op1", "pallet", "hold", env=op).rc == 0  # an operator's own step
    assert trail(engine, "pallet.hold")[-1].user == "op1"
    r = cli("--user", "qa1", "pallet", "clear", pallet, env={"LINESTATION_PIN": "2222"})
    assert r.rc == 0, r.err
    sign = [e for e in trail(engine, "esign") if e.subject == pallet]
    assert [(e.user, e.new) for e in sign] == [("qa1", "clear")]
