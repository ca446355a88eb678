"""The handheld page's HTTP server: stdlib ThreadingHTTPServer, one page and a JSON API.

Routes: `GET /` and `GET /lookup` page; `GET /api/info`, `POST /api/login|logout`, `GET /api/me`;
`GET|POST /api/orders`, `GET /api/orders/<order>`, `POST /api/orders/<order>/scan|remove|close`;
`GET /api/lookup?code=…`. The session is an HttpOnly, SameSite=Strict cookie; POSTs must be JSON
(a cross-site form cannot send that), so no other page can act for a logged-in handheld.
"""

from __future__ import annotations

import json
import logging
import signal
import threading
from http import HTTPStatus
from http.cookies import SimpleCookie
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from importlib import resources
from urllib.parse import parse_qs, unquote, urlsplit

from sqlalchemy.exc import DBAPIError

from station.errors import StationError
from station.ship.settings import web_settings
from station.web.api import Api, ApiError, error_answer, jsonable
from station.web.sessions import COOKIE, Sessions

log = logging.getLogger(__name__)
MAX_BODY = 64 * 1024


def page() -> bytes:
    """The single page (HTML with its script and style inline)."""
    return resources.files("station.web").joinpath("page.html").read_bytes()


class Handler(BaseHTTPRequestHandler):
    """One request: route, call the Api, answer JSON."""

    server: WebServer
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt: str, *args) -> None:
        log.info("%s %s", self.address_string(), fmt % args)

    def _token(self) -> str | None:
        jar = SimpleCookie(self.headers.get("Cookie", ""))
        return jar[COOKIE].value if COOKIE in jar else None

    def _send(self, status: int, body: bytes, ctype: str, headers: dict | None = None) -> None:
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def _json(self, status: int, obj, headers: dict | None = None) -> None:
        body = json.dumps(obj, ensure_ascii=False, default=jsonable).encode("utf-8")
        self._send(status, body, "application/json; charset=utf-8", headers)

    def _body(self) -> dict:
        if "json" not in self.headers.get("Content-Type", ""):
            raise ApiError(415, "bad_input", "send JSON (Content-Type: application/json)")
        n = int(self.headers.get("Content-Length") or 0)
        if n > MAX_BODY:
            raise ApiError(413, "bad_input", f"request over {MAX_BODY} bytes")
        try:
            body = json.loads(self.rfile.read(n) or b"{}")
        except ValueError:
            raise ApiError(400, "bad_input", "the request is not JSON") from None
        if not isinstance(body, dict):
            raise ApiError(400, "bad_input", "send a JSON object")
        return body

    def do_GET(self) -> None:
        """Page and reads."""
        self._route("GET")

    def do_POST(self) -> None:
        """Writes."""
        self._route("POST")

    def _route(self, method: str) -> None:
        url = urlsplit(self.path)
        parts = [unquote(p) for p in url.path.split("/") if p]
        api = self.server.api
        try:
            if method == "GET" and parts in ([], ["lookup"], ["ship"]):
                self._send(200, page(), "text/html; charset=utf-8")
                return
            if not parts or parts[0] != "api":
                raise ApiError(404, "not_found", f"no page {url.path}")
            session = self.server.sessions.get(self._token())
            route = (method, *parts[1:])
            if route == ("POST", "login"):
                token, me = api.login(self._body())
                cookie = f"{COOKIE}={token}; Path=/; HttpOnly; SameSite=Strict"
                self._json(200, {"ok": True, **me}, {"Set-Cookie": cookie})
                return
            if route == ("POST", "logout"):
                self.server.sessions.close(self._token())
                self._json(200, {"ok": True}, {"Set-Cookie": f"{COOKIE}=; Path=/; Max-Age=0"})
                return
            self._json(200, self._call(api, session, route, url.query))
        except ApiError as exc:
            self._json(exc.status, {"ok": False, "reason": exc.reason, "message": exc.message})
        except StationError as exc:
            err = error_answer(exc)
            self._json(err.status, {"ok": False, "reason": err.reason, "message": err.message})
        except DBAPIError as exc:
            log.exception("web: the store failed")
            text = f"the station's store failed: {exc.orig}; try again"
            self._json(503, {"ok": False, "reason": "store", "message": text})

    def _call(self, api: Api, session, route: tuple, query: str):
        method, *rest = route
        if route == ("GET", "me"):
            return api.me(session)
        if route == ("GET", "info"):  # before login: the station's name and language
            st = self.server.api.settings.station
            return {"station": st.id, "name": st.name, "language": st.language}
        if rest == ["lookup"] and method == "GET":
            code = parse_qs(query).get("code", [""])[0]
            return api.lookup(session, code)
        if rest == ["orders"]:
            if method == "GET":
                return api.list_orders(session, parse_qs(query).get("state", [""])[0])
            return api.create(session, self._body())
        if len(rest) == 2 and rest[0] == "orders" and method == "GET":
            return api.show(session, rest[1])
        if len(rest) == 3 and rest[0] == "orders" and method == "POST":
            order, action = rest[1], rest[2]
            if action == "scan":
                return api.scan(session, order, self._body())
            if action == "remove":
                return api.remove(session, order, self._body())
            if action == "close":
                return api.close(session, order)
        raise ApiError(HTTPStatus.NOT_FOUND, "not_found", f"no API {method} /{'/'.join(route[1:])}")


class WebServer(ThreadingHTTPServer):
    """The handheld server; `.url`, `.stop()`, a context manager."""

    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, engine, settings, host: str, port: int) -> None:
        self.sessions = Sessions(web_settings(settings).session_minutes)
        self.api = Api(engine, settings, self.sessions)
        super().__init__((host, port), Handler)
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        """http://host:port of the listening socket."""
        host, port = self.server_address[:2]
        return f"http://{host}:{port}"

    def start(self) -> WebServer:
        """Serve on a background thread."""
        self._thread = threading.Thread(target=self.serve_forever, name="web", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving and close the socket."""
        self.shutdown()
        self.server_close()
        if self._thread is not None:
            self._thread.join(10)

    def __enter__(self) -> WebServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def serve_forever(engine, settings, host: str, port: int, *, announce=print) -> None:
    """`station web`: serve until Ctrl-C or SIGTERM."""
    try:
        server = WebServer(engine, settings, host, port)
    except OSError as exc:
        raise StationError(
            f"web: cannot listen on {host}:{port}: {exc.strerror or exc}; choose another --port "
            "or stop what uses it"
        ) from None
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    server.start()
    announce(f"handheld page on {server.url}/ (lookup: {server.url}/lookup); Ctrl-C stops")
    try:
        while not stop.wait(1.0):
            pass
    except KeyboardInterrupt:
        pass
    finally:
        server.stop()
