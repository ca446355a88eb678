"""Per-pallet units through the reference receiver: what upstream ends up knowing is what the
whole batch says, corrections follow what they correct, and no code is active before release."""

from __future__ import annotations

import json
import threading
from pathlib import Path

import pytest
from sqlalchemy import text
from sync_station_helpers import USER, add_pallet, palletized_batch

from station.batch import closing
from station.codes import pools
from station.qa import decisions, recode, rework
from station.ship.release import release_batch
from station.store.db import make_engine, read_engine
from station.store.lifecycle import State
from station.upstream import chain, ledger, outbox, units
from station.upstream.batchdata import batch_data
from station.upstream.fileset import write_file_set
from station.upstream.sender import push
from sync.receiver import serve
from sync.receiver.view import View, document_events, load_view
from sync.transports import EpcisCaptureTransport

CAPACITY = {"case": 24, "pallet": 20}


def whole(engine, settings, batch_id: str, folder: Path) -> View:
    """What a reference receiver knows after the whole batch, exported at once, fed to it."""
    out = folder / "export"
    write_file_set(settings, batch_data(engine, settings, batch_id), out, ["epcis-jsonld"])
    with serve(0, folder / "received", key=settings.station.signing_key.encode()) as server:
        transport = EpcisCaptureTransport(server.url, poll_interval_s=0.05)
        try:
            transport.deliver(out, batch_id)
        finally:
            transport.close()
        assert server.stored_counts() == {batch_id: 1}
    return load_view(folder / "received")


def same(a: View, b: View) -> None:
    assert a.states() == b.states()
    assert a.parents == b.parents
    assert a.pairs == b.pairs


def epc(settings, code: str) -> str:
    return settings.codes.resolver.rstrip("/") + "/code/" + code


def deliver(engine, settings, server) -> dict:
    result = push(engine, settings, user=USER, upstream=server.url, wait=True, timeout_s=60)
    assert not result["timed_out"], result
    return result


def sql(engine, query: str, **params) -> list:
    with read_engine(engine).connect() as conn:
        return conn.execute(text(query), params).all()


def test_pallets_then_the_close_tell_upstream_what_the_whole_batch_says(
    station, receiver, tmp_path: Path
) -> None:
    engine, settings = station
    b, store, _ = palletized_batch(engine, settings, pallets=3, cases=2, items=3)
    sealed = chain.discover(engine, settings)
    assert [s.key for s in sealed] == [f"{b}#P1", f"{b}#P2", f"{b}#P3"]
    assert chain.discover(engine, settings) == []  # once per pallet
    # At the close: a pallet still open (closed partial), a case on no pallet with an item
    # retired, and codes reserved but never printed (void).
    for level, n in (("pallet", 1), ("case", 2), ("outer", 5), ("inner", 2)):
        pools.generate(engine, settings, level, n, "random", user=USER)
    add_pallet(store, 1, 2, close=False)
    [case] = store.reserve("case", 1)
    outers = store.reserve("outer", 3)
    for row in [case, *outers[:2]]:
        store.move(row, State.PRINTED)
        store.move(row, State.VERIFIED)
    for row in outers[:2]:
        store.link(case, row)
    store.container(case, "normal", 2)
    store.flush()
    decisions.retire(engine, outers[0].code, user=USER, reason="dented", capacity=CAPACITY)
    summary = closing.close_batch(engine, settings, b, user=USER)
    assert summary["outbox"]["state"] == "pending" and summary["voided"] == 1
    keys = [e["batch_id"] for e in outbox.entries(engine)]
    assert keys == [f"{b}#P1", f"{b}#P2", f"{b}#P3", f"{b}#P4", b]
    close = json.loads((Path(summary["outbox"]["path"]) / "manifest.json").read_text())
    assert close["unit"] == {"batch": b, "kind": "close", "seq": 5, "previous": f"{b}#P4",
                             "pallet": None, "released": False, "reason": None}  # fmt: skip
    # Only what no pallet carried: the loose case, its two items (one retired before it was
    # ever told: commissioned and retired in one go), the void code.
    counts = {k: v for k, v in close["counts"].items() if v}
    assert counts == {"commissioned": 3, "links_added": 1, "retired": 1, "void": 1,
                      "containers": 1}  # fmt: skip
    assert close["batch_counts"]["codes_by_level"]["pallet"] == 4  # the summary: whole batch

    server = receiver(settings.station.signing_key.encode())
    deliver(engine, settings, server)
    assert server.stored_counts() == dict.fromkeys(keys, 1)
    view = load_view(server.state.store_dir)
    assert view.units == keys  # in chain order
    same(view, whole(engine, settings, b, tmp_path / "whole"))
    assert set(view.dispositions().values()) == {"inactive"}  # no prize before release


