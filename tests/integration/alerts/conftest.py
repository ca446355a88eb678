"""A local stand-in for the WeCom and DingTalk robot webhooks and a JSON webhook, on a free port.

It answers as the robots do (HTTP 200 with {"errcode": 0, "errmsg": "ok"}) and checks what the
robots check: the text message shape, WeCom's 2,048-byte limit for text content, DingTalk's
signature (base64 HMAC-SHA256 of "timestamp\\nsecret", URL-encoded) and both robots' 20 messages
a minute (an over-limit message is refused with the robot's error code and recorded). Statuses
can be scripted (500 then 200) to test retries. Times come from the test's clock, so the rate
check follows a clock the test moves by hand.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

import pytest

WECOM_TEXT_MAX_BYTES = 2048
ROBOT_PER_MINUTE = 20


@dataclass(frozen=True)
class Received:
    """One message the stand-in accepted: which endpoint, the text, and the test clock's time."""

    path: str
    query: dict[str, str]
    payload: dict
    text: str
    at: float


class FakeClock:
    """Monotonic seconds that move only when the test says so."""

    def __init__(self) -> None:
        self.now = 1000.0
        self._lock = threading.Lock()

    def __call__(self) -> float:
        with self._lock:
            return self.now

    def advance(self, seconds: float) -> None:
        """Move the clock forward."""
        with self._lock:
            self.now += seconds


class RobotServer:
    """The stand-in: accepted messages, refusals, every attempt, scripted HTTP statuses."""

    def __init__(self, clock: Callable[[], float], dingtalk_secret: str | None = None) -> None:
        self.clock = clock
        self.dingtalk_secret = dingtalk_secret
        self.received: list[Received] = []
        self.refused: list[tuple[str, str]] = []  # (path, why)
        self.attempts = 0
        self.statuses: deque[int] = deque()  # scripted HTTP statuses, then 200
        self.errcodes: deque[int] = deque()  # scripted robot refusals (HTTP 200), then checks
        self.cond = threading.Condition()
        self._accepted_at: dict[str, deque[float]] = {}
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.port = self.httpd.server_address[1]
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def wait_for(self, predicate: Callable[[], bool], timeout_s: float = 60.0) -> bool:
        """Wait until `predicate()` holds (checked on every request and twice a second)."""
        deadline = time.monotonic() + timeout_s
        with self.cond:
            while not predicate():
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self.cond.wait(min(left, 0.5))
        return True

    def texts(self) -> list[str]:
        """The texts of the accepted messages, in order."""
        with self.cond:
            return [r.text for r in self.received]

    def _rate_ok(self, path: str, now: float) -> bool:
        seen = self._accepted_at.setdefault(path, deque())
        while seen and seen[0] + 60.0 <= now:
            seen.popleft()
        if len(seen) >= ROBOT_PER_MINUTE:
            return False
        seen.append(now)
        return True

    def _check(self, path: str, query: dict[str, str], payload: dict) -> tuple[int, str, str]:
        """(errcode, errmsg, text) for one robot request, as the robot would judge it."""
        if path in ROBOT_PATHS:
            if payload.get("msgtype") != "text" or not isinstance(
                payload.get("text", {}).get("content"), str
            ):
                return 40008, "invalid message type", ""
            text = payload["text"]["content"]
            if path == "/cgi-bin/webhook/send":
                if not query.get("key"):
                    return 93000, "invalid webhook url", text
                if len(text.encode()) > WECOM_TEXT_MAX_BYTES:
                    return 40058, "content exceed max length", text
            else:
                if not query.get("access_token"):
                    return 300001, "token is not exist", text
                if self.dingtalk_secret:
                    ts = query.get("timestamp", "")
                    want = base64.b64encode(
                        hmac.new(
                            self.dingtalk_secret.encode(),
                            f"{ts}\n{self.dingtalk_secret}".encode(),
                            hashlib.sha256,
                        ).digest()
                    ).decode()
                    if query.get("sign") != want:
                        return 310000, "sign not match", text
                    if abs(time.time() * 1000 - int(ts or 0)) > 3600_000:
                        return 310000, "timestamp out of range", text
            return 0, "ok", text
        # a generic JSON webhook (Apprise's json:// payload)
        text = f"{payload.get('title', '')}\n{payload.get('message', '')}"
        return 0, "ok", text

    def _handler(self):
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                split = urlsplit(self.path)
                query = {k: v[0] for k, v in parse_qs(split.query).items()}
                raw = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                with server.cond:
                    server.attempts += 1
                    status = server.statuses.popleft() if server.statuses else 200
                    if status != 200:
                        self._answer(status, {"error": "scripted"})
                        server.cond.notify_all()
                        return
                    payload = json.loads(raw.decode("utf-8"))
                    code, msg, text = server._check(split.path, query, payload)
                    if code == 0 and server.errcodes:
                        code, msg = server.errcodes.popleft(), "scripted refusal"
                    now = server.clock()
                    robot = split.path in ROBOT_PATHS
                    if code == 0 and robot and not server._rate_ok(split.path, now):
                        code = 45009 if split.path.startswith("/cgi-bin") else 130101
                        msg = "api freq out of limit"
                    if code:
                        server.refused.append((split.path, msg))
                    else:
                        server.received.append(Received(split.path, query, payload, text, now))
                    server.cond.notify_all()
                # Both robots answer HTTP 200 and put the verdict in errcode.
                self._answer(200, {"errcode": code, "errmsg": msg})

            def _answer(self, status: int, body: dict) -> None:
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args) -> None:
                pass

        return Handler


ROBOT_PATHS = ("/cgi-bin/webhook/send", "/robot/send")


@pytest.fixture
def clock() -> FakeClock:
    """A clock the test moves by hand."""
    return FakeClock()


@pytest.fixture
def make_robot():
    """Start stand-ins: make_robot(clock=..., dingtalk_secret=...) → a running RobotServer."""
    servers: list[RobotServer] = []

    def make(
        clock: Callable[[], float] = time.monotonic, dingtalk_secret: str | None = None
    ) -> RobotServer:
        server = RobotServer(clock, dingtalk_secret)
        server.thread.start()
        servers.append(server)
        return server

    yield make
    for server in servers:
        server.httpd.shutdown()
        server.httpd.server_close()
        server.thread.join(10)
