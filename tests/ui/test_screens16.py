"""Issue 16 on the touchscreen: the operator sees what the line reads (alarms naming the code, a
repeated duplicate latched, an audited reject reset, closing safely), work orders, and QA's
unpack-all with its count before the signature and recode. Screenshots in both languages."""

from __future__ import annotations

import threading

from PySide6.QtWidgets import QApplication
from sqlalchemy import select

from station.events import RunState
from station.store import batches
from station.store.models import AuditEntry, Code

from .conftest import PINS, login
from .test_shift import CUT, shoot, shoot_dialog

_audit = AuditEntry.__table__
_codes = Code.__table__


def _start(qtbot, w, op) -> None:
    op.start_btn.click()
    qtbot.waitUntil(lambda: op.dialog is not None and op.dialog.isVisible(), timeout=5000)
    op.dialog.ok.click()


def test_operator_reads_alarms_reset_and_safe_close(qtbot, window, station) -> None:
    w = window
    login(qtbot, w, "olga")
    op = w.screens["operator"]
    # three duplicates in a row, emitted on another thread as the runner does (the line idle, so
    # no good read comes between them): a short alarm naming the code, then a long one that
    # stays until acknowledged
    emit = station.controller.line.item_rejected.emit
    for n in range(3):
        t = threading.Thread(target=emit, args=(90000 + n, "DUP-CODE-0001", "duplicate"))
        t.start()
        t.join()
    qtbot.waitUntil(lambda: "reads:duplicate" in w.line.alarms, timeout=5000)
    assert op.flash.text() == "Outer code DUP-CODE-0001: Duplicate code"
    assert op.banner.current == "reads:duplicate"
    assert "3 rejects in a row: Duplicate code; the last code DUP-CODE-0001" in (
        op.banner.text.text()
    )

    # a batch long enough to be still running after the screenshots (2,000 items ≈ 50 s)
    big = batches.create(
        station.engine, station.settings, product=station.settings.products[0].sku,
        lot="L-LONG", quantity=2000, user="ada", batch_id="LONG-0001",
    )  # fmt: skip
    w.line.refresh_batches()
    qtbot.waitUntil(lambda: big.id in [b.id for b in w.line.batches], timeout=5000)
    w.line.select(big.id)
    _start(qtbot, w, op)
    qtbot.waitUntil(lambda: op.reads.rowCount() >= 8, timeout=30000)
    row = [op.reads.item(0, c).text() for c in range(5)]
    assert row[2] == "Outer code" and row[3] in ("OK", "NG"), row
    assert len(w.line.reads.reads) <= 200
    assert "reads:duplicate" in w.line.alarms  # the line's own snapshots do not clear it
    shoot(w, "operator_reads")
    assert not CUT, CUT
    while op.banner.isVisible():
        op.banner.ack.click()
    assert "reads:duplicate" not in w.line.alarms
    qtbot.waitUntil(lambda: w.line.status.rejected >= 1, timeout=60000)
    op.pause_btn.click()  # the batch stays on the line (paused) for what follows
    qtbot.waitUntil(lambda: w.line.status.state == RunState.PAUSED, timeout=30000)

    # the reject counter resets to zero, audited with the user
    qtbot.waitUntil(op.reset_btn.isEnabled, timeout=10000)
    op.reset_btn.click()
    qtbot.waitUntil(lambda: w.tasks.idle, timeout=5000)
    assert w.line.shown_rejects()[0] <= w.line.status.rejected
    with station.engine.connect() as conn:
        rows = conn.execute(select(_audit).where(_audit.c.action == "counter.reset")).all()
    assert [(r.user, r.subject) for r in rows] == [("olga", "rejected")]

    # closing while the batch runs asks first; Cancel keeps it running
    assert station.controller.running
    w.ask_on_close = True
    shoot_dialog(qtbot, w, "close_running", w.close, lambda: w.close_dialog)
    assert w.isVisible() and station.controller.running  # Cancel keeps it running
    w.close()
    qtbot.waitUntil(lambda: w.close_dialog.isVisible(), timeout=5000)
    w.close_dialog.ok.click()
    qtbot.waitUntil(lambda: not w.isVisible(), timeout=60000)
    assert not station.controller.running
    assert big.id in [b.id for b in station.controller.released_batches()]


