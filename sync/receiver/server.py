"""The reference receiver's HTTP server (stdlib), with fault switches for the tests and the demo.

Routes: OPTIONS|GET /capture, POST /capture, GET /capture/{id} (EPCIS 2.0 capture interface) and
POST /batches (multipart upload). Faults, drawn per request from one seeded RNG:
- fail_rate: answer 500 or 503 (body read first, so the client sees the answer, not a reset);
- reset_rate: close the connection without answering, mid-upload (nothing processed) or, for a
  share `reset_after_share` (default half) of the resets, after processing (the acknowledgement
  is lost);
- delay_s: wait before answering.
"""

from __future__ import annotations

import json
import logging
import random
import socket
import struct
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from sync.receiver.capture import Answer, CaptureService, problem
from sync.receiver.state import ReceiverState
from sync.receiver.upload import handle_upload
from sync.receiver.validate import EpcisValidator

log = logging.getLogger(__name__)

MAX_BODY_BYTES = 512 * 1024 * 1024


class _Reset(Exception):
    """Drop the connection without an answer."""


class _Handler(BaseHTTPRequestHandler):
    server: _HttpServer
    timeout = 10  # an idle or stalled client never pins a handler thread for long

    def log_message(self, format: str, *args: Any) -> None:
        log.debug("receiver %s: " + format, self.address_string(), *args)

    def do_OPTIONS(self) -> None:
        self._run(
            lambda body: (
                204,
                {"Allow": "OPTIONS, GET, POST", **self._capture.limit_headers()},
                None,
            ),
            read=False,
        )

    def do_GET(self) -> None:
        path = self.path.split("?", 1)[0].rstrip("/")
        if path == "/capture":
            self._run(lambda body: self._capture.list_jobs(), read=False)
        elif path.startswith("/capture/"):
            self._run(lambda body: self._capture.get_job(path.rsplit("/", 1)[1]), read=False)
        else:
            self._run(
                lambda body: problem(404, "Not found", path, "NoSuchNameException"), read=False
            )

    def do_POST(self) -> None:
        path = self.path.split("?", 1)[0].rstrip("/")
        srv = self.server.receiver
        if path == "/capture":
            self._run(lambda body: self._capture.accept(self.headers, body))
        elif path == "/batches":
            self._run(
                lambda body: handle_upload(srv.state, srv.validator, srv.key, self.headers, body)
            )
        else:
            self._run(lambda body: problem(404, "Not found", path, "NoSuchNameException"))

    @property
    def _capture(self) -> CaptureService:
        return self.server.receiver.capture

    def _run(self, route: Any, *, read: bool = True) -> None:
        srv = self.server.receiver
        fail, reset, reset_late = srv.draw_faults()
        try:
            if reset and not reset_late:
                self._read_body(half=True)
                raise _Reset()
            body = self._read_body() if read else b""
            if srv.delay_s:
                time.sleep(srv.delay_s)
            if fail:
                status = srv.rng_choice((500, 503))
                answer: Answer = problem(
                    status, "Injected failure", "fail_rate", "ImplementationException"
                )
            else:
                answer = route(body)
            if reset:
                raise _Reset()
            self._answer(*answer)
        except _Reset:
            self._drop()
        except _TooLarge as exc:
            self._answer(
                *problem(413, "Payload too large", str(exc), "CaptureLimitExceededException")
            )

    def _read_body(self, *, half: bool = False) -> bytes:
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            return b"" if half else self._read_chunked()
        length = int(self.headers.get("Content-Length") or 0)
        if length > MAX_BODY_BYTES:
            raise _TooLarge(f"{length} bytes over the receiver's {MAX_BODY_BYTES}")
        return self.rfile.read(length // 2 if half else length)

    def _read_chunked(self) -> bytes:
        out = bytearray()
        while True:
            size = int(self.rfile.readline().split(b";", 1)[0].strip() or b"0", 16)
            if size == 0:
                while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                    pass
                return bytes(out)
            out += self.rfile.read(size)
            self.rfile.readline()
            if len(out) > MAX_BODY_BYTES:
                raise _TooLarge(f"chunked body over the receiver's {MAX_BODY_BYTES}")

    def _answer(self, status: int, headers: dict[str, str], body: Any) -> None:
        data = b"" if body is None else json.dumps(body).encode()
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name, value)
        if body is not None and "Content-Type" not in headers:
            self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)

    def _drop(self) -> None:
        # SO_LINGER 0: close() sends RST, like a proxy or a flaky link dropping the connection.
        self.close_connection = True
        try:
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            self.connection.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass


