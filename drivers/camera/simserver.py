"""Serve simulated frames over a real transport OpenCV reads: MJPEG over HTTP on 127.0.0.1."""

from __future__ import annotations

import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Self

import cv2
import numpy

from drivers.errors import DriverTimeout

_BOUNDARY = b"linestationframe"


class HttpStreamLifecycle:
    """Start/stop of a ThreadingHTTPServer served from a background thread (both stream servers)."""

    _httpd: ThreadingHTTPServer
    _thread: threading.Thread
    _stopping: threading.Event

    def _serve_in_thread(self, name: str) -> None:
        self._thread = threading.Thread(
            target=self._httpd.serve_forever,
            kwargs={"poll_interval": 0.05},
            name=name,
            daemon=True,
        )

    def start(self) -> Self:
        """Begin serving in a background thread."""
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving, close the listening socket and join the server thread."""
        self._stopping.set()
        if self._thread.is_alive():
            self._httpd.shutdown()
            self._thread.join(timeout=2.0)
        self._httpd.server_close()

    def close(self) -> None:
        """Same as stop()."""
        self.stop()

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


class MjpegServer(HttpStreamLifecycle):
    """``multipart/x-mixed-replace`` JPEG stream at ``http://127.0.0.1:<port>/stream.mjpg``.

    ``next_frame(timeout_s)`` supplies frames (e.g. ``SimCamera.grab``); each client gets the
    frames in turn. Works as a context manager; ``stop()`` closes the socket and joins threads.
    """

    def __init__(
        self,
        next_frame: Callable[[float], numpy.ndarray],
        host: str = "127.0.0.1",
        port: int = 0,
        quality: int = 95,
    ) -> None:
        self._next_frame = next_frame
        self._quality = quality
        self._stopping = threading.Event()
        server = self

        class Handler(BaseHTTPRequestHandler):
            timeout = 2.0  # a client that stops reading cannot block stop() for longer

            def log_message(self, *args: object) -> None:
                pass

            def do_GET(self) -> None:
                if self.path.split("?")[0] != "/stream.mjpg":
                    self.send_error(404)
                    return
                self.send_response(200)
                self.send_header(
                    "Content-Type", f"multipart/x-mixed-replace; boundary={_BOUNDARY.decode()}"
                )
                self.send_header("Cache-Control", "no-cache")
                self.end_headers()
                server._stream(self)

        self._httpd = ThreadingHTTPServer((host, port), Handler)
        self._httpd.daemon_threads = False  # server_close() joins the client threads
        self.port = self._httpd.server_address[1]
        self.url = f"http://{host}:{self.port}/stream.mjpg"
        self._serve_in_thread("mjpeg-server")

    def _stream(self, handler: BaseHTTPRequestHandler) -> None:
        while not self._stopping.is_set():
            try:
                frame = self._next_frame(0.1)
            except DriverTimeout:
                continue
            ok, jpeg = cv2.imencode(".jpg", frame, [cv2.IMWRITE_JPEG_QUALITY, self._quality])
            if not ok:
                continue
            part = (
                b"--"
                + _BOUNDARY
                + b"\r\nContent-Type: image/jpeg\r\nContent-Length: "
                + str(len(jpeg)).encode()
                + b"\r\n\r\n"
            )
            try:
                handler.wfile.write(part + jpeg.tobytes() + b"\r\n")
                handler.wfile.flush()
            except OSError:
                return
