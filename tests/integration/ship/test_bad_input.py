"""Issue 17 point 5 on the CLI: every refusal says why and changes nothing."""

from __future__ import annotations

from sqlalchemy import select

from station.config import load_settings
from station.store import lifecycle
from station.store.db import make_engine
from station.store.lifecycle import State
from station.store.models import Code


def _scan(st, order: str, *codes: str) -> list[dict]:
    rc, r = st.json("wh1", "ship", "scan", order, *codes)
    assert rc == (1 if r["refused"] else 0), r
    return r["results"]


def _counts(st, order: str) -> tuple[int, int]:
    _rc, v = st.json("wh1", "ship", "show", order)
    return v["entries"], v["codes"]


def test_codes_that_may_not_ship(st) -> None:
    b1, b2 = st.batches()
    st.release(b1)
    assert st.cli("wh1", "ship", "create", "--order", "PO1", "--to", "DIST-A")[0] == 0
    inner = st.codes(b1, "inner")[0]
    void = st.codes(b1, "outer", "void")[0]
    held = st.codes(b1, "outer", "rejected")
    pallet2 = st.codes(b2, "pallet")[0]
    assert held, "the demo's defects leave rejected items waiting for QA"
    got = _scan(st, "PO1", "NOT-OURS-123", inner, void, pallet2, held[0])
    reasons = [r["reason"] for r in got]
    assert reasons == ["unknown", "inner", "void", "not_released", "qa_hold"]
    assert "NOT-OURS-123" in got[0]["message"] and "不是本站的码" in got[0]["message_zh"]
    assert b2 in got[3]["message"]
    # QA decommissions the rejected item: now it is refused as decommissioned.
    rc, out, err = st.cli("qa1", "qa", "decommission", held[0], "--reason", "damaged")
    assert rc == 0, out + err
    assert [r["reason"] for r in _scan(st, "PO1", held[0])] == ["decommissioned"]
    assert _counts(st, "PO1") == (0, 0)


def test_double_scans_and_containers_on_the_order(st) -> None:
    b1 = st.batches()[0]
    st.release(b1)
    pallet = st.codes(b1, "pallet")[0]
    case, other_case = st.children(pallet)
    item = st.children(case)[0]
    assert st.cli("wh1", "ship", "create", "--order", "PO1", "--to", "DIST-A")[0] == 0
    assert _scan(st, "PO1", case)[0]["ok"]
    got = _scan(st, "PO1", case, item, pallet)
    assert [r["reason"] for r in got] == ["duplicate", "inside_on_order", "child_on_order"]
    assert case in got[1]["message"]  # the item: which container brought it
    assert case in got[2]["message"]  # the pallet: which child is in the way
    # Removing the item alone is refused (it came with the case); the case goes whole.
    rc, _out, err = st.cli("wh1", "ship", "remove", "PO1", item)
    assert rc == 1 and case in err
    assert st.cli("wh1", "ship", "remove", "PO1", case)[0] == 0
    rc, _out, err = st.cli("wh1", "ship", "remove", "PO1", case)
    assert rc == 1 and "not on order PO1" in err
    assert _scan(st, "PO1", pallet)[0]["ok"]
    assert _counts(st, "PO1") == (1, 1 + 2 + len(st.children(case)) + len(st.children(other_case)))
    # A scanner's (00) SSCC form of the pallet label finds the same pallet.
    assert _scan(st, "PO1", f"(00){pallet}")[0]["reason"] == "duplicate"


def test_a_container_holding_a_code_in_qa_hold(st) -> None:
    b1 = st.batches()[0]
    st.release(b1)
    case = st.children(st.codes(b1, "pallet")[0])[0]
    item = st.children(case)[1]
    engine = make_engine(load_settings(st.config).database_url)
    with engine.begin() as conn:  # the camera rejected it inside the case: it waits for QA
        cid = conn.execute(select(Code.id).where(Code.code == item)).scalar_one()
        lifecycle.move(conn, [cid], State.REJECTED, user="line", extra={"reason": "low_grade"})
    engine.dispose()
    assert st.cli("wh1", "ship", "create", "--order", "PO1", "--to", "DIST-A")[0] == 0
    [r] = _scan(st, "PO1", case)
    assert r["reason"] == "child_qa_hold" and item in r["message"] and "low_grade" in r["message"]


