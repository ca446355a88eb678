"""One reject per item for QA: an item rejected with nothing read, whose code the printer did use,
ends as ONE record naming that code, not a codeless record plus the lost code again."""

from __future__ import annotations

from station.qa.decisions import reject_queue


def test_codeless_rejects_get_their_lost_code(demo_batch) -> None:
    batch = demo_batch(items=600, rate=1200, defects=0.1, seed=11, lot="R1")
    summary = batch.run()
    assert summary["defects_injected"].get("missing", 0) >= 3, summary["defects_injected"]
    with batch.engine.connect() as conn:
        queue = reject_queue(conn, batch.batch_id, reveal=True)
    # Every undecided reject is listed once: as many entries as reject records, none extra.
    assert len(queue) == summary["rejected"], [q for q in queue if q["id"] is None]
    items = [q for q in queue if q["seq"] is not None]
    assert len({q["seq"] for q in items}) == len(items)  # no item twice
    # A missing print: nothing read, but the printer used a code for it; the record names it.
    no_read = [q for q in items if q["reason"] == "no_read"]
    assert no_read and all(q["code"] and q["level"] == "outer" for q in no_read), no_read
