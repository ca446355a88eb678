"""[alerts] wired to a running line: the inkjet's simulator pulled down mid-batch reaches a local
JSON webhook as one alert naming the printer; a burst of 50 faults stays within 20 messages a
minute (the rest wait for a digest); `station alerts test` reaches the webhook."""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from station.errors import StationError


class Webhook:
    """A local JSON webhook (what Apprise's json:// posts to): every message with its time."""

    def __init__(self) -> None:
        self.got: list[tuple[float, str]] = []
        self.cond = threading.Condition()
        hook = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                payload = json.loads(body.decode("utf-8"))
                with hook.cond:
                    text = f"{payload.get('title', '')}\n{payload.get('message', '')}"
                    hook.got.append((time.monotonic(), text))
                    hook.cond.notify_all()
                self.send_response(200)
                self.end_headers()

            def log_message(self, *args) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"json://127.0.0.1:{self.httpd.server_address[1]}/alerts"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def wait_for(self, pred, timeout_s: float = 60.0) -> bool:
        """Wait until pred(messages) holds."""
        deadline = time.monotonic() + timeout_s
        with self.cond:
            while not pred(self.got):
                if time.monotonic() > deadline:
                    return False
                self.cond.wait(0.5)
        return True

    def close(self) -> None:
        """Stop serving."""
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def webhook():
    """A running Webhook."""
    hook = Webhook()
    yield hook
    hook.close()


def _with_alerts(station_dir: Path, url: str) -> None:
    cfg = station_dir / "config.toml"
    text = cfg.read_text(encoding="utf-8") + f'\n[alerts]\ntargets = ["{url}"]\nper_minute = 20\n'
    cfg.write_text(text, encoding="utf-8")


def test_printer_simulator_down_alerts_once_naming_the_printer(
    station_dir: Path, demo_batch, webhook: Webhook
) -> None:
    from station.service.links import Links

    _with_alerts(station_dir, webhook.url)
    batch = demo_batch(items=3000, rate=3000, defects=0.0, seed=3, lot="AL1")
    links = Links(batch.settings, batch.engine)
    seen: dict = {}

    def pull_the_printer(sims, runner, world) -> None:
        links.attach(runner.signals)

        def down() -> None:
            while world.produced < 50:
                time.sleep(0.05)
            seen["down_at"] = time.monotonic()
            sims.inkjet.stop()
            seen["alerted"] = webhook.wait_for(lambda got: got, 60)
            time.sleep(3)  # the demo's operator clears the fault and it comes straight back
            runner.stop()

        threading.Thread(target=down, daemon=True).start()

    try:
        with pytest.raises(StationError, match="the line stopped"):
            batch.run(on_start=pull_the_printer)
    finally:
        links.close()
    assert seen["alerted"], "no alert reached the webhook within 60 s"
    first_at, first = webhook.got[0]
    print(f"printer down → alert at the webhook: {first_at - seen['down_at']:.3f} s\n{first}")
    assert "inkjet" in first and "设备故障" in first and "Device fault" in first, first
    assert sum("inkjet" in text for _, text in webhook.got) == 1, webhook.got


def test_a_burst_of_50_faults_sends_at_most_20_messages_a_minute(
    station_dir: Path, webhook: Webhook
) -> None:
    from station.config import load_settings
    from station.events import Alarm, LineSignals
    from station.service.links import Links
    from station.store.db import make_engine

    _with_alerts(station_dir, webhook.url)
    s = load_settings(station_dir / "config.toml")
    engine = make_engine(s.database_url)
    links = Links(s, engine)
    signals = LineSignals()
    links.attach(signals)
    t0 = time.monotonic()
    for n in range(50):
        signals.alarm_raised.emit(
            Alarm(f"fault:dev{n}", f"dev{n}", f"fault number {n}", "clear it")
        )
    assert webhook.wait_for(lambda got: len(got) >= 20, 60), webhook.got
    time.sleep(5)  # nothing more comes inside the minute
    in_minute = [t for t, _ in webhook.got if t - t0 < 60]
    assert 1 <= len(in_minute) <= 20, len(in_minute)
    status = links.alerts.notifier.status()[0]
    assert status.waiting > 0  # the rest wait for the next window, as one digest
    links.close()
    engine.dispose()


def test_station_alerts_test_reaches_the_webhook(cli, station_dir: Path, webhook: Webhook) -> None:
    _with_alerts(station_dir, webhook.url)
    r = cli("alerts", "test", "--json")
    assert r.rc == 0, r.out + r.err
    assert r.json["ok"] and r.json["targets"][0]["delivered"] == 1
    assert webhook.wait_for(lambda got: got, 10)
