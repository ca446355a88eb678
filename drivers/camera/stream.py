"""Triggered frames over HTTP: each frame carries the trigger it belongs to.

A line camera is fired by the photocell, so every frame belongs to one item (or one case under
the case camera). Industrial cameras and camera gateways hand the trigger's data on with the
frame (GigE Vision chunk data, a frame counter, a smart camera's trigger index); this stream
carries it as a header of each part of a ``multipart/x-mixed-replace`` HTTP response, the format
IP cameras use for MJPEG:

    --linestationframe
    Content-Type: image/png            (or image/jpeg)
    Content-Length: 20311
    X-Trigger: 1042                    (the PLC's item sequence number; "7;1;23" for a case:
                                        case number, last case, infeed count; absent: untagged)

`FrameStreamServer` serves frames taken from a callable (the simulated world); the station reads
with `FrameStreamClient`, a FrameSource: ``get(timeout_s) -> (tag, frame) | None``. An untagged
frame comes back with tag None (the line matches it to the oldest item still waiting for a frame).
PNG keeps a dot-matrix code's dots exact; JPEG is what most IP cameras send.
"""

from __future__ import annotations

import queue
import socket
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlsplit

import cv2
import numpy

from drivers.camera.simserver import HttpStreamLifecycle
from drivers.errors import (
    DriverConnectionError,
    DriverError,
    DriverProtocolError,
    DriverTimeout,
)

BOUNDARY = b"linestationframe"
Tag = int | tuple[int | None, ...] | None


def encode_tag(tag: Tag) -> str | None:
    """The X-Trigger header value of a tag (None: no header)."""
    if tag is None:
        return None
    if isinstance(tag, tuple):
        return ";".join("" if v is None else str(int(v)) for v in tag)
    return str(int(tag))


def decode_tag(value: str | None) -> Tag:
    """Inverse of encode_tag; a malformed value raises ValueError."""
    if value is None or value == "":
        return None
    if ";" not in value:
        return int(value)
    return tuple(int(v) if v else None for v in value.split(";"))


class FrameStreamServer(HttpStreamLifecycle):
    """Serve tagged frames at ``http://host:port/frames``; one client at a time takes them.

    ``next_frame(timeout_s)`` returns ``(tag, frame)`` or None when there is none yet; without it
    the server keeps its own queue, fed with ``put(tag, frame)``. Frames are
    handed to the connected client in order; with no client connected they wait (a camera with
    nobody reading its stream keeps its buffer). Works as a context manager.
    """

    def __init__(
        self,
        next_frame: Callable[[float], tuple[Tag, numpy.ndarray] | None] | None = None,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        fmt: str = "png",
        name: str = "camera-sim",
    ) -> None:
        if fmt not in ("png", "jpeg"):
            raise ValueError(f"fmt must be png or jpeg, got {fmt!r}")
        self._queue: queue.Queue[tuple[Tag, numpy.ndarray]] = queue.Queue()
        self._next = next_frame or self._take
        self._fmt = fmt
        self.name = name
        self._stopping = threading.Event()
        self.served = 0
        server = self

        class Handler(BaseHTTPRequestHandler):
            timeout = 5.0

            def log_message(self, *args: object) -> None:
                pass

            def do_GET(self) -> None:
                if self.path.split("?")[0] != "/frames":
                    self.send_error(404, "the frame stream is at /frames")
                    return
                self.send_response(200)
                self.send_header(
                    "Content-Type", f"multipart/x-mixed-replace; boundary={BOUNDARY.decode()}"
                )
                self.send_header("Cache-Control", "no-cache")
                self.end_headers()
                server._stream(self)

        self._httpd = ThreadingHTTPServer((host, port), Handler)
        self._httpd.daemon_threads = True
        bound_host, self.port = self._httpd.server_address[:2]
        # An AF_INET socket names its host as str; typeshed also allows bytes for the address.
        self.host = bound_host if isinstance(bound_host, str) else bytes(bound_host).decode()
        self.url = f"http://{self.host}:{self.port}/frames"
        self._serve_in_thread(f"{name}-server")

    def put(self, tag: Tag, frame: numpy.ndarray) -> None:
        """Queue a frame for the client (when built without next_frame): the camera fired."""
        self._queue.put((tag, frame))

    def _take(self, timeout_s: float) -> tuple[Tag, numpy.ndarray] | None:
        try:
            return self._queue.get(timeout=timeout_s)
        except queue.Empty:
            return None

    def _stream(self, handler: BaseHTTPRequestHandler) -> None:
        ext, ctype = (".png", b"image/png") if self._fmt == "png" else (".jpg", b"image/jpeg")
        while not self._stopping.is_set():
            got = self._next(0.05)
            if got is None:
                continue
            tag, frame = got
            ok, data = cv2.imencode(ext, frame)
            if not ok:
                continue
            head = b"--" + BOUNDARY + b"\r\nContent-Type: " + ctype
            head += b"\r\nContent-Length: " + str(len(data)).encode()
            value = encode_tag(tag)
            if value is not None:
                head += b"\r\nX-Trigger: " + value.encode()
            try:
                handler.wfile.write(head + b"\r\n\r\n" + data.tobytes() + b"\r\n")
                handler.wfile.flush()
            except OSError:
                return  # the client went away; this frame is lost like a dropped camera frame
            self.served += 1


