"""The station side of sync: batch data from the store, the outbox table, the commands."""

from __future__ import annotations

import selectors
import subprocess
import sys
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sync_station_helpers import USER, close_small_batch

from station.batch import closing
from station.codes import pools
from station.line.store import LineStore
from station.qa import decisions as qa
from station.store import batches
from station.store.db import make_engine
from station.store.lifecycle import State
from station.upstream import outbox
from station.upstream.batchdata import batch_data
from sync.model import final_links

CAPACITY = {"case": 24, "pallet": 20}


def test_batch_data_reads_fates_links_pairs_and_containers(station) -> None:
    engine, settings = station
    for level, n in (("outer", 7), ("inner", 5), ("case", 1)):
        pools.generate(engine, settings, level, n, "random", user=USER)
    b = batches.create(engine, settings, product="WATER-550", lot="X1", quantity=5, user=USER)
    store = LineStore(engine, b.id, b.product_sku, USER)
    [case] = store.reserve("case", 1)
    outers, inners = store.reserve("outer", 7), store.reserve("inner", 5)
    for row in [case, *outers[:5], *inners]:
        store.move(row, State.PRINTED)
        store.move(row, State.VERIFIED)
    store.move(outers[5], State.PRINTED)  # printed, never verified: rejected at close
    for inner, outer in zip(inners, outers[:5], strict=True):
        store.set_fields(inner, pair_id=outer.id)
        store.set_fields(outer, pair_id=inner.id)
        store.link(case, outer)
    store.container(case, "normal", 5)
    store.flush()  # outers[6] stays reserved: void at close
    qa.retire(engine, outers[0].code, user=USER, reason="crushed", destroy=True, capacity=CAPACITY)
    qa.retire(engine, outers[1].code, user=USER, reason="sampled", capacity=CAPACITY)
    summary = closing.close_batch(engine, settings, b.id, user=USER)
    assert summary["outbox"]["state"] == "pending"

    data = batch_data(engine, settings, b.id)
    codes = {c.code: c for c in data.codes()}
    assert codes[outers[0].code].state == "destroyed"
    assert codes[outers[0].code].reason == "crushed"
    assert codes[outers[1].code].state == "decommissioned"
    assert codes[outers[6].code].state == "void"
    assert outers[5].code not in codes  # rejected: waits for QA
    outer_states = Counter(c.state for c in codes.values() if c.level == "outer")
    assert outer_states == {"linked": 3, "destroyed": 1, "decommissioned": 1, "void": 1}
    links = list(data.links())
    assert Counter(link.action for link in links) == {"add": 5, "delete": 2}
    assert {link.child for link in final_links(data)} == {o.code for o in outers[2:5]}
    assert len(list(data.pairs())) == 5
    [box] = data.containers()
    assert (box.code, box.level, box.count) == (case.code, "case", 3)
    assert data.info.closed_at is not None and data.info.lot == "X1"

    again = outbox.queue_batch(engine, settings, b.id)
    manifest = again.path / "manifest.json"
    assert not again.created and again.path == Path(summary["outbox"]["path"])
    before = manifest.stat().st_mtime_ns
    assert outbox.queue_batch(engine, settings, b.id).id == again.id
    assert manifest.stat().st_mtime_ns == before  # a sealed set is never rewritten


def test_two_processes_never_send_the_same_entry_at_once(station, db_url: str) -> None:
    _, settings = station
    engine = make_engine(db_url)
    other = make_engine(db_url, migrate=False)  # a second process's engine
    try:
        batch = close_small_batch(engine, settings, 2)
        a = outbox.SqlOutboxStore(engine, lease_s=60)
        b = outbox.SqlOutboxStore(other, lease_s=60)
        now = datetime.now(UTC)
        [entry] = a.due(now, 10)
        assert entry.batch_id == batch and entry.state == "pending"
        assert b.due(now, 10) == []  # claimed by a
        a.mark_sending(entry.id, now)
        assert b.due(now + timedelta(seconds=59), 10) == []
        # a crashed mid-send: once its claim runs out, b picks the entry up and finishes it
        [again] = b.due(now + timedelta(seconds=61), 10)
        assert (again.id, again.state, again.attempts) == (entry.id, "sending", 1)
        b.mark_sending(again.id, now + timedelta(seconds=61))
        b.mark_acknowledged(again.id, "ack-1", now + timedelta(seconds=62))
        # a's send, long over its claim, ends in a timeout: the acknowledgement stands
        a.mark_retry(
            entry.id, "timed out", now + timedelta(seconds=70), now + timedelta(seconds=63)
        )
        [row] = outbox.entries(engine)
        assert (row["state"], row["attempts"], row["answer"]) == ("acknowledged", 2, "ack-1")
        assert a.due(now + timedelta(days=1), 10) == []
    finally:
        other.dispose()
        engine.dispose()


def test_export_command_refuses_what_it_cannot_do(station, cli, tmp_path: Path) -> None:
    engine, settings = station
    batch = close_small_batch(engine, settings, 2)
    open_batch = batches.create(
        engine, settings, product="WATER-550", lot="O", quantity=1, user=USER
    )
    r = cli("export", open_batch.id, "--format", "csv", "--out", str(tmp_path / "o"))
    assert r.rc == 2 and "only a closed batch" in r.err
    r = cli("export", batch, "--format", "mashangfangxin", "--out", str(tmp_path / "m"))
    assert r.rc == 2 and "20 digits" in r.err  # random serials are not 码上放心 trace codes
    ok = cli(
        "export", batch, "--format", "csv", "--format", "epcis-xml", "--out", str(tmp_path / "c")
    )
    assert ok.rc == 0
    assert sorted(p.name for p in (tmp_path / "c").iterdir()) == sorted(
        [f"{batch}.relations.csv", f"{batch}.codes.csv", f"{batch}.epcis.xml", "manifest.json"]
    )
    again = cli("export", batch, "--format", "csv", "--out", str(tmp_path / "c"))
    assert again.rc == 2 and "--overwrite" in again.err


def test_station_receiver_command_and_a_folder_upstream(
    station, cli, station_dir: Path, tmp_path: Path
) -> None:
    engine, settings = station
    first, second = (close_small_batch(engine, settings, 2, lot=f"R{i}") for i in range(2))
    key = tmp_path / "key"
    key.write_text(settings.station.signing_key + "\n")
    exe = Path(sys.executable).with_name("station")
    proc = subprocess.Popen(
        [str(exe), "receiver", "--port", "0", "--store", str(tmp_path / "rx"),
         "--key-file", str(key)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        with selectors.DefaultSelector() as sel:
            sel.register(proc.stdout, selectors.EVENT_READ)
            assert sel.select(timeout=30), "the receiver printed nothing within 30 s"
        line = proc.stdout.readline()
        assert line.startswith("receiver at http://127.0.0.1:"), line
        url = line.split()[2]
        sent = cli("sync", "push", first, "--wait", "--upstream", url, "--timeout", "30")
        assert sent.rc == 0, sent.out + sent.err
    finally:
        proc.terminate()
        proc.communicate(timeout=15)  # waits, and closes the pipes (else ResourceWarning)
        assert proc.returncode == 0
    assert (tmp_path / "rx" / first / "manifest.json").is_file()

    drop = tmp_path / "drop"
    drop.mkdir()
    done = cli("sync", "push", "--wait", "--upstream", str(drop), "--json")
    assert done.rc == 0 and done.json["counts"] == {"acknowledged": 2}
    assert (drop / second / "manifest.json").is_file() and not (drop / first).exists()
