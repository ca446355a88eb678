"""Top-down rework with a preview (unpack --cascade) and 码替换 (recode), on the small QA store."""

from __future__ import annotations

from sqlalchemy import func, insert, select

from station.store.models import AuditEntry, Code, Link

from .conftest import BATCH, check_invariants, inner

CAP = {"outer": 1, "case": 4, "pallet": 2}
_codes = Code.__table__
_links = Link.__table__
_audit = AuditEntry.__table__


def _count(store, table) -> int:
    with store.engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(table)).scalar_one()


def _actions(store, user: str = "qa1") -> list[str]:
    with store.engine.connect() as conn:
        rows = conn.execute(select(_audit.c.action).where(_audit.c.user == user))
        return [a for (a,) in rows]


def test_cascade_preview_changes_nothing_then_unpacks_the_tree(store) -> None:
    before = (_count(store, _audit), _count(store, _links))
    r = store.as_("qa1", "qa", "unpack", "P1", "--cascade", "--preview", "--json")
    assert r.rc == 0, r.err
    assert r.json["counts"] == {"case": 1, "outer": 4} and r.json["changed"] is False
    assert r.json["text"] == "pallet P1: 1 cases, 4 items"
    assert (_count(store, _audit), _count(store, _links)) == before
    assert store.row("C1").parent_id == store.row("P1").id
    # the plain form says what it would take apart
    r = store.as_("qa1", "qa", "unpack", "P1", "--cascade", "--preview")
    assert r.rc == 0 and "would unpack pallet P1: 1 cases, 4 items" in r.out
    # an operator may not; a wrong PIN at the e-signature changes nothing
    assert store.as_("op1", "qa", "unpack", "P1", "--cascade").rc != 0
    assert store.row("C1").parent_id is not None
    r = store.as_("qa1", "qa", "unpack", "P1", "--cascade", "--json")
    assert r.rc == 0, r.err
    assert r.json["counts"] == {"case": 1, "outer": 4} and r.json["container_fate"] == "retired"
    for c in ("P1", "C1"):
        row = store.row(c)
        assert (row.state, row.child_count, row.parent_id) == ("decommissioned", 0, None)
    for n in range(1, 5):
        row = store.row(f"O{n}")
        assert (row.state, row.parent_id) == ("verified", None)
        assert store.row(inner(n)).state == "verified"  # the pair stays with its item
    acts = _actions(store)
    assert acts.count("link.delete") == 5 and "qa.unpack" in acts and "esign" in acts
    check_invariants(store.engine, CAP)
    r = store.as_("qa1", "check", "--json")
    assert r.rc == 0 and r.json["ok"], r.json
    r = store.as_("qa1", "audit", "verify", "--json")
    assert r.rc == 0 and r.json["ok"]


def test_a_case_on_a_sealed_pallet_is_undone_from_the_top(store) -> None:
    for args in (("C1",), ("C1", "--reuse"), ("C1", "--cascade"), ("C1", "--cascade", "--preview")):
        r = store.as_("qa1", "qa", "unpack", *args)
        assert r.rc == 2, (args, r.out)
        assert "pallet P1, which is sealed" in r.err and "station qa unpack P1 --cascade" in r.err
    assert store.row("O1").parent_id == store.row("C1").id
    # reused top-down: every container stays, verified, empty and open
    r = store.as_("qa1", "qa", "unpack", "P1", "--cascade", "--reuse", "--json")
    assert r.rc == 0, r.err
    for c in ("P1", "C1"):
        row = store.row(c)
        assert (row.state, row.child_count, row.container_status) == ("verified", 0, "open")
    check_invariants(store.engine, CAP)


def test_recode_gives_a_fresh_code_in_the_same_place(store) -> None:
    with store.engine.begin() as conn:
        conn.execute(
            insert(_codes),
            [
                {"code": "O20", "level": "outer", "state": "available"},
                {"code": "C9", "level": "case", "state": "available"},
            ],
        )
    c1 = store.row("C1").id
    refusals = {
        "O2": "the new code is the old one",
        "NOPE": "in no pool",
        "O8": "already used (verified)",
        "C3": "is a case code",
    }
    for new, text in refusals.items():
        r = store.as_("qa1", "qa", "recode", "O2", new, "--reason", "label torn")
        assert r.rc == 2 and text in r.err, (new, r.err)
    assert store.row("O2").state == "linked" and store.row("O20").state == "available"
    r = store.as_("qa1", "qa", "recode", "O2", "O20", "--reason", "label torn", "--json")
    assert r.rc == 0, r.err
    assert (r.json["old"], r.json["new"], r.json["container"]) == ("O2", "O20", "C1")
    old, new = store.row("O2"), store.row("O20")
    assert (old.state, old.reason, old.parent_id, old.pair_id) == (
        "decommissioned",
        "label torn",
        None,
        None,
    )
    assert (new.state, new.parent_id, new.batch_id) == ("linked", c1, BATCH)
    assert new.pair_id == store.row(inner(2)).id and store.row(inner(2)).pair_id == new.id
    assert store.row("C1").child_count == 4
    # a container recoded keeps its contents
    r = store.as_("qa1", "qa", "recode", "C2", "C9", "--reason", "label smeared", "--json")
    assert r.rc == 0 and r.json["children"] == 3, r.err
    c9 = store.row("C9")
    assert (c9.state, c9.child_count, c9.container_status) == ("verified", 3, "partial")
    assert all(store.row(f"O{n}").parent_id == c9.id for n in (5, 6, 7))
    assert store.row("C2").state == "decommissioned"
    acts = _actions(store)
    assert acts.count("qa.recode") == 2 and acts.count("esign") == 2
    check_invariants(store.engine, CAP)