class _TooLarge(Exception):
    pass


class _HttpServer(ThreadingHTTPServer):
    daemon_threads = False
    block_on_close = True
    receiver: ReceiverServer


class ReceiverServer:
    """The reference receiver: start()/stop() or a context manager; `.url` once started."""

    def __init__(
        self,
        port: int,
        store_dir: Path,
        *,
        key: bytes | None,
        fail_rate: float = 0.0,
        delay_s: float = 0.0,
        reset_rate: float = 0.0,
        seed: int | None = None,
        host: str = "127.0.0.1",
        schema_path: Path | None = None,
        capture_limit: int | None = None,
        file_size_limit: int | None = None,
        reset_after_share: float = 0.5,
    ) -> None:
        self.host, self.port = host, port
        self.reset_after_share = reset_after_share
        self.key = key
        self.fail_rate, self.reset_rate, self.delay_s = fail_rate, reset_rate, delay_s
        self._rng = random.Random(seed)
        self._rng_lock = threading.Lock()
        self.state = ReceiverState(Path(store_dir))
        self.validator = EpcisValidator(schema_path)
        self._limits = (capture_limit, file_size_limit)
        self.capture: CaptureService | None = None  # type: ignore[assignment]
        self._httpd: _HttpServer | None = None
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        """Base URL, e.g. http://127.0.0.1:PORT (capture at /capture, upload at /batches)."""
        return f"http://{self.host}:{self.port}"

    def draw_faults(self) -> tuple[bool, bool, bool]:
        """(fail, reset, reset after processing) for one request."""
        with self._rng_lock:
            fail = self._rng.random() < self.fail_rate
            reset = not fail and self._rng.random() < self.reset_rate
            late = reset and self._rng.random() < self.reset_after_share
        if fail or reset:
            with self.state.lock:
                self.state.stats["injected_failure" if fail else "injected_reset"] += 1
                self.state.stats["injected_reset_after_processing"] += int(late)
        return fail, reset, late

    def rng_choice(self, options: tuple[int, ...]) -> int:
        """A seeded random choice (which 5xx to answer)."""
        with self._rng_lock:
            return self._rng.choice(options)

    def stored_counts(self) -> dict[str, int]:
        """Batch id → how many times it was committed (the tests expect 1 each)."""
        with self.state.lock:
            return dict(self.state.stored)

    def stats(self) -> dict[str, int]:
        """Counters: replayed answers and injected faults."""
        with self.state.lock:
            return dict(self.state.stats)

    def start(self) -> ReceiverServer:
        """Bind and serve on a background thread; returns self."""
        if self._httpd is not None:
            return self
        self.capture = CaptureService(
            self.state,
            self.validator,
            self.key,
            capture_limit=self._limits[0],
            file_size_limit=self._limits[1],
        )
        httpd = _HttpServer((self.host, self.port), _Handler)
        httpd.receiver = self
        self.port = httpd.server_address[1]
        self._httpd = httpd
        self._thread = threading.Thread(
            target=httpd.serve_forever, kwargs={"poll_interval": 0.1}, name="receiver-http"
        )
        self._thread.start()
        log.info("receiver listening on %s, storing in %s", self.url, self.state.store_dir)
        return self

    def stop(self) -> None:
        """Stop serving, wait for handlers and the capture worker."""
        if self._httpd is None:
            return
        self._httpd.shutdown()
        self._httpd.server_close()
        if self._thread is not None:
            self._thread.join(10)
        if self.capture is not None:
            self.capture.stop()
        self._httpd = None

    def __enter__(self) -> ReceiverServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def serve(
    port: int,
    store_dir: Path,
    *,
    key: bytes | None,
    fail_rate: float = 0.0,
    delay_s: float = 0.0,
    reset_rate: float = 0.0,
    seed: int | None = None,
    host: str = "127.0.0.1",
    schema_path: Path | None = None,
    capture_limit: int | None = None,
    file_size_limit: int | None = None,
    reset_after_share: float = 0.5,
) -> ReceiverServer:
    """Start a reference receiver on host:port (0 picks a free port) and return it, running."""
    return ReceiverServer(
        port,
        store_dir,
        key=key,
        fail_rate=fail_rate,
        delay_s=delay_s,
        reset_rate=reset_rate,
        seed=seed,
        host=host,
        schema_path=schema_path,
        capture_limit=capture_limit,
        file_size_limit=file_size_limit,
        reset_after_share=reset_after_share,
    ).start()
