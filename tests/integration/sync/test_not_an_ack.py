"""Only the documented acknowledgement is one: a 2xx answer that is a proxy's HTML page, random
bytes or JSON without the receipt leaves the batch pending, the reason shown in `sync status`."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from sync_station_helpers import close_small_batch, set_upstream

from station.config import load_settings
from station.store.db import make_engine

ANSWERS = {
    "html": (200, "text/html", b"<html><body>Welcome to the proxy</body></html>", {}),
    "bytes": (200, "application/octet-stream", bytes(range(256)) * 4, {}),
    "json-no-receipt": (200, "application/json", b'{"status": "ok"}', {}),
    "202-no-job": (202, "text/plain", b"accepted", {}),
    "other-batch": (201, "application/json", b'{"ack_id": "x", "batch_id": "NOT-OURS"}', {}),
}


class _Garbage(BaseHTTPRequestHandler):
    answer: tuple = ANSWERS["html"]

    def _reply(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        if length:
            self.rfile.read(length)
        elif self.headers.get("Transfer-Encoding") == "chunked":
            while (size := int(self.rfile.readline().strip() or b"0", 16)) > 0:
                self.rfile.read(size + 2)
            self.rfile.readline()
        status, kind, body, headers = self.server.answer  # type: ignore[attr-defined]
        self.send_response(status)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(body)))
        for k, v in headers.items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(body)

    do_POST = do_GET = do_OPTIONS = _reply

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def garbage() -> Iterator[ThreadingHTTPServer]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Garbage)
    t = threading.Thread(target=server.serve_forever, name="garbage-http", daemon=True)
    t.start()
    yield server
    server.shutdown()
    server.server_close()


@pytest.mark.parametrize("transport", ["epcis-capture", "rest-upload"])
@pytest.mark.parametrize("answer", list(ANSWERS))
def test_a_2xx_that_is_not_the_acknowledgement_leaves_the_batch_pending(
    station_dir: Path, cli, garbage: ThreadingHTTPServer, transport: str, answer: str
) -> None:
    if transport == "epcis-capture" and answer == "other-batch":
        pytest.skip("the batch id in a receipt is a REST upload notion")
    garbage.answer = ANSWERS[answer]  # type: ignore[attr-defined]
    url = f"http://127.0.0.1:{garbage.server_port}"
    set_upstream(station_dir, transport=transport, url=url)
    settings = load_settings(station_dir / "config.toml")
    engine = make_engine(settings.database_url)
    try:
        batch = close_small_batch(engine, settings, 2)
    finally:
        engine.dispose()
    r = cli("sync", "push")
    assert r.rc == 1, r.out + r.err
    assert "not an acknowledgement" in r.err
    st = cli("sync", "status", "--json").json
    assert st["counts"] == {"pending": 1}
    [entry] = st["entries"]
    assert entry["batch_id"] == batch and "not an acknowledgement" in entry["last_error"]
    text = cli("sync", "status")
    assert "pending" in text.out and "not an acknowledgement" in text.out
