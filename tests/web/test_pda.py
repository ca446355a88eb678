"""Issue 17 point 4: the handheld page does a shipment in a real browser, as a scanner types.

Chinese first, English on the switch; the scan field keeps the focus and submits on Enter; each
scan answers at once (colour, beep, reason); a dropped server mid-order loses nothing: the
order's state is in the store and reconnecting shows it; QA looks a code up.
"""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest

pytest.importorskip("selenium")

from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from ship_helpers import run

from station.config import load_settings
from sync.receiver import serve

PIN = {"wh1": "2222", "qa1": "3333"}


def _db(station: Path, query: str, *args) -> list:
    with sqlite3.connect(station / "var" / "station.db") as db:
        return db.execute(query, args).fetchall()


def _pallets(station: Path) -> list[str]:
    return [r[0] for r in _db(station, "SELECT code FROM codes WHERE level = 'pallet' AND "
                                       "batch_id IS NOT NULL ORDER BY id")]  # fmt: skip


def _children(station: Path, code: str) -> list[str]:
    return [
        r[0]
        for r in _db(
            station,
            "SELECT c.code FROM codes c JOIN codes p ON "
            "c.parent_id = p.id WHERE p.code = ? ORDER BY c.id",
            code,
        )
    ]


def _el(d, id_: str):
    return d.find_element(By.ID, id_)


def _visible(d, id_: str) -> bool:
    return _el(d, id_).is_displayed()


def _login(d, wait, name: str, pin: str = "", *, focused: bool = True) -> None:
    wait(lambda: _visible(d, "login-view"), what="the login form")
    if focused:  # the page puts the cursor in the name field
        wait(lambda: d.switch_to.active_element.get_attribute("id") == "login-name", what="focus")
    else:  # a tap on the language switch took it
        _el(d, "login-name").click()
    _el(d, "login-name").send_keys(name)
    if pin:
        _el(d, "login-pin").send_keys(pin)
    _el(d, "login-pin").send_keys(Keys.ENTER)


def _scan(d, wait, code: str, n: int) -> dict:
    """Type `code` + Enter into whatever has the focus (a keyboard-wedge scanner)."""
    wait(lambda: d.switch_to.active_element.get_attribute("id") == "scan-input",
         what="the scan field to hold the focus")  # fmt: skip
    d.switch_to.active_element.send_keys(code + Keys.ENTER)
    wait(lambda: len(d.execute_script("return window.lsBeeps")) >= n, what=f"answer to {code}")
    f = _el(d, "feedback")
    return {"class": f.get_attribute("class"), "reason": f.get_attribute("data-reason"),
            "text": f.text}  # fmt: skip


def test_a_shipment_on_the_handheld_in_chinese(station, web, browser, wait, tmp_path) -> None:
    d = browser
    server = web()
    pallet, pallet2 = _pallets(station)[:2]
    cases = _children(station, pallet)
    size = 1 + len(cases) + sum(len(_children(station, c)) for c in cases)
    d.get(server.url + "/")
    wait(lambda: _visible(d, "login-view"), what="the login form")
    assert d.execute_script("return document.documentElement.lang") == "zh-CN"
    assert _el(d, "login-submit").text == "登录"
    _login(d, wait, "wh1", "9999")  # a wrong PIN: refused, said so
    wait(lambda: "wrong PIN" in _el(d, "login-error").text, what="the wrong-PIN message")
    _el(d, "login-pin").clear()
    _el(d, "login-pin").send_keys(PIN["wh1"] + Keys.ENTER)
    wait(lambda: _visible(d, "orders-view"), what="the orders page")
    _el(d, "new-order").send_keys("PO-WEB1")
    _el(d, "new-to").send_keys("经销商甲")
    _el(d, "new-gln").send_keys("6901234000016" + Keys.ENTER)
    wait(lambda: _visible(d, "order-view"), what="the new order")
    assert _el(d, "order-title").text == "PO-WEB1"

    ok = _scan(d, wait, pallet, 1)
    assert ok["class"] == "ok" and ok["reason"] == "added" and "已加入" in ok["text"]
    assert _el(d, "count-entries").text == "1" and _el(d, "count-codes").text == str(size)
    again = _scan(d, wait, pallet, 2)
    assert (
        again["class"] == "bad" and again["reason"] == "duplicate" and "重复扫描" in again["text"]
    )
    stranger = _scan(d, wait, "NOT-OURS-42", 3)
    assert stranger["reason"] == "unknown" and "不是本站的码" in stranger["text"]
    inside = _scan(d, wait, cases[0], 4)
    assert inside["reason"] == "inside_on_order" and pallet in inside["text"]
    assert d.execute_script("return window.lsBeeps") == ["ok", "bad", "bad", "bad"]
    assert _el(d, "count-entries").text == "1"  # refusals changed nothing
    wait(
        lambda: (
            [e.get_attribute("data-code") for e in d.find_elements(By.CSS_SELECTOR, "#entries li")]
            == [pallet]
        ),
        what="the list",
    )

    _el(d, "close-order").click()
    assert _el(d, "close-order").text == "再点一次确认关闭"  # two taps: no accidental close
    _el(d, "close-order").click()
    wait(lambda: _el(d, "feedback").get_attribute("data-reason") == "closed", what="closing")
    assert not _el(d, "scan-input").is_enabled()
    assert _db(station, "SELECT state, closed_by FROM shipments WHERE order_no = 'PO-WEB1'") == [
        ("closed", "wh1")]  # fmt: skip

    # The same shipment reaches upstream like the CLI's: `station sync push --wait`.
    config = station / "config.toml"
    key = load_settings(config).station.signing_key.encode()
    with serve(0, tmp_path / "received", key=key) as receiver:
        rc = run(config, "sync", "push", "--wait", "--upstream", receiver.url, "--timeout", "120",
                 user="admin")  # fmt: skip
    assert rc == 0
    doc = json.loads((tmp_path / "received" / "SHIP-PO-WEB1" / "SHIP-PO-WEB1.epcis.jsonld")
                     .read_text(encoding="utf-8"))  # fmt: skip
    [event] = doc["epcisBody"]["eventList"]
    assert [e.rsplit("/", 1)[1] for e in event["epcList"]] == [pallet]
    assert event["destinationList"][0]["destination"] == "https://id.gs1.org/417/6901234000016"
    assert _db(station, "SELECT count(*) FROM shipment_codes") == [(size,)]
    assert pallet2  # the other pallet stays for the next tests


