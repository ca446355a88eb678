"""Cameras read through OpenCV: device index, RTSP/HTTP stream, video file, or an image folder."""

from __future__ import annotations

import threading
from pathlib import Path

import cv2
import numpy

from drivers.camera.base import SourceExhausted
from drivers.errors import DriverConnectionError, DriverError, DriverTimeout

_IMAGE_SUFFIXES = frozenset({".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff", ".pgm", ".webp"})


class OpenCVCamera:
    """``cv2.VideoCapture`` on a device index, ``rtsp://``/``http://`` URL or video file path.

    ``read()`` has no timeout of its own (a stalled stream blocks inside FFmpeg), so each grab runs
    in a worker thread and is abandoned after ``timeout_s``; OpenCV's own open/read timeouts for
    network streams are set too so the worker ends soon after.
    """

    def __init__(self, source: int | str, name: str = "camera", timeout_s: float = 1.0) -> None:
        self.source = source
        self.name = name
        self.url = f"device:{source}" if isinstance(source, int) else str(source)
        self.timeout_s = timeout_s
        self._cap: cv2.VideoCapture | None = None
        self._lock = threading.Lock()
        self._finite = isinstance(source, str) and Path(source).is_file()

    def open(self) -> None:
        """Open the source; DriverConnectionError naming camera and url when OpenCV cannot."""
        if self._cap is not None:
            return
        ms = int(self.timeout_s * 1000)
        params = [cv2.CAP_PROP_OPEN_TIMEOUT_MSEC, max(ms, 1000), cv2.CAP_PROP_READ_TIMEOUT_MSEC, ms]
        cap = cv2.VideoCapture(self.source, cv2.CAP_ANY, params)
        if not cap.isOpened():
            cap.release()
            raise DriverConnectionError(
                self.name,
                self.url,
                "OpenCV could not open the source",
                "check the device index, URL or file path and that nothing else holds the camera",
            )
        self._cap = cap

    def grab(self, timeout_s: float = 1.0) -> numpy.ndarray:
        """Next frame (BGR); DriverTimeout if none in ``timeout_s``, SourceExhausted at file end."""
        cap = self._cap
        if cap is None:
            raise DriverConnectionError(self.name, self.url, "grab() before open()")
        result: list[tuple[bool, numpy.ndarray | None]] = []
        done = threading.Event()

        def read() -> None:
            with self._lock:
                result.append(cap.read())
            done.set()

        worker = threading.Thread(target=read, name=f"{self.name}-grab", daemon=True)
        worker.start()
        if not done.wait(timeout_s):
            raise DriverTimeout(self.name, self.url, f"no frame within {timeout_s} s")
        ok, frame = result[0]
        if not ok or frame is None:
            if self._finite:
                raise SourceExhausted(self.name, self.url, "end of video file")
            raise DriverError(
                self.name, self.url, "stream returned no frame", "is it still running?"
            )
        return frame

    def close(self) -> None:
        """Release the capture; safe to call twice."""
        cap, self._cap = self._cap, None
        # A read stuck in FFmpeg holds the lock until its own read timeout; wait that long, no more.
        if cap is not None and self._lock.acquire(timeout=max(2.0, 2 * self.timeout_s)):
            try:
                cap.release()
            finally:
                self._lock.release()

    def __enter__(self) -> OpenCVCamera:
        self.open()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class ImageFolderCamera:
    """Images of a folder in sorted name order, read with ``cv2.imread``; ``loop`` repeats."""

    def __init__(self, path: str | Path, loop: bool = False, name: str = "folder") -> None:
        self.path = Path(path)
        self.loop = loop
        self.name = name
        self.url = f"folder:{self.path}"
        self._files: list[Path] = []
        self._index = 0

    def open(self) -> None:
        """List the folder; DriverConnectionError if it is missing or holds no image."""
        if not self.path.is_dir():
            raise DriverConnectionError(self.name, self.url, "not a folder")
        files = sorted(p for p in self.path.iterdir() if p.suffix.lower() in _IMAGE_SUFFIXES)
        if not files:
            raise DriverConnectionError(self.name, self.url, "no image files in the folder")
        self._files = files
        self._index = 0

    def grab(self, timeout_s: float = 1.0) -> numpy.ndarray:
        """Next image; SourceExhausted after the last one (unless ``loop``); error if unreadable."""
        if not self._files:
            raise DriverConnectionError(self.name, self.url, "grab() before open()")
        if self._index >= len(self._files):
            if not self.loop:
                raise SourceExhausted(self.name, self.url, "no more images")
            self._index = 0
        path = self._files[self._index]
        self._index += 1
        frame = cv2.imread(str(path), cv2.IMREAD_UNCHANGED)
        if frame is None:
            raise DriverError(self.name, self.url, f"cannot read image {path.name}")
        return frame

    def close(self) -> None:
        """Forget the file list."""
        self._files = []

    def __enter__(self) -> ImageFolderCamera:
        self.open()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