def test_corrections_follow_what_they_correct_before_and_after_the_close(
    station, receiver, tmp_path: Path
) -> None:
    engine, settings = station
    b, _, pallets = palletized_batch(engine, settings, pallets=2, cases=2, items=3)
    chain.discover(engine, settings)
    # Before the close: an item on a sent pallet gets a fresh code (码替换).
    [[item]] = sql(engine, "SELECT c.code FROM codes c JOIN codes p ON p.id = c.parent_id "
                   "WHERE p.parent_id = :pal ORDER BY c.id LIMIT 1", pal=pallets[0].id)  # fmt: skip
    pools.generate(engine, settings, "outer", 1, "random", user=USER)
    [[fresh]] = sql(engine, "SELECT code FROM codes WHERE level = 'outer' AND state = 'available'")
    recode.recode(engine, settings, item, fresh, user=USER, reason="label torn")
    with read_engine(engine).connect() as conn:
        assert b in chain.pending_corrections(conn)
    assert [s.key for s in chain.discover(engine, settings)] == [f"{b}#C1"]
    assert ledger.pending(engine) == {}
    closing.close_batch(engine, settings, b, user=USER)
    server = receiver(settings.station.signing_key.encode())
    deliver(engine, settings, server)
    # After delivery: the second pallet taken apart, then one of its cases.
    [[case]] = sql(engine, "SELECT code FROM codes WHERE parent_id = :p ORDER BY id LIMIT 1",
                   p=pallets[1].id)  # fmt: skip
    rework.unpack(engine, settings, pallets[1].code, user=USER)
    rework.unpack(engine, settings, case, user=USER)
    assert b in ledger.pending(engine)
    deliver(engine, settings, server)
    view = load_view(server.state.store_dir)
    assert view.units == [f"{b}#P1", f"{b}#P2", f"{b}#C1", b, f"{b}#C2"]
    assert view.children(epc(settings, case)) == []
    assert view.codes[epc(settings, case)]["state"] == "decommissioned"
    assert view.codes[epc(settings, item)]["state"] == "decommissioned"
    assert view.pairs.get(epc(settings, item)) is None
    same(view, whole(engine, settings, b, tmp_path / "whole"))
    doc = next((server.state.store_dir / f"{b}#C2").glob("*.jsonld"))
    kinds = [(e["type"], e["action"]) for e in document_events(doc)]
    assert kinds.index(("AggregationEvent", "DELETE")) < kinds.index(("ObjectEvent", "DELETE"))


def test_no_code_is_active_before_the_release_and_a_rejected_batch_is_decommissioned(
    station, receiver
) -> None:
    engine, settings = station
    server = receiver(settings.station.signing_key.encode())
    kept, _, _ = palletized_batch(engine, settings, pallets=2, cases=1, items=2, lot="K")
    closing.close_batch(engine, settings, kept, user=USER)
    dropped, _, _ = palletized_batch(engine, settings, pallets=1, cases=1, items=2, lot="D")
    closing.close_batch(engine, settings, dropped, user=USER)
    deliver(engine, settings, server)
    assert set(load_view(server.state.store_dir).dispositions().values()) == {"inactive"}

    release_batch(engine, kept, user="qa1")
    ledger.reject_batch(engine, dropped, user="qa1", reason="seal leak")
    with pytest.raises(Exception, match="rejected already"):
        ledger.reject_batch(engine, dropped, user="qa1", reason="again")
    deliver(engine, settings, server)
    view = load_view(server.state.store_dir)
    assert view.units[-2:] == [f"{kept}#R", f"{dropped}#X"]
    mine = {r[0]: r[1] for r in sql(engine, "SELECT code, batch_id FROM codes WHERE "
                                    "state IN ('verified', 'linked')")}  # fmt: skip
    for code, batch in mine.items():
        got = view.codes[epc(settings, code)]
        if batch == kept:
            assert got == {"state": "commissioned", "disposition": "active"}
        else:
            assert got["state"] == "decommissioned", code
    # After the release a correction commissions new codes active at once.
    [[item, case]] = sql(engine, "SELECT c.code, p.code FROM codes c JOIN codes p ON "
                         "p.id = c.parent_id WHERE c.batch_id = :b AND c.level = 'outer' "
                         "LIMIT 1", b=kept)  # fmt: skip
    pools.generate(engine, settings, "outer", 1, "random", user=USER)
    [[fresh]] = sql(engine, "SELECT code FROM codes WHERE level = 'outer' AND state = 'available'")
    recode.recode(engine, settings, item, fresh, user=USER, reason="smudged")
    deliver(engine, settings, server)
    view = load_view(server.state.store_dir)
    assert view.codes[epc(settings, fresh)] == {"state": "commissioned", "disposition": "active"}
    assert view.parents[epc(settings, fresh)] == epc(settings, case)


