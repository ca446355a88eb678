"""A shipment goes out after its batches, once: a batch missing from the outbox is queued first,
and a closed order whose outbox row a crash lost is queued again, only once."""

from __future__ import annotations

from station.config import load_settings
from station.ship.close import queue_missing
from station.store.db import make_engine


def test_batches_before_their_shipment_and_once(st) -> None:
    b1 = st.batches()[0]
    st.release(b1)
    pallet = st.codes(b1, "pallet")[0]
    # Its close failed to seal at close, say: no unit row, no outbox row, nothing told by it.
    st.sql("DELETE FROM upstream_told WHERE unit_id IN (SELECT id FROM upstream_units "
           "WHERE key = ?)", b1)  # fmt: skip
    st.sql("DELETE FROM upstream_units WHERE key = ?", b1)
    st.sql("DELETE FROM outbox WHERE batch_id = ?", b1)
    assert st.sql("SELECT count(*) FROM outbox WHERE batch_id = ?", b1) == [(0,)]
    assert st.cli("wh1", "ship", "create", "--order", "PO1", "--to", "DIST-A")[0] == 0
    assert st.json("wh1", "ship", "scan", "PO1", pallet)[0] == 0
    assert st.cli("wh1", "ship", "close", "PO1")[0] == 0
    ids = dict(st.sql("SELECT batch_id, id FROM outbox"))
    assert ids[b1] < ids["SHIP-PO1"]  # sent in id order: the batch first

    st.sql("DELETE FROM outbox WHERE batch_id = 'SHIP-PO1'")  # a crash between close and queue
    settings = load_settings(st.config)
    engine = make_engine(settings.database_url)
    try:
        [again] = queue_missing(engine, settings, user="wh1")
        assert again["order"] == "PO1" and again["queued"] and again["state"] == "pending"
        assert queue_missing(engine, settings, user="wh1") == []
    finally:
        engine.dispose()
    assert st.sql("SELECT count(*) FROM outbox WHERE batch_id = 'SHIP-PO1'") == [(1,)]


def test_a_release_goes_up_before_the_shipment_that_follows_it(st) -> None:
    """Released, then shipped at once: the release unit is queued ahead of the shipment."""
    b1 = st.batches()[0]
    st.release(b1)
    pallet = st.codes(b1, "pallet")[0]
    assert st.cli("wh1", "ship", "create", "--order", "PO2", "--to", "DIST-A")[0] == 0
    assert st.json("wh1", "ship", "scan", "PO2", pallet)[0] == 0
    assert st.cli("wh1", "ship", "close", "PO2")[0] == 0
    ids = dict(st.sql("SELECT batch_id, id FROM outbox"))
    assert ids[f"{b1}#R"] < ids["SHIP-PO2"], ids  # the platform hears "released" first
