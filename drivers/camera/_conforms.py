"""Checked by mypy, never called: each decoder meets Decoder and each frame source Camera.

A driver that drifts from its Protocol (a renamed method, a changed signature) fails `make lint`
here rather than at run time on the line.
"""

from __future__ import annotations

from drivers.camera.base import Camera, Decoder
from drivers.camera.decode import CascadeDecoder, ZxingDecoder
from drivers.camera.genicam import HarvesterCamera
from drivers.camera.opencv import ImageFolderCamera, OpenCVCamera
from drivers.camera.sim import SimCamera
from drivers.camera.zbar import PyzbarDecoder


def _decoders(
    zxing: ZxingDecoder, zbar: PyzbarDecoder, cascade: CascadeDecoder
) -> tuple[Decoder, Decoder, Decoder]:
    return zxing, zbar, cascade


def _cameras(
    opencv: OpenCVCamera, folder: ImageFolderCamera, genicam: HarvesterCamera, sim: SimCamera
) -> tuple[Camera, Camera, Camera, Camera]:
    return opencv, folder, genicam, sim