def test_a_crash_between_the_qa_action_and_its_unit_loses_nothing(
    station, receiver, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    engine, settings = station
    b, _, pallets = palletized_batch(engine, settings, pallets=2, cases=2, items=2)
    closing.close_batch(engine, settings, b, user=USER)
    rework.unpack(engine, settings, pallets[0].code, user=USER)  # then the station dies

    def crash(*_a, **_k):
        raise OSError("power cut")

    monkeypatch.setattr(units, "_write_told", crash)  # dies after the folder, before its row
    with pytest.raises(OSError):
        units.seal(engine, settings, b, "correction")
    monkeypatch.undo()
    assert [e["batch_id"] for e in outbox.entries(engine)][-1] == b  # nothing queued
    other = make_engine(settings.database_url)  # the station started again
    try:
        assert list(ledger.pending(other)) == [b]
        assert [s.key for s in chain.discover(other, settings)] == [f"{b}#C1"]
        assert units.clear_leftovers(settings, other, b, age_s=0) == 1  # the dead one's folder
        server = receiver(settings.station.signing_key.encode())
        deliver(other, settings, server)
        view = load_view(server.state.store_dir)
        assert view.children(epc(settings, pallets[0].code)) == []
        same(view, whole(other, settings, b, tmp_path / "whole"))
    finally:
        other.dispose()


def test_two_processes_sealing_at_once_seal_each_unit_once(station, db_url: str) -> None:
    _, settings = station
    engine = make_engine(db_url)
    b, _, _ = palletized_batch(engine, settings, pallets=4, cases=2, items=2)
    engines = [make_engine(db_url, migrate=False) for _ in range(3)]
    start = threading.Barrier(len(engines))
    errors: list[BaseException] = []

    def look(eng) -> None:
        try:
            start.wait()
            for _ in range(3):
                chain.discover(eng, settings)
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=look, args=(e,)) for e in engines]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    for e in engines:
        e.dispose()
    assert errors == []
    keys = [e["batch_id"] for e in outbox.entries(engine)]
    assert keys == [f"{b}#P{i}" for i in range(1, 5)]
    told = sql(engine, "SELECT count(*), count(DISTINCT code_id) FROM upstream_told")
    assert told[0][0] == told[0][1] == 4 * (1 + 2 * (1 + 2 * 2))  # pallet, cases, items, caps
    closing.close_batch(engine, settings, b, user=USER)
    assert [e["batch_id"] for e in outbox.entries(engine)][-1] == b
    engine.dispose()


def test_a_refused_unit_holds_its_batch_back_until_it_is_dealt_with(
    station, cli, tmp_path: Path
) -> None:
    engine, settings = station
    b, _, _ = palletized_batch(engine, settings, pallets=3, cases=1, items=2)
    closing.close_batch(engine, settings, b, user=USER)
    drop = tmp_path / "drop"
    (drop / f"{b}#P2").mkdir(parents=True)  # upstream holds another set under this key
    (drop / f"{b}#P2" / "manifest.json").write_text('{"batch_id": "other", "files": []}')
    r = cli("sync", "push", "--wait", "--upstream", str(drop), "--timeout", "60", "--json")
    assert r.rc == 1 and r.json["parked"] == [f"{b}#P2"] and not r.json["timed_out"]
    assert sorted(r.json["waiting"]) == [b, f"{b}#P3"]  # held back, in order
    assert (drop / f"{b}#P1").is_dir() and not (drop / f"{b}#P3").exists()
    status = cli("sync", "status", "--pallets", "--json").json
    by_unit = {u["unit"]: u for u in status["units"]}
    assert by_unit[f"{b}#P2"]["state"] == "parked"
    assert "different batch file set" in by_unit[f"{b}#P2"]["last_error"]
    assert by_unit[f"{b}#P3"]["waiting_behind"] == f"{b}#P2"
    text_out = cli("sync", "status", "--pallets").out
    assert f"waits for {b}#P2" in text_out and "upstream said:" in text_out

    # IT (e-signature) records that P2 went another way: the rest of the chain follows.
    assert cli("users", "add", "ivan", "--role", "it", env={"LINESTATION_NEW_PIN": "2468"}).rc == 0
    pin = {"LINESTATION_PIN": "2468"}
    bad = cli("--user", "ivan", "sync", "mark-delivered", f"{b}#P2", "--reason", "x", env={
        "LINESTATION_PIN": "0000"})  # fmt: skip
    assert bad.rc != 0 and "PIN" in bad.err  # the e-signature is the PIN again
    assert [e["state"] for e in outbox.entries(engine, [f"{b}#P2"])] == ["parked"]
    done = cli("--user", "ivan", "sync", "mark-delivered", f"{b}#P2", "--reason",
               "sent on a USB stick, receipt 17", "--json", env=pin)  # fmt: skip
    assert done.rc == 0 and done.json["was"] == "parked" and done.json["signed_by"] == "ivan"
    r = cli("--user", "ivan", "sync", "push", "--wait", "--upstream", str(drop), "--json", env=pin)
    assert r.rc == 0 and r.json["counts"] == {"acknowledged": 4}
    again = cli("--user", "ivan", "sync", "resend", f"{b}#P1", "--reason", "platform lost it",
                env=pin)  # fmt: skip
    assert again.rc == 0 and "acknowledged → pending" in again.out
    r = cli("--user", "ivan", "sync", "push", "--wait", "--upstream", str(drop), "--json", env=pin)
    assert r.rc == 0 and r.json["counts"] == {"acknowledged": 4}
    trail = sql(engine, "SELECT action, subject, user FROM audit WHERE action IN "
                "('sync.delivered_by_hand', 'sync.resend', 'esign') ORDER BY id")  # fmt: skip
    assert [tuple(t) for t in trail] == [
        ("sync.delivered_by_hand", f"{b}#P2", "ivan"), ("esign", f"{b}#P2", "ivan"),
        ("sync.resend", f"{b}#P1", "ivan"), ("esign", f"{b}#P1", "ivan"),
    ]  # fmt: skip


