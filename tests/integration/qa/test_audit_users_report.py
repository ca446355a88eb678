"""The audit chain catches edits and deletions; users and lock-out; the batch report."""

from __future__ import annotations

import sqlite3

from station.codes.masking import mask

from .conftest import BATCH, inner


def _db(store) -> str:
    return str(store.engine.url.database)


def test_audit_verify_names_the_edited_and_the_deleted_entry(store) -> None:
    r = store.as_("qa1", "audit", "verify", "--json")
    assert r.rc == 0 and r.json["ok"] and r.json["checked"] > 50
    with sqlite3.connect(_db(store)) as db:
        (target,) = db.execute(
            "SELECT id FROM audit WHERE subject='O10' AND new='rejected'"
        ).fetchone()
        db.execute("UPDATE audit SET new='verified' WHERE id=?", (target,))
    r = store.as_("qa1", "audit", "verify")
    assert r.rc == 1
    assert f"broken at entry {target}: fields were edited" in r.err
    j = store.as_("qa1", "audit", "verify", "--json").json
    assert j == {
        "ok": False,
        "checked": target - 1,
        "broken": {"id": target, "problem": "fields were edited after they were written"},
    }
    with sqlite3.connect(_db(store)) as db:
        db.execute("UPDATE audit SET new='rejected' WHERE id=?", (target,))
        db.execute("DELETE FROM audit WHERE id=?", (target - 5,))
    r = store.as_("qa1", "audit", "verify")
    assert r.rc == 1 and f"broken at entry {target - 5}" in r.err and "deleted" in r.err


def test_audit_show_masks_inner_codes_and_filters(store) -> None:
    r = store.as_("qa1", "audit", "show", "--batch", BATCH, "--json")
    assert r.rc == 0, r.err
    subjects = {e["subject"] for e in r.json["entries"]}
    assert mask(inner(4), "inner") in subjects and inner(4) not in r.out
    assert "O4" in subjects
    r = store.as_("admin", "audit", "show", "--batch", BATCH, "--json")
    assert inner(4) in {e["subject"] for e in r.json["entries"]}
    store.as_("qa1", "qa", "release", "O10")
    r = store.as_("qa1", "audit", "show", "--by", "qa1", "--since", "1h", "--json")
    assert {e["action"] for e in r.json["entries"]} == {"state", "qa.release"}
    r = store.as_("qa1", "audit", "show", "--since", "yesterday")
    assert r.rc == 2 and "--since" in r.err
    assert store.as_("op1", "audit", "show").rc == 2


def test_users_setup_list_disable_and_lockout(store) -> None:
    r = store.as_("qa1", "users", "list", "--json")
    assert {(u["name"], u["role"]) for u in r.json["users"]} == {
        ("admin", "admin"),
        ("qa1", "qa"),
        ("op1", "operator"),
    }
    assert store.as_("qa1", "users", "add", "x", "--role", "qa").rc == 2
    for _ in range(5):
        r = store.as_("op1", "users", "list", pin="0000")
        assert r.rc == 2
    assert "wrong PIN" in r.err
    r = store.as_("op1", "users", "list")
    assert r.rc == 2 and "locked until" in r.err and "set-pin" in r.err
    assert "locked until" in store.as_("admin", "users", "list").out
    r = store.as_("admin", "users", "set-pin", "op1", env={"LINESTATION_NEW_PIN": "4444"})
    assert r.rc == 0, r.err
    assert store.as_("op1", "users", "list", pin="4444").rc == 0
    assert store.as_("admin", "users", "disable", "op1").rc == 0
    r = store.as_("op1", "users", "list", pin="4444")
    assert r.rc == 2 and "disabled" in r.err


def test_first_user_is_admin_in_setup_mode(cli) -> None:
    r = cli("users", "list")
    assert r.rc == 0 and "setup mode" in r.out
    r = cli("users", "add", "boss", "--role", "operator", env={"LINESTATION_PIN": "5555"})
    assert r.rc == 0 and "role admin" in r.out and "setup mode is over" in r.out
    assert "setup mode" in r.err
    r = cli("users", "list", env={"LINESTATION_PIN": "5555"})
    assert r.rc == 2 and "--user" in r.err


def test_report_json_html_and_pdf(store, tmp_path) -> None:
    store.as_("qa1", "qa", "destroy", inner(9), "--reason", "cap cracked")
    store.as_("qa1", "qa", "decommission", "O11", "--reason", "smudged")
    j = store.as_("qa1", "report", BATCH, "--format", "json").json
    # destroying the inner code destroys its item: O9 goes with it
    assert (j["planned"], j["printed"], j["actual"]) == (10, 11, 8)
    assert j["rejects_by_reason"][0]["count"] == 1 and j["rejects_total"] == 2
    assert j["rejects_by_reason"][-1]["cumulative_pct"] == 100.0
    assert j["containers"]["case"] == {"normal": 1, "partial": 1}
    assert j["decommissioned"] == 2 and j["destroyed"] == 2  # O9 and O11; inner 9 and O9
    assert j["reworked"] == {"qa.decommission": 1, "qa.destroy": 1}
    assert [(s["user"], s["code"]) for s in j["signatures"]] == [
        ("qa1", mask(inner(9), "inner")),
        ("qa1", "O11"),
    ]
    out = tmp_path / "r.html"
    r = store.as_("qa1", "report", BATCH, "--out", str(out))
    assert r.rc == 0, r.err
    html = out.read_text(encoding="utf-8")
    assert (
        "<svg" in html
        and "<script" not in html
        and "http://" not in html.replace('xmlns="http://www.w3.org/2000/svg"', "")
    )
    assert mask(inner(9), "inner") in html and inner(9) not in html
    assert "Low grade" in html or "印刷等级不足" in html
    pdf = tmp_path / "r.pdf"
    r = store.as_("qa1", "report", BATCH, "--format", "pdf", "--out", str(pdf))
    assert r.rc == 0, r.err
    data = pdf.read_bytes()
    assert data[:5] == b"%PDF-" and b"/Type /Page" in data and len(data) > 10_000
    assert store.as_("op1", "report", BATCH).rc == 2


def test_qa_reads_leave_the_write_lock_to_the_line(store) -> None:
    from sqlalchemy import text

    from station.store import audit
    from station.store.db import read_engine

    with read_engine(store.engine).connect() as conn:
        assert audit.verify(conn)[1] is None
        conn.execute(text("SELECT count(*) FROM codes")).scalar()  # still inside the read
        writer = sqlite3.connect(_db(store), timeout=0)
        try:
            writer.execute("BEGIN IMMEDIATE")  # would raise 'database is locked'
            writer.execute("ROLLBACK")
        finally:
            writer.close()


def test_audit_show_limit_keeps_the_newest(store) -> None:
    store.as_("qa1", "qa", "release", "O10")
    e = store.as_("qa1", "audit", "show", "--limit", "2", "--json").json["entries"]
    assert [x["action"] for x in e] == ["state", "qa.release"] and e[0]["id"] < e[1]["id"]
    out = store.as_("qa1", "audit", "show", "--limit", "2").out
    assert "qa.release" in out.splitlines()[-1] and "O10" in out
