"""Replace, unpack and aggregate keep the hierarchy's invariants and record every change."""

from __future__ import annotations

from sqlalchemy import select

from station.store.models import AuditEntry, Link

from .conftest import BATCH, check_invariants, inner

CAP = {"outer": 1, "case": 4, "pallet": 2}
_links = Link.__table__
_audit = AuditEntry.__table__


def _links_of(store, code: str) -> list[str]:
    cid = store.row(code).id
    with store.engine.connect() as conn:
        rows = conn.execute(select(_links).where(_links.c.child_id == cid).order_by(_links.c.id))
        return [r.action for r in rows]


def test_replace_swaps_item_and_keeps_count(store) -> None:
    r = store.as_("qa1", "qa", "replace", "O2", "O8", "--json")
    assert r.rc == 0, r.err
    assert r.json["container"] == "C1" and r.json["old_state"] == "decommissioned"
    o2, o8, c1 = store.row("O2"), store.row("O8"), store.row("C1")
    assert o2.state == "decommissioned" and o2.parent_id is None
    assert o8.state == "linked" and o8.parent_id == c1.id
    assert c1.child_count == 4 and c1.container_status == "normal"
    assert store.row(inner(2)).state == "decommissioned"
    assert _links_of(store, "O2") == ["add", "delete"] and _links_of(store, "O8") == ["add"]
    # the new item must be verified and loose: an item of another case is refused, nothing moves
    r = store.as_("qa1", "qa", "replace", "O3", "O5")
    assert r.rc == 2 and "already_linked O5" in r.err
    assert store.row("O3").state == "linked" and store.row("O5").parent_id == store.row("C2").id
    # back to stock needs no signature
    r = store.as_("qa1", "qa", "replace", "O3", "O9", "--old-state", "verified")
    assert r.rc == 0, r.err
    assert store.row("O3").state == "verified" and store.row(inner(3)).state == "verified"
    check_invariants(store.engine, CAP)


def test_unpack_retires_or_reuses_the_container(store) -> None:
    r = store.as_("qa1", "qa", "unpack", "C2", "--json")
    assert r.rc == 0, r.err
    assert (
        sorted(r.json["children"]) == ["O5", "O6", "O7"] and r.json["container_fate"] == "retired"
    )
    c2 = store.row("C2")
    assert c2.state == "decommissioned" and c2.reason == "unpacked" and c2.child_count == 0
    for c in ("O5", "O6", "O7"):
        assert store.row(c).state == "verified" and _links_of(store, c) == ["add", "delete"]
    # C1 sits on the sealed pallet P1: undone from the top, P1 first (reused), then C1
    r = store.as_("qa1", "qa", "unpack", "C1", "--reuse")
    assert r.rc == 2 and "undo from the top" in r.err and "P1" in r.err
    assert store.row("O1").parent_id == store.row("C1").id
    r = store.as_("qa1", "qa", "unpack", "P1", "--reuse")
    assert r.rc == 0, r.err
    r = store.as_("qa1", "qa", "unpack", "C1", "--reuse")
    assert r.rc == 0, r.err
    c1, p1 = store.row("C1"), store.row("P1")
    assert (c1.state, c1.child_count, c1.container_status, c1.parent_id) == (
        "verified",
        0,
        "open",
        None,
    )
    assert p1.child_count == 0
    # the reused case takes items again, by hand, as a partial case (零箱)
    r = store.as_("qa1", "qa", "aggregate", "C1", "O5", "O6", "--partial", "--json")
    assert r.rc == 0, r.err
    assert (r.json["count"], r.json["status"]) == (2, "partial")
    r = store.as_("qa1", "qa", "unpack", "O8")
    assert r.rc == 2 and "holds no codes" in r.err
    check_invariants(store.engine, CAP)
    with store.engine.connect() as conn:
        acts = [a for (a,) in conn.execute(select(_audit.c.action).where(_audit.c.user == "qa1"))]
    assert acts.count("qa.unpack") == 3 and acts.count("link.delete") == 3 + 1 + 4


def test_aggregate_applies_the_line_rules(store) -> None:
    # too few without --partial, too many, wrong level, an inner code, a rejected code
    r = store.as_("qa1", "qa", "aggregate", "C3", "O8", "O9")
    assert r.rc == 2 and "count_mismatch C3" in r.err and "partial" in r.err
    r = store.as_("qa1", "qa", "aggregate", "C2", "O8", "O9")
    assert r.rc == 2 and "capacity C2" in r.err
    r = store.as_("qa1", "qa", "aggregate", "P1", "O8", "--partial")
    assert r.rc == 2 and "wrong_level" in r.err
    r = store.as_("qa1", "qa", "aggregate", "O8", inner(9))
    assert r.rc == 2 and "wrong_level" in r.err and inner(9) not in r.err
    r = store.as_("qa1", "qa", "aggregate", "C3", "O10", "--partial")
    assert r.rc == 2 and "rejected_code O10" in r.err
    assert store.row("C3").child_count is None and store.row("O8").parent_id is None
    # a fresh case code: partial and mixed flags set container_status
    r = store.as_("qa1", "qa", "aggregate", "C3", "O8", "O9", "--partial", "--mixed", "--json")
    assert r.rc == 0, r.err
    c3 = store.row("C3")
    assert (c3.child_count, c3.container_status, c3.batch_id) == (2, "mixed", BATCH)
    # a mixed case goes only onto a mixed pallet (2 of 2 with C1: full)
    r = store.as_("qa1", "qa", "aggregate", "P1", "C3")
    assert r.rc == 2 and "mixed_not_allowed C3" in r.err
    r = store.as_("qa1", "qa", "aggregate", "P1", "C3", "--mixed", "--json")
    assert r.rc == 0, r.err
    assert store.row("P1").container_status == "mixed" and store.row("C3").state == "linked"
    check_invariants(store.engine, CAP)


def test_rework_after_batch_close_is_recorded_with_the_batch(store) -> None:
    r = store.as_("admin", "batch", "close", BATCH)
    assert r.rc == 0, r.err
    r = store.as_("qa1", "qa", "release", "O10")
    assert r.rc == 0 and "batch is closed" in r.out
    with store.engine.connect() as conn:
        rows = conn.execute(select(_audit).where(_audit.c.action == "qa.after_close")).all()
    assert [(x.subject, x.batch_id, x.reason) for x in rows] == [(BATCH, BATCH, "release O10")]