def test_every_kind_of_rework_after_delivery_reaches_the_receiver_as_it_stands(
    station, receiver, tmp_path: Path
) -> None:
    engine, settings = station
    b, store, pallets = palletized_batch(engine, settings, pallets=3, cases=2, items=3)
    pools.generate(engine, settings, "outer", 1, "random", user=USER)
    pools.generate(engine, settings, "inner", 1, "random", user=USER)
    spare, cap = store.reserve("outer", 1)[0], store.reserve("inner", 1)[0]
    for row in (spare, cap):  # a loose, verified item: what a replacement takes
        store.move(row, State.PRINTED)
        store.move(row, State.VERIFIED)
    store.set_fields(cap, pair_id=spare.id)
    store.set_fields(spare, pair_id=cap.id)
    store.flush()
    closing.close_batch(engine, settings, b, user=USER)
    server = receiver(settings.station.signing_key.encode())
    deliver(engine, settings, server)

    def items(pallet) -> list[str]:
        return [r[0] for r in sql(engine, "SELECT c.code FROM codes c JOIN codes p ON "
                                  "p.id = c.parent_id WHERE p.parent_id = :p ORDER BY c.id",
                                  p=pallet.id)]  # fmt: skip

    first = items(pallets[0])
    [[case0]] = sql(engine, "SELECT p.code FROM codes c JOIN codes p ON p.id = c.parent_id "
                    "WHERE c.code = :c", c=first[0])  # fmt: skip
    rework.replace_child(engine, settings, first[0], spare.code, user=USER, reason="crushed")
    decisions.retire(engine, first[1], user=USER, reason="sampled", capacity=CAPACITY)
    decisions.retire(engine, first[2], user=USER, reason="burst", destroy=True,
                     capacity=CAPACITY)  # fmt: skip
    # Merged pallets: the third pallet taken apart, its cases stacked onto the second.
    cases = [r[0] for r in sql(engine, "SELECT code FROM codes WHERE parent_id = :p",
                               p=pallets[2].id)]  # fmt: skip
    rework.unpack(engine, settings, pallets[2].code, user=USER)
    rework.aggregate(engine, settings, pallets[1].code, cases, user=USER, partial=True)
    assert list(ledger.pending(engine)) == [b]
    deliver(engine, settings, server)
    assert ledger.pending(engine) == {}
    view = load_view(server.state.store_dir)
    assert view.units[-1] == f"{b}#C1" and server.stored_counts()[f"{b}#C1"] == 1
    same(view, whole(engine, settings, b, tmp_path / "whole"))
    assert view.codes[epc(settings, first[0])]["state"] == "decommissioned"
    assert view.codes[epc(settings, first[2])]["state"] == "destroyed"
    assert view.parents[epc(settings, spare.code)] == epc(settings, case0)  # in its place
    assert view.pairs[epc(settings, cap.code)] == epc(settings, spare.code)
    assert len(view.children(epc(settings, pallets[1].code))) == 4
    doc = next((server.state.store_dir / f"{b}#C1").glob("*.jsonld"))
    events = document_events(doc)
    reasons = {e.get("ls:reason") for e in events if e["action"] == "DELETE" and
               e["type"] == "ObjectEvent"}  # fmt: skip
    assert {"crushed", "sampled", "burst", "unpacked"} <= reasons
    # Before the release nothing went active, and the correction commissioned the spare inactive.
    assert all(
        e.get("disposition") != "active"
        for u in view.units
        for e in document_events(next((server.state.store_dir / u).glob("*.jsonld")))
    )
