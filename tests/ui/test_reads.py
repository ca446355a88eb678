"""What the operator sees the line read: the latest reads, alarms naming the code, a repeated
duplicate latched until acknowledged, an audited reject-counter reset, closing safely."""

from __future__ import annotations

import threading
from types import SimpleNamespace

from sqlalchemy import select

from station.events import LineStatus, RunState
from station.store.models import AuditEntry
from ui.viewmodels.line import LineViewModel
from ui.viewmodels.reads import ReadLog

_audit = AuditEntry.__table__


def _settings(*names: str):
    return SimpleNamespace(levels=[SimpleNamespace(name=n) for n in names])


def test_reads_are_bounded_newest_first_and_masked() -> None:
    log = ReadLog(_settings("inner", "case"), limit=5)  # a line that reads prize codes
    for i in range(10):
        log.on_item_verified(i, f"INNERSECRET{i:04d}")
    assert len(log.reads) == 5
    assert [r.code for r in log.reads][:2] == ["INN**********09", "INN**********08"]
    assert all(r.ok and r.level == "inner" for r in log.reads)
    log.on_case_rejected((1,), "K1", (("count_mismatch", "K1"), ("foreign_item", "X9")))
    assert [(r.code, r.level, r.reason) for r in list(log.reads)[:2]] == [
        ("**", "inner", "foreign_item"),  # a short secret code: all stars
        ("K1", "case", "count_mismatch"),
    ]


def test_three_duplicates_in_a_row_latch_an_alarm_naming_the_code() -> None:
    log = ReadLog(_settings("inner", "outer", "case", "pallet"))
    flashed, latched = [], []
    log.flashed.connect(flashed.append)
    log.escalated.connect(latched.append)
    log.on_item_rejected(1, "O1", "duplicate")
    log.on_item_rejected(2, "O2", "duplicate")
    log.on_item_verified(3, "O3")  # a good read breaks the run
    log.on_item_rejected(4, "O4", "duplicate")
    log.on_item_rejected(5, None, "no_read")  # another reason breaks it too
    assert latched == [] and [r.code for r in flashed] == ["O1", "O2", "O4", ""]
    for n in (6, 7, 8):
        log.on_item_rejected(n, f"O{n}", "duplicate")
    assert len(latched) == 1
    a = latched[0]
    assert (a.code, a.key, a.severity) == ("reads:duplicate", "repeated_reject", "alarm")
    assert dict(a.args) == {"count": "3", "reason": "duplicate", "code": "O8"}
    assert "O8" in a.message


def test_line_model_latches_resets_and_stops_safely(station) -> None:
    m = LineViewModel(station.controller)
    for n in range(3):
        m.reads.on_item_rejected(n, "DUP1", "duplicate")
    assert "reads:duplicate" in m.alarms  # until the operator acknowledges it
    m.on_status(LineStatus(state=RunState.RUNNING, batch_id=station.batch_id))
    assert "reads:duplicate" in m.alarms
    m.acknowledge("reads:duplicate")
    assert m.alarms == {}

    by = {"duplicate": 4, "low_grade": 3}
    m.on_status(LineStatus(batch_id=station.batch_id, rejected=7, rejects_by_reason=by))
    assert m.shown_rejects() == (7, by)
    m.reset_rejects("olga")
    assert m.shown_rejects() == (0, {})
    by = {"duplicate": 6, "low_grade": 3}
    m.on_status(LineStatus(batch_id=station.batch_id, rejected=9, rejects_by_reason=by))
    assert m.shown_rejects() == (2, {"duplicate": 2})
    m.on_status(LineStatus(batch_id="OTHER", rejected=1, rejects_by_reason={"no_read": 1}))
    assert m.shown_rejects() == (1, {"no_read": 1})  # a new batch counts from its own start
    with station.engine.connect() as conn:
        rows = conn.execute(select(_audit).where(_audit.c.action == "counter.reset")).all()
    assert [(r.user, r.subject, r.old, r.new, r.batch_id) for r in rows] == [
        ("olga", "rejected", "7", "0", station.batch_id)
    ]

    # safe stop: line stop (pause) then stop; the batch stays open
    ctl = station.controller
    started = threading.Event()
    ctl.line.item_verified.connect(lambda *_: started.set())
    ctl.start(station.batch_id)
    assert started.wait(60) and ctl.running
    stopped = []
    m.stopped_safely.connect(lambda: stopped.append(True))
    m.safe_stop()  # run_now: waits for the run to end
    assert stopped == [True] and not ctl.running
    assert station.batch_id in [b.id for b in ctl.released_batches()]


def test_a_box_station_names_its_level_and_its_children() -> None:
    from example_configs import ROOT

    from station.config import load_settings

    settings = load_settings(ROOT / "examples" / "preprinted-liquor.toml")
    log = ReadLog(settings)
    log.on_case_accepted((3, "box"), "BOX1")
    log.on_case_rejected((4, "case"), "CASE1", (("too_few", "CASE1"), ("foreign_item", "B9")))
    got = [(r.code, r.level, r.ok) for r in log.reads]
    assert ("BOX1", "box", True) in got
    assert ("CASE1", "case", False) in got and ("B9", "box", False) in got
