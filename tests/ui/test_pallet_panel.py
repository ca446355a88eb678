"""Issue 16 point 3 on the touchscreen: the operator screen's pallet panel (QT_QPA_PLATFORM=
offscreen). An operator holds the open pallet, resumes a held one by scanning a case on it and
closes it now; QA merges (signed) and clears (signed, a wrong PIN changes nothing). Every pallet
button is at least 15 mm square; the texts are Chinese in Chinese."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtWidgets import QApplication
from sqlalchemy import select

from station.codes import pools
from station.line.store import LineStore
from station.store.lifecycle import State
from station.store.models import Code

from .conftest import PINS, login

_codes = Code.__table__
SHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"  # the README links them


def _stack(engine, batch: str, n: int, status: str) -> tuple[str, list[str]]:
    st = LineStore(engine, batch, "WATER-550", "t")
    (p,) = st.reserve("pallet", 1)
    st.move(p, State.PRINTED)
    st.move(p, State.VERIFIED)
    cases = st.reserve("case", n)
    for c in cases:
        st.move(c, State.PRINTED)
        st.move(c, State.VERIFIED)
        st.link(p, c)
    st.container(p, status, n)
    st.flush()
    st.close_reader()
    return p.code, [c.code for c in cases]


def _status(engine, code: str) -> tuple[str, str, int]:
    with engine.connect() as conn:
        r = conn.execute(select(_codes).where(_codes.c.code == code)).one()
    return r.state, r.container_status, r.child_count


def _dialog(qtbot, panel):
    qtbot.waitUntil(lambda: panel.dialog is not None and panel.dialog.isVisible(), timeout=5000)
    return panel.dialog


def _settle(qtbot, w, panel) -> None:
    qtbot.waitUntil(lambda: w.tasks.idle and not panel.model.busy, timeout=10000)
    QApplication.processEvents()


def test_pallet_panel_operations_roles_and_touch_size(qtbot, window, station) -> None:
    w, e = window, station.engine
    pools.generate(e, station.settings, "case", 20, "random", user="t")
    pools.generate(e, station.settings, "pallet", 6, "sscc", user="t")
    a, _ = _stack(e, station.batch_id, 2, "open")
    b, b_cases = _stack(e, station.batch_id, 1, "held")
    login(qtbot, w, "olga")  # an operator
    w.show_screen("operator")
    panel = w.screens["operator"].pallets
    panel.model.refresh(station.batch_id)
    _settle(qtbot, w, panel)
    assert f"Open pallet {a}: 2 of 20 cases" in panel.info.text()
    assert f"Held: {b} (1)" in panel.info.text()
    # Touch targets: at least 15 mm on this screen, every one.
    dpi = panel.screen().physicalDotsPerInch()
    for op, btn in panel.buttons.items():
        assert btn.isVisible(), op
        assert min(btn.width(), btn.height()) / dpi * 25.4 >= 15, (op, btn.size())
    on = {op: btn.isEnabled() for op, btn in panel.buttons.items()}
    assert on == {"close": True, "hold": True, "resume": True, "clear": False, "merge": False}

    # 暂存: hold the open pallet (confirmed).
    panel.buttons["hold"].click()
    _dialog(qtbot, panel).ok.click()
    _settle(qtbot, w, panel)
    assert _status(e, a)[1] == "held"
    assert panel.message.text() == f"Pallet {a} held."
    assert not panel.buttons["close"].isEnabled()  # nothing open now
    # 提取未成垛: the handheld scans a case of held pallet b (it types, then Enter).
    panel.buttons["resume"].click()
    dlg = _dialog(qtbot, panel)
    assert [p.text() for p in dlg.picks] == [f"{a} · 2 cases", f"{b} · 1 cases"]
    qtbot.keyClicks(dlg.fields[0], b_cases[0])
    dlg.fields[0].returnPressed.emit()
    _settle(qtbot, w, panel)
    assert _status(e, b)[1] == "open"
    assert "is open again (1 cases)" in panel.message.text()
    # 强制满垛: close it now (no labeler answers here: closed, and the screen says to reprint).
    panel.buttons["close"].click()
    _dialog(qtbot, panel).ok.click()
    _settle(qtbot, w, panel)
    assert _status(e, b)[1:] == ("partial", 1)
    assert "label did not print" in panel.message.text()

    # QA: merge the held pallet onto the closed-short one, signed.
    w.session.logout()
    login(qtbot, w, "quinn")
    w.show_screen("operator")
    _settle(qtbot, w, panel)
    assert panel.buttons["merge"].isEnabled()
    panel.buttons["merge"].click()
    dlg = _dialog(qtbot, panel)
    dlg.fields[0].setText(b)
    dlg.fields[1].setText(a)
    dlg.ok.click()
    pin = _dialog(qtbot, panel)
    assert "Merge pallet" in pin.windowTitle()
    pin.pin.setText(PINS["quinn"])
    pin.ok.click()
    _settle(qtbot, w, panel)
    assert _status(e, a) == ("decommissioned", "retired", 0)
    assert _status(e, b)[1:] == ("partial", 3)
    said = panel.message.text()  # its count changed: the label prints again (no labeler here)
    assert said.startswith(f"2 cases moved onto pallet {b}; pallet {a} retired. Its label")

    # 清空垛: a wrong PIN changes nothing; the right one takes the cases off.
    c, _ = _stack(e, station.batch_id, 3, "open")
    panel.model.refresh(station.batch_id)
    _settle(qtbot, w, panel)
    for pin_text, outcome in (("0000", "open"), (PINS["quinn"], "retired")):
        panel.buttons["clear"].click()
        pin = _dialog(qtbot, panel)
        pin.pin.setText(pin_text)
        pin.ok.click()
        _settle(qtbot, w, panel)
        assert _status(e, c)[1] == outcome
    assert panel.message.text() == f"Pallet {c} cleared: 3 cases off."

    # Chinese: the same panel in the operator's language.
    SHOTS.mkdir(exist_ok=True)
    d, _ = _stack(e, station.batch_id, 4, "open")
    panel.model.refresh(station.batch_id)
    _settle(qtbot, w, panel)
    w.session.set_language("zh")
    QApplication.processEvents()
    texts = {op: btn.text() for op, btn in panel.buttons.items()}
    assert texts == {"close": "强制满垛", "hold": "暂存", "resume": "提取未成垛",
                     "clear": "清空垛", "merge": "合垛"}  # fmt: skip
    assert panel.info.text().startswith(f"当前垛 {d}")
    assert panel.message.text() == f"垛 {c} 已清空：卸下 3 箱。"  # the last outcome, in Chinese
    assert w.grab().save(str(SHOTS / "operator_pallets_zh.png"))
    w.session.set_language("en")
    QApplication.processEvents()
    assert w.grab().save(str(SHOTS / "operator_pallets_en.png"))


def test_on_a_running_line_the_runner_does_it(qtbot, window, station) -> None:
    from station.store import batches

    w = window
    big = batches.create(
        station.engine, station.settings, product=station.settings.products[0].sku,
        lot="L-PAL", quantity=2000, user="ada", batch_id="PAL-0001",
    )  # fmt: skip
    login(qtbot, w, "olga")
    w.show_screen("operator")
    op = w.screens["operator"]
    panel = op.pallets
    w.line.refresh_batches()
    qtbot.waitUntil(lambda: big.id in [b.id for b in w.line.batches], timeout=5000)
    w.line.select(big.id)
    op.start_btn.click()
    qtbot.waitUntil(lambda: op.dialog is not None and op.dialog.isVisible(), timeout=5000)
    op.dialog.ok.click()
    done: list[dict] = []
    panel.model.done.connect(lambda _op, r: done.append(r))
    try:
        # The panel follows the running line (about once a second).
        qtbot.waitUntil(lambda: panel.model.open is not None, timeout=60000)
        held = panel.model.open.code
        panel.buttons["hold"].click()
        _dialog(qtbot, panel).ok.click()
        qtbot.waitUntil(lambda: len(done) == 1, timeout=15000)
        assert (done[0]["pallet"], done[0]["via"]) == (held, "line")  # the runner's thread
        assert _status(station.engine, held)[1] == "held"
        # The line opens a new pallet; tapping the held one resumes it (the new one is held).
        m = panel.model
        qtbot.waitUntil(
            lambda: bool(m.held) and m.open is not None and m.open.code != held, timeout=60000
        )
        panel.buttons["resume"].click()
        dlg = _dialog(qtbot, panel)
        dlg.picks[0].click()
        qtbot.waitUntil(lambda: len(done) == 2, timeout=15000)
        assert (done[1]["pallet"], done[1]["via"], done[1]["status"]) == (held, "line", "open")
        assert _status(station.engine, done[1]["held"])[1] == "held"
    finally:
        w.line.stop()
        assert station.controller.wait(60)
