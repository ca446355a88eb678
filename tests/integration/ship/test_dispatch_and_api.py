"""The dispatch note on the (simulated ESC/POS) ticket printer and as a PDF; the handheld API
over real HTTP: two handhelds scanning the same pallet into two orders, roles, bad requests."""

from __future__ import annotations

import http.cookiejar
import json
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

from drivers.labels.escpos.sim import SimTicketPrinter
from station.config import load_settings
from station.store.db import make_engine
from station.web.server import WebServer


def test_dispatch_note_on_the_ticket_printer(st) -> None:
    b1 = st.batches()[0]
    st.release(b1)
    pallet = st.codes(b1, "pallet")[0]
    with SimTicketPrinter() as printer:
        text = st.config.read_text(encoding="utf-8")
        text = text.replace('[devices.ticket]\nurl = "tcp://127.0.0.1:19104"',
                            f'[devices.ticket]\nurl = "{printer.url}"')  # fmt: skip
        st.config.write_text(text, encoding="utf-8")
        assert st.cli("wh1", "ship", "create", "--order", "PO7", "--to", "DIST-A")[0] == 0
        assert st.json("wh1", "ship", "scan", "PO7", pallet)[0] == 0
        rc, r = st.json("wh1", "ship", "close", "PO7")
        assert rc == 0 and r["note"]["ticket"].startswith("printed on"), r
        deadline = time.monotonic() + 30  # the printer reads what was sent at its own pace
        while not printer.tickets() and time.monotonic() < deadline:
            time.sleep(0.05)
        [ticket] = printer.tickets()
    body = "\n".join(ticket)
    assert "DISPATCH NOTE" in body and "PO7" in body and "DIST-A" in body and pallet in body
    pdf = Path(r["note"]["pdf"])
    assert pdf.read_bytes().startswith(b"%PDF-") and pdf.parent == st.dir / "var" / "outbox"
    # No ticket printer configured: skipped with a note, the order closes all the same.
    text = st.config.read_text(encoding="utf-8")
    start = text.index("[devices.ticket]")
    st.config.write_text(text[:start] + text[text.index("[devices.reader]") :], encoding="utf-8")
    pallet2 = st.codes(b1, "pallet")[1]
    assert st.cli("wh1", "ship", "create", "--order", "PO8", "--to", "DIST-A")[0] == 0
    assert st.json("wh1", "ship", "scan", "PO8", pallet2)[0] == 0
    rc, r = st.json("wh1", "ship", "close", "PO8")
    assert rc == 0 and r["note"]["ticket"].startswith("skipped: no ticket printer"), r


class Handheld:
    """One logged-in handheld talking JSON to the server (its own cookie jar)."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar())
        )

    def call(self, method: str, path: str, body: dict | None = None, ctype="application/json"):
        """(status, JSON answer)."""
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(self.url + path, data=data, method=method,
                                     headers={"Content-Type": ctype} if data else {})  # fmt: skip
        try:
            with self.opener.open(req, timeout=60) as resp:
                return resp.status, json.loads(resp.read())
        except urllib.error.HTTPError as exc:
            return exc.code, json.loads(exc.read())


def test_two_handhelds_race_one_pallet_over_http(st) -> None:
    for b in st.batches():
        st.release(b)
    pallets = [p for b in st.batches() for p in st.codes(b, "pallet")]
    settings = load_settings(st.config)
    engine = make_engine(settings.database_url)
    with WebServer(engine, settings, "127.0.0.1", 0) as server:
        a, b = Handheld(server.url), Handheld(server.url)
        assert a.call("GET", "/api/me")[0] == 401
        assert a.call("GET", "/api/info") == (200, {"station": "LS-DEMO-01", "name": "Demo line 1",
                                                    "language": "zh"})  # fmt: skip
        assert a.call("POST", "/api/login", {"name": "wh1", "pin": "2222"})[0] == 200
        assert b.call("POST", "/api/login", {"badge": "BADGE-WH1"})[0] == 200
        assert a.call("POST", "/api/orders", {"order": "A1", "to": "DIST-A"})[0] == 200
        assert b.call("POST", "/api/orders", {"order": "B1", "to": "DIST-B"})[0] == 200
        winners = []
        for pallet in pallets:
            gate, out = threading.Barrier(2, timeout=60), {}

            def scan(hh: Handheld, order: str, code=pallet, gate=gate, out=out) -> None:
                gate.wait()
                out[order] = hh.call("POST", f"/api/orders/{order}/scan", {"code": code})

            threads = [threading.Thread(target=scan, args=x) for x in ((a, "A1"), (b, "B1"))]
            for t in threads:
                t.start()
            for t in threads:
                t.join(120)
            answers = [ans for status, ans in out.values() if status == 200]
            assert len(answers) == 2, out
            won = [o for o, (_, ans) in out.items() if ans["ok"]]
            lost = [ans for _, ans in out.values() if not ans["ok"]]
            assert len(won) == 1 and lost[0]["reason"] == "already_shipped", out
            assert won[0] in lost[0]["message"] and won[0] in lost[0]["message_zh"]
            winners.append(won[0])
        # Bad requests answer with a status and a reason, never a traceback.
        assert a.call("POST", "/api/orders/A1/scan", {"code": " "})[0] == 400
        assert a.call("POST", "/api/orders/NOPE/scan", {"code": pallets[0]})[0] == 404
        assert a.call("POST", "/api/orders", {"order": "a/b", "to": "X"})[0] == 400
        assert a.call("POST", "/api/orders/A1/scan", {"code": "x"}, ctype="text/plain")[0] == 415
        assert a.call("GET", "/api/nothing")[0] == 404
        qa = Handheld(server.url)
        assert qa.call("POST", "/api/login", {"name": "qa1", "pin": "3333"})[0] == 200
        status, ans = qa.call("POST", "/api/orders/A1/close", {})
        assert status == 403 and "warehouse" in ans["message"]
        status, ans = qa.call("GET", f"/api/lookup?code={pallets[0]}")
        assert status == 200 and ans["code"]["shipment"]["order_no"] in ("A1", "B1")
        assert qa.call("POST", "/api/logout", {})[0] == 200
        assert qa.call("GET", "/api/me")[0] == 401
        assert a.call("POST", "/api/login", {"name": "wh1", "pin": "0000"})[0] == 401
        # A closed order refuses the next scan with its reason, in both languages.
        assert a.call("POST", "/api/orders/A1/close", {})[1]["ok"] in (True, False)
        status, ans = a.call("GET", "/api/orders/A1")
        if ans["order"]["state"] == "closed":
            status, ans = a.call("POST", "/api/orders/A1/scan", {"code": pallets[0]})
            assert (
                status == 200 and ans["reason"] == "order_closed" and "已关闭" in ans["message_zh"]
            )
    engine.dispose()


def test_station_web_on_a_busy_port(st) -> None:
    import socket

    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        rc, _out, err = st.cli(None, "web", "--port", str(port))
    assert rc == 2 and f"cannot listen on 127.0.0.1:{port}" in err and "--port" in err