def test_ranges(st) -> None:
    b1, b2 = st.batches()
    st.release(b1)
    st.release(b2)
    cases = st.codes(b1, "case")  # in the station's order, void ones among them
    live = st.codes(b1, "case", "linked")
    assert st.cli("wh1", "ship", "create", "--order", "PO1", "--to", "DIST-A")[0] == 0

    def rng(first: str, last: str) -> dict:
        _rc, r = st.json("wh1", "ship", "scan", "PO1", "--range", first, last)
        return r["results"][0]

    assert rng(live[-1], live[0])["reason"] == "range_order"
    assert rng(live[0], st.codes(b1, "outer", "linked")[-1])["reason"] == "range_levels"
    assert rng(live[0], st.codes(b2, "case", "linked")[-1])["reason"] == "range_batches"
    assert rng(live[0], "NOPE")["reason"] == "unknown"
    assert _scan(st, "PO1", live[1])[0]["ok"]  # one case of the range is on the order already
    r = rng(cases[0], cases[-1])
    assert r["reason"] == "range_refused" and live[1] in r["message"]
    assert live[1] in r["message_zh"] and "已在本单中" in r["message_zh"]  # the reasons in Chinese
    void = st.codes(b1, "case", "void")[0]
    assert rng(void, void)["reason"] == "range_empty"
    inner = st.codes(b1, "inner")
    assert rng(inner[0], inner[1])["reason"] == "inner"
    assert _counts(st, "PO1")[0] == 1  # nothing of the refused range was added
    assert st.cli("wh1", "ship", "remove", "PO1", live[1])[0] == 0
    r = rng(cases[0], cases[-1])
    assert r["ok"] and r["entries"] == live, r
    assert r["skipped"] == {"void": len(cases) - len(live)}
    assert _counts(st, "PO1")[0] == len(live)


def test_closed_orders_bad_orders_and_roles(st) -> None:
    b1 = st.batches()[0]
    st.release(b1)
    pallet, pallet2 = st.codes(b1, "pallet")
    rc, _out, err = st.cli("op1", "ship", "create", "--order", "PO1", "--to", "DIST-A")
    assert rc == 2 and "ship.manage" in err and "warehouse" in err
    for bad in ("", "a/b", " PO", "x" * 49):
        rc, _out, err = st.cli("wh1", "ship", "create", "--order", bad, "--to", "DIST-A")
        assert rc == 2 and "--order" in err, (bad, err)
    rc, _out, err = st.cli("wh1", "ship", "create", "--order", "PO1", "--to", "D", "--gln", "123")
    assert rc == 2 and "13 digits" in err
    rc, _out, err = st.cli("wh1", "ship", "create", "--order", "PO1", "--to", "D",
                          "--gln", "6901234000017")  # fmt: skip
    assert rc == 2 and "check digit" in err
    assert st.cli("wh1", "ship", "create", "--order", "PO1", "--to", "D", "--gln",
                  "6901234000016")[0] == 0  # fmt: skip
    rc, _out, err = st.cli("wh1", "ship", "create", "--order", "PO1", "--to", "D")
    assert rc == 2 and "exists already" in err
    rc, _out, err = st.cli("wh1", "ship", "close", "PO1")
    assert rc == 2 and "no codes" in err
    assert _scan(st, "PO1", pallet)[0]["ok"]
    assert st.cli("wh1", "ship", "close", "PO1")[0] == 0
    rc, _out, err = st.cli("wh1", "ship", "scan", "PO1", pallet2)
    assert rc == 1 and "PO1 is closed" in err
    rc, _out, err = st.cli("wh1", "ship", "remove", "PO1", pallet)
    assert rc == 1 and "closed" in err
    rc, r = st.json("wh1", "ship", "close", "PO1")  # again: nothing new, the same outbox entry
    assert rc == 0 and r["closed"] is False and r["outbox"]["queued"] is False
    assert st.sql("SELECT count(*) FROM outbox WHERE batch_id = 'SHIP-PO1'") == [(1,)]
    rc, _out, err = st.cli("wh1", "ship", "scan", "PO9", pallet2)
    assert rc == 2 and "PO9 does not exist" in err
    rc, _out, err = st.cli("wh1", "ship", "scan", "PO1")
    assert rc == 2 and "--range" in err
    rc, r = st.json("wh1", "ship", "list")
    assert [(o["order"], o["state"], o["gln"]) for o in r["orders"]] == [
        ("PO1", "closed", "6901234000016")]  # fmt: skip
    rc, _out, err = st.cli("wh1", "ship", "release-batch", b1)
    assert rc == 2 and "qa.sign" in err


def test_a_plant_without_qa_release_ships_completed_batches(st) -> None:
    from types import SimpleNamespace

    from station.ship import orders
    from station.ship import scan as ship_scan
    from station.ship.settings import ShipSettings
    from station.ship.texts import ShipRefused

    b1 = st.batches()[0]
    pallet, pallet2 = st.codes(b1, "pallet")
    loose = SimpleNamespace(ship=ShipSettings(require_release=False))  # [ship] of config.toml
    engine = make_engine(load_settings(st.config).database_url)
    try:
        orders.create(engine, order="PO1", to="DIST-A", gln=None, user="wh1")
        try:
            ship_scan.scan(engine, "PO1", pallet, user="wh1")  # the default: QA must release
            raise AssertionError("an unreleased batch shipped")
        except ShipRefused as exc:
            assert exc.key == "not_released"
        added = ship_scan.scan(engine, "PO1", pallet, user="wh1", settings=loose)
        assert added.entries == [pallet]
        with engine.begin() as conn:  # a batch not completed still may not ship
            conn.exec_driver_sql("UPDATE batches SET state = 'held' WHERE id = ?", (b1,))
        try:
            ship_scan.scan(engine, "PO1", pallet2, user="wh1", settings=loose)
            raise AssertionError("a held batch shipped")
        except ShipRefused as exc:
            assert exc.key == "not_released"
    finally:
        engine.dispose()
