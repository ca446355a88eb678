"""The tagged frame stream over real HTTP on loopback: tags, images, reconnects, bad peers."""

from __future__ import annotations

import math
import queue
import socket
import threading
import time

import numpy
import pytest

from drivers.camera.decode import make_decoder
from drivers.camera.sim import render_code
from drivers.camera.stream import FrameStreamClient, FrameStreamServer, decode_tag, encode_tag
from drivers.errors import DriverConnectionError, DriverProtocolError


def _feed() -> tuple[queue.Queue, object]:
    q: queue.Queue = queue.Queue()

    def next_frame(timeout_s: float):
        try:
            return q.get(timeout=timeout_s)
        except queue.Empty:
            return None

    return q, next_frame


def _get(client: FrameStreamClient, timeout_s: float = 3.0):
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            got = client.get(0.05)
        except DriverConnectionError:
            continue
        if got is not None:
            return got
    pytest.fail("no frame within the deadline")


@pytest.mark.parametrize(
    "tag", [7, 0, 65535, (3, 1, 23), (4, 0, None), None], ids=lambda t: repr(t)
)
def test_tags_round_trip(tag) -> None:
    assert decode_tag(encode_tag(tag)) == tag


def test_frames_arrive_in_order_with_their_trigger_and_decode() -> None:
    q, nf = _feed()
    codes = [f"LS{n:06d}ABCDEF" for n in range(5)]
    with FrameStreamServer(nf) as server, FrameStreamClient(server.url, name="verify") as client:
        for n, code in enumerate(codes):
            q.put((100 + n, render_code(code, module_px=3, size=(200, 320), seed=n)))
        q.put(((9, 1, 23), numpy.full((40, 60), 200, numpy.uint8)))
        got = [_get(client) for _ in range(6)]
    dec = make_decoder(pass_budget_ms=math.inf)
    assert [t for t, _ in got] == [100, 101, 102, 103, 104, (9, 1, 23)]
    assert [dec.decode(f, 1)[0].text for _, f in got[:5]] == codes  # PNG: dots exact
    assert got[5][1].shape == (40, 60) and got[5][1].dtype == numpy.uint8


def test_untagged_jpeg_frames_come_back_with_tag_none() -> None:
    q, nf = _feed()
    with FrameStreamServer(nf, fmt="jpeg") as server, FrameStreamClient(server.url) as client:
        q.put((None, numpy.full((48, 64, 3), 128, numpy.uint8)))
        tag, frame = _get(client)
    assert tag is None and frame.shape == (48, 64, 3)


def test_no_camera_is_a_clear_connection_error() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # closed again: nobody listens there
    client = FrameStreamClient(f"http://127.0.0.1:{port}/frames", name="verify_camera")
    with pytest.raises(DriverConnectionError, match=rf"verify_camera at .*:{port}.*station sim"):
        client.connect()


def test_stream_reconnects_after_the_camera_restarts() -> None:
    q, nf = _feed()
    server = FrameStreamServer(nf).start()
    port = server.port
    client = FrameStreamClient(server.url)
    client.connect()
    try:
        q.put((1, numpy.zeros((8, 8), numpy.uint8)))
        assert _get(client)[0] == 1
        server.stop()
        errors = 0
        deadline = time.monotonic() + 3
        while time.monotonic() < deadline and not errors:
            try:
                client.get(0.05)
            except DriverConnectionError as exc:
                errors += 1
                assert "frame stream lost" in str(exc) or "cannot open" in str(exc)
        assert errors, "a lost stream must be reported, not silent"
        server = FrameStreamServer(nf, port=port).start()
        q.put((2, numpy.zeros((8, 8), numpy.uint8)))
        assert _get(client, 6.0)[0] == 2
    finally:
        client.close()
        server.stop()


def _garbage_server(payload: bytes) -> tuple[socket.socket, threading.Thread]:
    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen(1)

    def serve() -> None:
        conn, _ = srv.accept()
        conn.recv(4096)
        conn.sendall(payload)
        time.sleep(0.5)
        conn.close()

    t = threading.Thread(target=serve, daemon=True)
    t.start()
    return srv, t


@pytest.mark.parametrize(
    ("payload", "what"),
    [
        (
            b"HTTP/1.1 200 OK\r\n\r\n--linestationframe\r\nContent-Length: 5\r\n"
            b"X-Trigger: 1\r\n\r\nhello\r\n",
            "not an image",
        ),
        (
            b"HTTP/1.1 200 OK\r\n\r\n--linestationframe\r\nContent-Length: 5\r\n"
            b"X-Trigger: one\r\n\r\nhello\r\n",
            "bad part headers",
        ),
        (b"HTTP/1.1 200 OK\r\n\r\nGARBAGE\r\n", "expected a part boundary"),
    ],
)
def test_garbage_from_the_camera_is_named(payload: bytes, what: str) -> None:
    srv, t = _garbage_server(payload)
    port = srv.getsockname()[1]
    client = FrameStreamClient(f"http://127.0.0.1:{port}/frames", name="case_camera")
    try:
        client.connect()
        with pytest.raises(DriverProtocolError, match=what) as info:
            deadline = time.monotonic() + 3
            while time.monotonic() < deadline:
                client.get(0.05)
        assert "case_camera" in str(info.value)
    finally:
        client.close()
        t.join(2)
        srv.close()


def test_a_wrong_url_is_refused_with_the_status() -> None:
    _, nf = _feed()
    with FrameStreamServer(nf) as server:
        client = FrameStreamClient(server.url.replace("/frames", "/nope"))
        with pytest.raises(DriverProtocolError, match="404"):
            client.connect()
