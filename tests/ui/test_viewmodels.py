"""View models without Qt: login, roles, language, batches, alarms, frames, QA and IT reads."""

from __future__ import annotations

import threading

from station.events import Alarm, FrameView, LineStatus, RunState
from ui.viewmodels.it import ITViewModel
from ui.viewmodels.line import LineViewModel
from ui.viewmodels.qa import QAViewModel
from ui.viewmodels.session import SessionModel
from ui.viewmodels.wedge import WedgeDetector

from .conftest import BADGE, PINS


def test_wedge_tells_a_scanner_from_a_person() -> None:
    w = WedgeDetector()
    t = 1000.0
    for ch in "BADGE0042":
        assert w.key(ch, t) is None
        t += 8  # a scanner: a few ms per character
    assert w.key("\r", t) == "BADGE0042"
    for ch in "olga":  # a person: far slower than 50 ms a key
        t += 180
        assert w.key(ch, t) is None
    assert w.key("\r", t + 200) is None
    assert w.key("AB", t + 400) is None and w.key("\r", t + 405) is None  # too short


def test_session_login_roles_and_language(station) -> None:
    s = SessionModel(station.engine, station.settings)
    seen: list = []
    s.logged_in.connect(lambda n, r: seen.append((n, r)))
    s.login_failed.connect(lambda text: seen.append(("failed", text)))
    s.login("olga", "0000")
    assert seen[-1][0] == "failed" and "wrong PIN" in seen[-1][1]
    s.login_badge(BADGE)
    assert seen[-1] == ("olga", "operator") and s.user == "olga"
    assert s.screens() == ["operator", "collect"] and not s.can("qa.decide")
    s.login("quinn", PINS["quinn"])
    assert s.screens() == ["operator", "collect", "qa"] and s.can("qa.sign") and not s.reveal
    s.login("ivan", PINS["ivan"])
    assert s.screens() == ["operator", "collect", "orders", "it"]
    s.login("ada", PINS["ada"])
    assert s.screens() == ["operator", "collect", "orders", "qa", "it"] and s.reveal
    langs: list[str] = []
    s.language_changed.connect(langs.append)
    assert s.language == "zh"  # config.toml's [station] language
    s.toggle_language()
    s.set_language("en")  # no change, no event
    assert langs == ["en"]
    s.logout()
    assert s.user is None and s.screens() == []


def test_line_model_alarms_lights_and_latest_frame(station) -> None:
    m = LineViewModel(station.controller)
    m.refresh_batches()
    assert [b.id for b in m.batches] == [station.batch_id]
    assert m.selected is not None and m.selected.id == station.batch_id
    devices = ["plc", "inkjet", "case_labeler"]
    assert set(m.device_lights(devices).values()) == {"off"}
    m.on_status(LineStatus(state=RunState.RUNNING, batch_id=station.batch_id, verified=7))
    m.on_alarm_raised(Alarm("fault:plc", "plc", "no answer", "check the cable"))
    m.on_alarm_raised(Alarm("late", "line", "item 3 late", "slow down", "warning"))
    assert m.device_lights(devices) == {"plc": "alarm", "inkjet": "ok", "case_labeler": "ok"}
    assert [a.code for a in m.sorted_alarms()] == ["fault:plc", "late"]
    m.acknowledge("fault:plc")
    assert list(m.alarms) == ["late"]
    frames = [FrameView(i, None, ()) for i in range(5)]
    workers = [threading.Thread(target=m.put_frame, args=(f,)) for f in frames]
    for t in workers:
        t.start()
    for t in workers:
        t.join()
    got = m.take_frame()
    assert got in frames and m.take_frame() is None  # only the newest is kept


def test_close_plan_lists_nothing_open_for_a_fresh_batch(station) -> None:
    m = LineViewModel(station.controller)
    m.refresh_batches()
    planned: list = []
    m.close_planned.connect(lambda b, rows: planned.append((b, rows)))
    m.plan_close()
    assert planned == [(station.batch_id, [])]


def test_qa_model_reads_and_refuses_unknown_codes(station) -> None:
    s = SessionModel(station.engine, station.settings)
    s.login("quinn", PINS["quinn"])
    q = QAViewModel(station.engine, station.settings, s)
    errors: list[str] = []
    q.message.connect(lambda kind, text: errors.append(text))
    q.refresh()
    assert q.rejects == []
    q.scan("NOT-A-CODE")
    assert q.history is None and "not known" in errors[-1]
    assert q.allowed("release") and q.allowed("decommission")
    s.login("olga", PINS["olga"])
    assert not q.allowed("release")


def test_it_model_outbox_and_device_tests_through_the_drivers(station, tmp_path) -> None:
    from drivers.camera.sim import render_code
    from station.build import on_free_ports, start_simulators
    from station.config import load_settings

    s = SessionModel(station.engine, station.settings)
    s.login("ivan", PINS["ivan"])
    it = ITViewModel(station.engine, station.settings, s)
    it.refresh()
    assert it.entries == [] and it.upstream_state() == "none"
    assert "plc" in it.devices and it.devices["plc"][1] == "untested"
    # The same devices on free ports, their simulators serving: the Test buttons' work.
    cfg = tmp_path / "config.toml"
    text = (station.dir / "config.toml").read_text(encoding="utf-8")
    cfg.write_text(on_free_ports(text), encoding="utf-8")
    settings = load_settings(cfg)
    sims = start_simulators(settings, fixed_ports=True)
    try:
        it = ITViewModel(station.engine, settings, s)
        grabbed: list = []
        it.frame_grabbed.connect(lambda: grabbed.append(it.grab))
        it.test_device("case_labeler")
        _url, state, detail = it.devices["case_labeler"]
        assert state == "ok" and "test label" in detail, detail
        assert len(sims.case_labeler.received()) == 1 and it.last_tested == "case_labeler"
        sims.verify_camera.put(1, render_code("IT-GRAB-1", size=(480, 640)))
        it.test_device("verify_camera")
        assert it.devices["verify_camera"][1] == "ok"
        (g,) = grabbed
        assert g.device == "verify_camera" and g.codes == ("IT-GRAB-1",)
        sims.pallet_labeler.set_fault(paper_out=True)
        it.test_device("pallet_labeler")
        assert it.devices["pallet_labeler"][1] == "fault"
        assert "paper" in it.devices["pallet_labeler"][2]
    finally:
        sims.stop()
    s.login("olga", PINS["olga"])  # an operator may not test devices
    errors: list[str] = []
    it.message.connect(lambda kind, text: errors.append(text))
    it.test_device("plc")
    assert errors and it.devices["plc"][1] == "untested"


def test_it_model_backs_up_the_store(station) -> None:
    import sqlite3
    from pathlib import Path

    s = SessionModel(station.engine, station.settings)
    s.login("ivan", PINS["ivan"])
    it = ITViewModel(station.engine, station.settings, s)
    got: list[dict] = []
    it.backed_up.connect(got.append)
    it.backup()
    (summary,) = got
    copy = Path(summary["backup"])
    assert copy.parent == station.settings.data_dir.resolve() / "backups" and not it.busy
    with sqlite3.connect(copy) as c:  # the users the fixture made are in the copy
        assert c.execute("SELECT count(*) FROM users").fetchone()[0] == 4
    s.login("olga", PINS["olga"])  # an operator may not
    errors: list[str] = []
    it.message.connect(lambda kind, text: errors.append(text))
    it.backup()
    assert len(got) == 1 and "store.backup" in errors[-1]
