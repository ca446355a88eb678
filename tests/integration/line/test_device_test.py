"""`station devices test NAME`: each device tested through its real driver against the
simulators `station sim` serves, the way a technician checks a machine."""

from __future__ import annotations

import sqlite3
import threading
import time
from pathlib import Path

import cv2
import pytest

from drivers.camera.decode import make_decoder
from drivers.camera.sim import render_code
from station.build import on_free_ports, start_simulators
from station.config import load_settings


@pytest.fixture
def served(station_dir: Path):
    """The sample config on free ports, its simulators serving."""
    cfg = station_dir / "config.toml"
    cfg.write_text(on_free_ports(cfg.read_text(encoding="utf-8")), encoding="utf-8")
    sims = start_simulators(load_settings(cfg), fixed_ports=True)
    yield sims
    sims.stop()


def test_a_label_printer_prints_a_test_label_that_scans(cli, served) -> None:
    r = cli("devices", "test", "case_labeler", "--json")
    assert r.rc == 0, r.out + r.err
    assert r.json["ok"] and "test label LINESTATION-TEST-" in r.json["status"]
    (zpl,) = served.case_labeler.received()
    (read,) = make_decoder().decode(served.case_labeler.render(zpl), 1)
    assert read.text.startswith("LINESTATION-TEST-") and read.text in r.json["status"]


def test_a_label_printer_out_of_ribbon_fails_and_prints_nothing(cli, served) -> None:
    served.pallet_labeler.set_fault(ribbon_out=True)
    r = cli("devices", "test", "pallet_labeler", "--json")
    assert r.rc == 1 and not r.json["ok"]
    assert "ribbon" in r.json["status"] and "no test label" in r.json["status"]
    assert served.pallet_labeler.received() == []


def test_the_plc_shows_each_stack_light_colour(cli, served) -> None:
    seen: list[str] = []
    stop = threading.Event()

    def watch() -> None:
        while not stop.is_set():
            light = str(served.plc.stack_light)
            if not seen or seen[-1] != light:
                seen.append(light)
            time.sleep(0.02)

    t = threading.Thread(target=watch)
    t.start()
    try:
        r = cli("devices", "test", "plc", "--json")
    finally:
        stop.set()
        t.join()
    seen.append(str(served.plc.stack_light))  # where the test left it
    assert r.rc == 0, r.out + r.err
    colours = [s.rsplit(".", 1)[-1].lower() for s in seen]
    assert [c for c in colours if c != "off"] == ["green", "amber", "red"], seen
    assert colours[-1] == "off"
    assert served.plc.rejects() == []  # ring mode: no kick sent for an item that may come
    assert "kicker not fired" in r.json["status"]


def test_a_camera_grabs_a_frame_and_reads_its_code(cli, served, tmp_path: Path) -> None:
    served.verify_camera.put(1, render_code("CAM-TEST-0042", size=(480, 640)))
    png = tmp_path / "frame.png"
    r = cli("devices", "test", "verify_camera", "--save-frame", str(png), "--json")
    assert r.rc == 0, r.out + r.err
    assert r.json["codes"] == ["CAM-TEST-0042"] and r.json["frame"] == [640, 480]
    assert cv2.imread(str(png), cv2.IMREAD_GRAYSCALE).shape == (480, 640)


def test_a_camera_that_sends_no_frame_fails_with_what_to_check(cli, served) -> None:
    r = cli("devices", "test", "case_camera", "--timeout", "0.5", "--json")
    assert r.rc == 1 and "no frame" in r.json["status"] and "triggered" in r.json["status"]


def test_ticket_inkjet_reader_and_scanner(cli, served) -> None:
    r = cli("devices", "test", "ticket", "--json")
    assert r.rc == 0 and r.json["ok"], r.out + r.err
    deadline = time.monotonic() + 5
    while not served.ticket.tickets() and time.monotonic() < deadline:
        time.sleep(0.02)
    (ticket,) = served.ticket.tickets()
    assert "TEST TICKET" in ticket[0]
    r = cli("devices", "test", "inkjet", "--json")
    assert r.rc == 0 and r.json["status"].startswith("ready"), r.out + r.err

    def present() -> None:  # a case under the reader once the station listens
        if served.reader.wait_for_client(5.0):
            time.sleep(0.1)
            served.reader.read(["CASE-TEST-7"])

    threading.Thread(target=present, daemon=True).start()
    r = cli("devices", "test", "reader", "--json")
    assert r.rc == 0 and r.json["status"] == "read CASE-TEST-7", r.out + r.err
    r = cli("devices", "test", "scanner", "--json")
    assert r.rc == 0 and r.json["ok"], r.out + r.err


def test_a_device_that_is_not_there_names_its_port(cli, station_dir: Path) -> None:
    cfg = station_dir / "config.toml"
    cfg.write_text(on_free_ports(cfg.read_text(encoding="utf-8")), encoding="utf-8")  # no sims
    r = cli("devices", "test", "case_labeler", "--timeout", "1", "--json")
    assert r.rc == 1 and not r.json["ok"]
    url = load_settings(cfg).devices.case_labeler.url
    assert "case_labeler" in r.json["status"] and url.split("//")[-1] in r.json["status"]


def test_refused_while_a_batch_runs_and_for_unknown_devices(cli, served, station_dir: Path) -> None:
    r = cli("devices", "test", "kicker")
    assert r.rc == 2 and "unknown device" in r.err and "plc" in r.err
    r = cli("batch", "create", "--product", "WATER-550", "--lot", "T", "--quantity", "5", "--json")
    batch = r.json["id"]
    with sqlite3.connect(station_dir / "var" / "station.db") as db:  # as a line's run marks it
        db.execute("UPDATE batches SET state = 'running' WHERE id = ?", (batch,))
    r = cli("devices", "test", "case_labeler")
    assert r.rc == 2 and batch in r.err and "--force" in r.err
    assert served.case_labeler.received() == []
    assert cli("devices", "test", "case_labeler", "--force").rc == 0
    assert len(served.case_labeler.received()) == 1


def test_a_plc_with_a_kick_now_coil_fires_the_kicker(cli, station_dir: Path) -> None:
    cfg = station_dir / "config.toml"
    text = on_free_ports(cfg.read_text(encoding="utf-8"))
    cfg.write_text(text + "\n[devices.plc.register_map]\nreject_coil = 40\n", encoding="utf-8")
    sims = start_simulators(load_settings(cfg), fixed_ports=True)
    try:
        r = cli("devices", "test", "plc", "--json")
        assert r.rc == 0, r.out + r.err
        assert "kicker fired" in r.json["status"]
        assert len(sims.plc.rejects()) == 1  # the PLC saw the coil: one kick
    finally:
        sims.stop()
