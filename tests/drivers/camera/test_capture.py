"""Capture through real transports: image folder, video file (cv2.VideoWriter), MJPEG over HTTP."""

from __future__ import annotations

import importlib.util
import threading
import time
from pathlib import Path

import cv2
import numpy
import pytest

from drivers.camera.base import Camera, SourceExhausted
from drivers.camera.decode import ZxingDecoder
from drivers.camera.genicam import HarvesterCamera
from drivers.camera.opencv import ImageFolderCamera, OpenCVCamera
from drivers.camera.sim import SimCamera, render_code
from drivers.camera.simserver import MjpegServer
from drivers.errors import DriverConnectionError, DriverError, DriverTimeout

DECODER = ZxingDecoder(grade=False)


def texts(frame: numpy.ndarray) -> list[str]:
    return [c.text for c in DECODER.decode(frame)]


@pytest.fixture(autouse=True)
def no_leaked_threads():
    before = set(threading.enumerate())
    yield
    leaked = [t for t in threading.enumerate() if t not in before and t.is_alive()]
    for t in leaked:
        t.join(timeout=3.0)
    assert not [t.name for t in leaked if t.is_alive()]


def test_image_folder_in_sorted_order_then_exhausted(tmp_path: Path) -> None:
    for name in ("b_02.png", "a_01.png", "c_03.png"):
        cv2.imwrite(str(tmp_path / name), render_code(name[:4], seed=1))
    (tmp_path / "notes.txt").write_text("not an image")
    with ImageFolderCamera(tmp_path) as cam:
        assert isinstance(cam, Camera)
        assert [texts(cam.grab())[0] for _ in range(3)] == ["a_01", "b_02", "c_03"]
        with pytest.raises(SourceExhausted):
            cam.grab()


def test_image_folder_loop(tmp_path: Path) -> None:
    cv2.imwrite(str(tmp_path / "one.png"), render_code("ONE", seed=1))
    with ImageFolderCamera(tmp_path, loop=True) as cam:
        assert texts(cam.grab()) == texts(cam.grab()) == ["ONE"]


def test_image_folder_errors_name_the_folder(tmp_path: Path) -> None:
    with pytest.raises(DriverConnectionError, match="no image files"):
        ImageFolderCamera(tmp_path).open()
    with pytest.raises(DriverConnectionError, match="not a folder"):
        ImageFolderCamera(tmp_path / "missing").open()
    (tmp_path / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\nnot really")
    with ImageFolderCamera(tmp_path) as cam, pytest.raises(DriverError, match=r"broken\.png"):
        cam.grab()


def test_video_file_written_with_videowriter(tmp_path: Path) -> None:
    path = tmp_path / "line.avi"
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), 10.0, (640, 480))
    assert writer.isOpened()
    for i in range(3):
        writer.write(cv2.cvtColor(render_code(f"ITEM-{i}", seed=i), cv2.COLOR_GRAY2BGR))
    writer.release()
    with OpenCVCamera(str(path), name="cam1", timeout_s=2.0) as cam:
        assert [texts(cam.grab(2.0)) for _ in range(3)] == [["ITEM-0"], ["ITEM-1"], ["ITEM-2"]]
        with pytest.raises(SourceExhausted):
            cam.grab(2.0)


def test_mjpeg_stream_over_http() -> None:
    sim = SimCamera(frames=[render_code("STREAM-1", dot_matrix=True, seed=1)], loop=True)
    with MjpegServer(sim.grab) as server, OpenCVCamera(server.url, timeout_s=3.0) as cam:
        assert server.url.startswith("http://127.0.0.1:")
        frame = cam.grab(3.0)
        assert frame.shape == (480, 640, 3)
        assert texts(frame) == ["STREAM-1"]


def test_open_failure_names_camera_and_url(tmp_path: Path) -> None:
    missing = str(tmp_path / "nothing.avi")
    with pytest.raises(DriverConnectionError) as info:
        OpenCVCamera(missing, name="cam7").open()
    assert "cam7" in str(info.value) and missing in str(info.value)


def test_grab_before_open_is_an_error() -> None:
    with pytest.raises(DriverConnectionError, match="before open"):
        OpenCVCamera(0, name="cam0").grab()


def test_sim_camera_push_grab_and_timeout() -> None:
    with SimCamera("sim1") as cam:
        with pytest.raises(DriverTimeout, match="sim1"):
            cam.grab(0.05)
        cam.push(render_code("PUSHED", seed=1))
        assert texts(cam.grab(0.5)) == ["PUSHED"]


@pytest.mark.skipif(
    importlib.util.find_spec("harvesters") is not None, reason="harvesters installed"
)
def test_genicam_without_harvesters_says_how_to_install() -> None:
    with pytest.raises(DriverConnectionError, match="harvesters"):
        HarvesterCamera("/opt/vendor/producer.cti", name="gige1").open()


@pytest.mark.hardware
@pytest.mark.skipif(
    importlib.util.find_spec("harvesters") is None,
    reason="needs a GenICam (GigE/USB3 Vision) camera, its GenTL producer and harvesters",
)
def test_genicam_camera_grabs() -> None:  # pragma: no cover - hardware only
    import os

    cti = os.environ.get("LINESTATION_GENTL_CTI", "")
    if "genicam" not in os.environ.get("LINESTATION_HARDWARE", "") or not cti:
        pytest.skip(
            "needs a GenICam camera: set LINESTATION_HARDWARE=genicam and LINESTATION_GENTL_CTI"
        )
    cam = HarvesterCamera(cti)
    cam.open()
    try:
        assert cam.grab(2.0).ndim in (2, 3)
    finally:
        cam.close()


def test_stalled_stream_times_out_and_closes_quickly() -> None:
    sim = SimCamera()
    sim.push(render_code("LAST", seed=1))
    with MjpegServer(sim.grab) as server:
        cam = OpenCVCamera(server.url, name="ipcam", timeout_s=0.5)
        cam.open()
        try:
            assert texts(cam.grab(2.0)) == ["LAST"]
            started = time.monotonic()
            with pytest.raises(DriverTimeout, match="ipcam"):
                cam.grab(0.5)
            assert time.monotonic() - started < 1.5
        finally:
            cam.close()


def test_silent_stream_fails_to_open_with_a_clear_error() -> None:
    with MjpegServer(SimCamera().grab) as server:
        started = time.monotonic()
        with pytest.raises(DriverConnectionError, match="ipcam"):
            OpenCVCamera(server.url, name="ipcam", timeout_s=0.5).open()
        assert time.monotonic() - started < 5.0


def test_decode_sixteen_bit_and_bgra_frames(tmp_path: Path) -> None:
    from drivers.camera.decode_files import decode_file

    gray = render_code("DEEP", seed=2)
    cv2.imwrite(str(tmp_path / "deep.png"), gray.astype(numpy.uint16) * 257)
    cv2.imwrite(str(tmp_path / "alpha.png"), cv2.cvtColor(gray, cv2.COLOR_GRAY2BGRA))
    for name in ("deep.png", "alpha.png"):
        assert [c["text"] for c in decode_file(str(tmp_path / name))["codes"]] == ["DEEP"]