def test_work_order_created_on_screen(qtbot, window, station) -> None:
    w = window
    login(qtbot, w, "ivan")  # IT manages batches (batch.manage)
    assert "orders" in [k for k, b in w.nav_buttons.items() if b.isVisible()]
    w.show_screen("orders")
    scr = w.screens["orders"]
    qtbot.waitUntil(lambda: scr.order.text() != "", timeout=5000)
    order = scr.order.text()
    assert order.startswith(station.settings.station.id + "-") and order.endswith("-0002")
    assert [r.capacity for r, _ in scr.cap_rows] == [24, 20]
    scr.create_btn.click()  # nothing filled in: refused in words
    qtbot.waitUntil(lambda: scr.message.text() != "", timeout=5000)
    assert scr.message.text() == "Enter the planned quantity (a whole number)."
    scr.quantity.setText("1200")
    scr.create_btn.click()  # no lot yet
    qtbot.waitUntil(lambda: scr.message.text() == "Enter the lot number.", timeout=5000)
    scr.lot.setText("L2026-12-07A")
    scr.order.setText("WO-0007")
    shoot(w, "orders")
    assert not CUT, CUT
    scr.create_btn.click()
    qtbot.waitUntil(lambda: "WO-0007" in [b.id for b in w.line.batches], timeout=5000)
    assert scr.message.text() == "Work order WO-0007 created: 1,200 items, released to the line."
    b = next(b for b in w.line.batches if b.id == "WO-0007")
    assert (b.lot, b.quantity, b.product_sku) == (
        "L2026-12-07A",
        1200,
        station.settings.products[0].sku,
    )


def test_qa_unpack_all_shows_the_count_then_recode(qtbot, window, station) -> None:
    ctl = station.controller
    ctl.start(station.batch_id)
    assert ctl.wait(300)
    w = window
    with station.engine.connect() as conn:
        pallet = conn.execute(
            select(_codes.c.code).where(_codes.c.level == "pallet", _codes.c.child_count > 0)
        ).scalar()
    assert pallet, "the batch closed no pallet"
    login(qtbot, w, "quinn")
    w.show_screen("qa")
    qa = w.screens["qa"]
    qa.scan_field.setText(pallet)
    qa._scanned()
    qtbot.waitUntil(lambda: w.qa.history is not None, timeout=5000)
    qa.decision_btns["unpack_tree"].click()
    shoot_dialog(qtbot, w, "qa_unpack_all", qa.sign_btn.click, lambda: qa.dialog)
    qa.dialog = None
    qa.sign_btn.click()
    qtbot.waitUntil(lambda: qa.dialog is not None and qa.dialog.isVisible(), timeout=5000)
    counts = qa.preview["counts"]
    assert set(counts) == {"case", "outer"} and 0 < counts["outer"] <= 24 * counts["case"]
    shown = qa.dialog.findChildren(type(qa.queue_caption))[1].text()
    assert f"Case code × {counts['case']}" in shown and "Outer code ×" in shown, shown
    qa.dialog.pin.setText(PINS["quinn"])
    qa.dialog.ok.click()
    qtbot.waitUntil(lambda: qa.message.text() == "Done: Unpack all.", timeout=20000)
    with station.engine.connect() as conn:
        p = conn.execute(select(_codes).where(_codes.c.code == pallet)).one()
        loose = (
            conn.execute(
                select(_codes.c.code).where(_codes.c.level == "outer", _codes.c.state == "verified")
            )
            .scalars()
            .first()
        )
        fresh = (
            conn.execute(
                select(_codes.c.code).where(
                    _codes.c.level == "outer", _codes.c.state == "available"
                )
            )
            .scalars()
            .first()
        )
    assert (p.state, p.child_count) == ("decommissioned", 0)

    qa.scan_field.setText(loose)
    qa._scanned()
    qtbot.waitUntil(lambda: w.qa.history is not None and w.qa.history.state == "verified")
    qa.decision_btns["recode"].click()
    qa.other.setText(fresh)
    shoot(w, "qa_recode")
    assert not CUT, CUT
    qa.sign_btn.click()
    qa.dialog.pin.setText(PINS["quinn"])
    qa.dialog.ok.click()
    qtbot.waitUntil(lambda: qa.message.text() == "Done: Recode.", timeout=10000)
    with station.engine.connect() as conn:
        states = dict(
            conn.execute(
                select(_codes.c.code, _codes.c.state).where(_codes.c.code.in_([loose, fresh]))
            ).all()
        )
    assert states == {loose: "decommissioned", fresh: "verified"}
    QApplication.processEvents()