class FrameStreamClient:
    """A FrameSource reading a tagged multipart frame stream over HTTP; reconnects by itself.

    ``get`` raises DriverConnectionError while the stream is down (after the first connect) and
    DriverProtocolError for a part that is not a frame, naming the camera and its URL.
    """

    def __init__(self, url: str, *, name: str = "camera", timeout_s: float = 2.0) -> None:
        parts = urlsplit(url)
        if parts.scheme != "http" or not parts.hostname:
            raise ValueError(f"{name}: a frame stream URL looks like http://host:port/frames")
        self.url = url
        self.name = name
        self.timeout_s = timeout_s
        self._host, self._port = parts.hostname, parts.port or 80
        self._path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        self._q: queue.Queue[tuple[Tag, Any]] = queue.Queue(maxsize=256)
        self._error: Exception | None = None
        self._stop = threading.Event()
        self._sock: socket.socket | None = None
        self._thread: threading.Thread | None = None
        self.received = 0
        self.dropped = 0

    # -- lifecycle ---------------------------------------------------------------------------------
    def connect(self) -> None:
        """Open the stream (raises DriverConnectionError) and read it in a background thread."""
        if self._thread is not None:
            return
        self._stop.clear()
        self._sock = self._open()
        self._thread = threading.Thread(target=self._loop, name=f"{self.name}-stream", daemon=True)
        self._thread.start()

    def close(self) -> None:
        """Stop reading and close the socket; idempotent."""
        self._stop.set()
        sock, self._sock = self._sock, None
        if sock is not None:
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            sock.close()
        if self._thread is not None:
            self._thread.join(timeout=2.0)
            self._thread = None

    def __enter__(self) -> FrameStreamClient:
        self.connect()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- the FrameSource interface ---------------------------------------------------------------
    def get(self, timeout_s: float) -> tuple[Tag, Any] | None:
        """The next (tag, frame), or None if none came within timeout_s."""
        try:
            return self._q.get(timeout=timeout_s) if timeout_s else self._q.get_nowait()
        except queue.Empty:
            pass
        err = self._error
        if err is not None:
            self._error = None
            raise err
        return None

    # -- reading -----------------------------------------------------------------------------------
    def _open(self) -> socket.socket:
        try:
            sock = socket.create_connection((self._host, self._port), timeout=self.timeout_s)
        except OSError as exc:
            raise DriverConnectionError(
                self.name, self.url, f"cannot open the frame stream: {exc}",
                "check the camera (or `station sim`) is running and the URL in config.toml",
            ) from exc  # fmt: skip
        request = f"GET {self._path} HTTP/1.1\r\nHost: {self._host}\r\nConnection: close\r\n\r\n"
        try:
            sock.sendall(request.encode())
            self._buf = b""
            status = self._line(sock)
            if b" 200 " not in status + b" ":
                raise DriverProtocolError(
                    self.name, self.url, f"the camera answered {status[:80]!r}",
                    "the URL must be the camera's frame stream (…/frames)",
                )  # fmt: skip
            while self._line(sock):
                pass  # response headers
        except TimeoutError as exc:  # connected, then silence: not a frame stream
            sock.close()
            raise DriverTimeout(
                self.name, self.url, f"no answer to the stream request within {self.timeout_s:g} s",
                "check the URL in config.toml is the camera's frame stream (…/frames)",
            ) from exc  # fmt: skip
        except OSError as exc:  # reset, or closed before the headers ended
            sock.close()
            raise DriverConnectionError(
                self.name, self.url, f"the frame stream broke off: {exc}",
                "check the camera (or `station sim`) is running and the URL in config.toml",
            ) from exc  # fmt: skip
        except DriverError:
            sock.close()
            raise
        return sock

    def _recv(self, sock: socket.socket) -> None:
        data = sock.recv(65536)
        if not data:
            raise ConnectionError("the camera closed the stream")
        self._buf += data

    def _line(self, sock: socket.socket) -> bytes:
        while b"\r\n" not in self._buf:
            if len(self._buf) > 65536:
                raise DriverProtocolError(
                    self.name, self.url, "a header line longer than 64 KiB", "not a frame stream"
                )
            self._recv(sock)
        line, self._buf = self._buf.split(b"\r\n", 1)
        return line

    def _part(self, sock: socket.socket) -> tuple[Tag, Any]:
        line = self._line(sock)
        while not line:  # blank lines between parts
            line = self._line(sock)
        if line.strip() != b"--" + BOUNDARY:
            raise DriverProtocolError(
                self.name, self.url, f"expected a part boundary, got {line[:60]!r}",
                "the stream is not a LineStation frame stream",
            )  # fmt: skip
        headers: dict[str, str] = {}
        while line := self._line(sock):
            key, _, value = line.decode("latin-1").partition(":")
            headers[key.strip().lower()] = value.strip()
        try:
            size = int(headers["content-length"])
            tag = decode_tag(headers.get("x-trigger"))
        except (KeyError, ValueError) as exc:
            raise DriverProtocolError(
                self.name, self.url, f"bad part headers {headers}: {exc}",
                "each part needs Content-Length and an integer X-Trigger",
            ) from exc  # fmt: skip
        while len(self._buf) < size:
            self._recv(sock)
        data, self._buf = self._buf[:size], self._buf[size:]
        frame = cv2.imdecode(numpy.frombuffer(data, numpy.uint8), cv2.IMREAD_UNCHANGED)
        if frame is None:
            raise DriverProtocolError(
                self.name, self.url, f"a {size}-byte part is not an image (tag {tag})",
                "check the camera's output format (PNG or JPEG)",
            )  # fmt: skip
        return tag, frame

    def _loop(self) -> None:
        backoff = 0.1
        while not self._stop.is_set():
            sock = self._sock
            try:
                if sock is None:
                    sock = self._sock = self._open()
                    backoff = 0.1
                sock.settimeout(None)  # frames come when items do; close() unblocks recv
                while not self._stop.is_set():
                    got = self._part(sock)
                    self.received += 1
                    try:
                        self._q.put_nowait(got)
                    except queue.Full:
                        self.dropped += 1  # nobody is taking frames: keep the newest
                        self._q.get_nowait()
                        self._q.put_nowait(got)
            except (OSError, ConnectionError, DriverConnectionError, DriverProtocolError) as exc:
                if self._stop.is_set():
                    return
                if not isinstance(exc, DriverConnectionError | DriverProtocolError):
                    exc = DriverConnectionError(
                        self.name, self.url, f"frame stream lost: {exc}",
                        "check the camera's cable and power; reconnecting",
                    )  # fmt: skip
                self._error = exc
                if self._sock is not None:
                    self._sock.close()
                    self._sock = None
                self._stop.wait(backoff)
                backoff = min(backoff * 2, 2.0)


