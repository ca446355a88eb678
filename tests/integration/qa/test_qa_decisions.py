"""QA decisions end to end through the CLI on a small store."""

from __future__ import annotations

from sqlalchemy import select

from station.codes.masking import mask
from station.store.models import AuditEntry, Link, Reject

from .conftest import BATCH, check_invariants, inner

CAP = {"outer": 1, "case": 4, "pallet": 2}
_audit = AuditEntry.__table__
_links = Link.__table__
_rejects = Reject.__table__


def test_scan_shows_history_parent_and_masked_pair(store) -> None:
    r = store.as_("qa1", "qa", "scan", "O1")
    assert r.rc == 0, r.err
    assert "outer O1: linked" in r.out and "in case C1" in r.out
    masked = mask(inner(1), "inner")
    assert masked == "INR***********01"
    assert f"pair inner {masked}" in r.out and inner(1) not in r.out
    assert "line: state verified→linked" in r.out
    j = store.as_("qa1", "qa", "scan", inner(1), "--json").json
    assert j["code"] == masked and j["pair"] == "O1" and j["level"] == "inner"
    assert inner(1) not in store.as_("qa1", "qa", "scan", inner(1)).out
    # an admin (users.SECRET_VIEWERS) sees the prize code in full
    assert store.as_("admin", "qa", "scan", "O1", "--json").json["pair"] == inner(1)
    c = store.as_("qa1", "qa", "scan", "C1", "--json").json
    assert c["child_count"] == 4 and c["parent"] == "P1" and len(c["children"]) == 4


def test_release_then_link_again(store) -> None:
    q = store.as_("qa1", "qa", "rejects", "--json").json
    assert {(x["code"], x["reason"]) for x in q["rejects"]} == {
        ("O10", "low_grade"),
        (None, "no_read"),
        ("O11", "not_verified"),
    }
    r = store.as_("qa1", "qa", "release", "O10", "--reason", "regraded")
    assert r.rc == 0, r.err
    assert store.row("O10").state == "verified"
    with store.engine.connect() as conn:
        rej = conn.execute(select(_rejects).where(_rejects.c.read_text == "O10")).one()
    assert rej.decision == "released" and rej.decided_by == "qa1"
    q = store.as_("qa1", "qa", "rejects", "--json").json
    assert "O10" not in {x["code"] for x in q["rejects"]}
    # C2 holds 3 of 4: the released item completes it
    r = store.as_("qa1", "qa", "aggregate", "C2", "O10", "--json")
    assert r.rc == 0, r.err
    assert r.json["count"] == 4 and r.json["status"] == "normal"
    c2 = store.row("C2")
    assert c2.child_count == 4 and c2.container_status == "normal"
    assert store.row("O10").state == "linked"
    # releasing a code that is not rejected is refused
    r = store.as_("qa1", "qa", "release", "O8")
    assert r.rc == 2 and "only a rejected code can be released" in r.err
    check_invariants(store.engine, CAP)


def test_operator_refused_naming_the_role(store) -> None:
    r = store.as_("op1", "qa", "decommission", "O8", "--reason", "dented")
    assert r.rc == 2
    assert "op1 (role operator) may not qa.decide" in r.err and "admin or qa" in r.err
    assert store.row("O8").state == "verified"


def test_decommission_signed_unlinks_and_retires_pair(store) -> None:
    r = store.as_("qa1", "qa", "decommission", "O1", "--reason", "dented", "--json")
    assert r.rc == 0, r.err
    assert r.json["also_retired"] == [mask(inner(1), "inner")] and r.json["unlinked_from"] == "C1"
    o1, c1 = store.row("O1"), store.row("C1")
    assert o1.state == "decommissioned" and o1.parent_id is None and o1.reason == "dented"
    assert store.row(inner(1)).state == "decommissioned"
    assert c1.child_count == 3 and c1.container_status == "partial"
    with store.engine.connect() as conn:
        signs = conn.execute(select(_audit).where(_audit.c.action == "esign")).all()
        gone = conn.execute(select(_links).where(_links.c.action == "delete")).all()
    assert [(s.user, s.subject, s.new, s.batch_id) for s in signs] == [
        ("qa1", "O1", "decommission", BATCH)
    ]
    assert len(gone) == 1 and gone[0].user == "qa1"
    # a wrong PIN is no signature: refused, nothing changes
    r = store.as_("qa1", "qa", "decommission", "O8", "--reason", "x", pin="9999")
    assert r.rc == 2 and "wrong PIN" in r.err and store.row("O8").state == "verified"
    # a container that still holds items is not retired
    r = store.as_("qa1", "qa", "decommission", "C2", "--reason", "torn")
    assert r.rc == 2 and "unpack it first" in r.err
    check_invariants(store.engine, CAP)


def test_destroy_marks_reason_prefix(store) -> None:
    r = store.as_("qa1", "qa", "destroy", "O10", "--reason", "crushed cap")
    assert r.rc == 0, r.err
    o10 = store.row("O10")
    assert o10.state == "decommissioned" and o10.reason == "destroyed:crushed cap"
    with store.engine.connect() as conn:
        rej = conn.execute(select(_rejects).where(_rejects.c.read_text == "O10")).one()
    assert rej.decision == "destroyed"
    r = store.as_("qa1", "qa", "release", "O10")
    assert r.rc == 2 and "decommissioned" in r.err


def test_scan_of_a_foreign_code_tells_what_the_line_did(store) -> None:
    from sqlalchemy import insert

    from station.store import audit

    with store.engine.begin() as conn:
        conn.execute(
            insert(_rejects).values(
                batch_id=BATCH, read_text="ALIEN7", seq=3, reason="unknown_code", time=audit.now()
            )
        )
    r = store.as_("qa1", "qa", "scan", "ALIEN7")
    assert r.rc == 2 and "not known to this station" in r.err and "unknown_code" in r.err
    r = store.as_("qa1", "qa", "scan", "NOPE")
    assert r.rc == 2 and "read" not in r.err


def test_release_of_a_code_rejected_inside_a_case_takes_it_out(store) -> None:
    from station.store import lifecycle
    from station.store.lifecycle import State

    o4 = store.row("O4").id  # every transaction here takes the write lock: read first
    with store.engine.begin() as conn:
        lifecycle.move(conn, [o4], State.REJECTED, user="line", batch_id=BATCH)
    r = store.as_("qa1", "qa", "release", "O4", "--json")
    assert r.rc == 0 and r.json["unlinked_from"] == "C1"
    o4, c1 = store.row("O4"), store.row("C1")
    assert (o4.state, o4.parent_id) == ("verified", None)
    assert (c1.child_count, c1.container_status) == (3, "partial")
    check_invariants(store.engine, CAP)