def test_english_badge_login_and_a_dropped_connection(station, web, browser, wait) -> None:
    d = browser
    server = web()
    pallet, pallet2 = _pallets(station)[:2]
    d.get(server.url + "/")
    wait(lambda: _visible(d, "login-view"), what="the login form")
    _el(d, "lang").click()
    assert d.execute_script("return document.documentElement.lang") == "en"
    assert _el(d, "login-submit").text == "Log in"
    _login(d, wait, "BADGE-WH1", focused=False)  # a badge: no PIN
    wait(lambda: _visible(d, "orders-view"), what="the orders page")
    _el(d, "new-order").send_keys("PO-WEB2")
    _el(d, "new-to").send_keys("DIST-B" + Keys.ENTER)
    wait(lambda: _visible(d, "order-view"), what="the new order")
    assert _scan(d, wait, pallet, 1)["class"] == "ok"
    assert "Added" in _el(d, "feedback").text

    server.stop()  # the station's server goes away mid-order (Wi-Fi lost, PC restarted)
    lost = _scan(d, wait, pallet2, 2)
    assert lost["class"] == "bad" and lost["reason"] == "offline"
    assert _visible(d, "conn")

    web(port=server.port)  # back: the session died with the process, the order did not
    wait(lambda: _visible(d, "login-view"), timeout_s=60, what="the login after reconnecting")
    assert not _visible(d, "conn")
    _login(d, wait, "wh1", PIN["wh1"])
    wait(lambda: _visible(d, "order-view"), what="the order reopened from the store")
    assert _el(d, "order-title").text == "PO-WEB2"
    assert _el(d, "count-entries").text == "1"
    wait(
        lambda: (
            [e.get_attribute("data-code") for e in d.find_elements(By.CSS_SELECTOR, "#entries li")]
            == [pallet]
        ),
        what="the list",
    )
    ok = _scan(d, wait, pallet2, 3)
    assert ok["class"] == "ok" and _el(d, "count-entries").text == "2"
    _el(d, "lang").click()  # 中文 again: the order's words follow
    assert _el(d, "close-order").text == "关闭出库单"


def test_qa_looks_a_code_up(station, web, browser, wait) -> None:
    d = browser
    server = web()
    pallet = _pallets(station)[0]
    case = _children(station, pallet)[0]
    d.get(server.url + "/lookup")
    _login(d, wait, "qa1", PIN["qa1"])
    wait(lambda: _visible(d, "lookup-view"), what="the lookup page")
    wait(lambda: d.switch_to.active_element.get_attribute("id") == "lookup-input", what="focus")
    d.switch_to.active_element.send_keys(case + Keys.ENTER)
    wait(lambda: _el(d, "lookup-code").text, what="the code's page")
    assert case in _el(d, "lookup-code").text
    assert pallet in _el(d, "lookup-containers").text
    kids = d.find_elements(By.CSS_SELECTOR, "#lookup-children li")
    assert [k.text.split(" ")[1] for k in kids] == _children(station, case)
    assert "未出库" in _el(d, "lookup-shipment").text
    assert "verified" in _el(d, "lookup-trail").text  # the code's history
    # QA has no shipping right: the ship page is not offered, the API refuses it.
    assert not _visible(d, "nav-ship")
    status = d.execute_script(
        "return fetch('/api/orders').then(r => r.status)")  # fmt: skip
    assert status == 403