class CameraFrameSource:
    """A FrameSource over a hardware-triggered Camera (OpenCV, GenICam): untagged, in order."""

    def __init__(self, camera: Any) -> None:
        self.camera = camera
        self.name = getattr(camera, "name", "camera")
        self.url = str(getattr(camera, "source", ""))
        self._q: queue.Queue[tuple[Tag, Any]] = queue.Queue(maxsize=256)
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._error: Exception | None = None

    def connect(self) -> None:
        """Open the camera and grab in a background thread."""
        self.camera.open()
        self._thread = threading.Thread(target=self._loop, name=f"{self.name}-grab", daemon=True)
        self._thread.start()

    def _loop(self) -> None:
        from drivers.errors import DriverError, DriverTimeout

        while not self._stop.is_set():
            try:
                frame = self.camera.grab(0.2)
            except DriverTimeout:
                continue
            except DriverError as exc:
                self._error = exc
                time.sleep(0.2)
                continue
            self._q.put((None, frame))

    def get(self, timeout_s: float) -> tuple[Tag, Any] | None:
        """The next (None, frame), or None."""
        try:
            return self._q.get(timeout=timeout_s) if timeout_s else self._q.get_nowait()
        except queue.Empty:
            err, self._error = self._error, None
            if err is not None:
                raise err from None
            return None

    def close(self) -> None:
        """Stop grabbing and close the camera."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=2.0)
        self.camera.close()


__all__ = [
    "CameraFrameSource",
    "FrameStreamClient",
    "FrameStreamServer",
    "decode_tag",
    "encode_tag",
]
