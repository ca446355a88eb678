"""Decode image files: the engine behind ``station decode IMAGE... [--json]``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import cv2
import numpy

from drivers.camera.base import DecodedCode, Decoder
from drivers.camera.decode import make_decoder
from drivers.errors import DriverError


class UnreadableImage(DriverError):
    """The file is missing or is not an image OpenCV can read."""


_default: Decoder | None = None


def _decoder() -> Decoder:
    global _default
    if _default is None:
        _default = make_decoder()
    return _default


def read_image(path: str) -> numpy.ndarray:
    """The image at ``path`` (unicode paths too); UnreadableImage naming the file otherwise."""
    file = Path(path)
    if not file.is_file():
        raise UnreadableImage("decode", path, "no such file", "check the path")
    # cv2.imread fails silently on non-ASCII paths on some platforms: decode from bytes instead.
    data = numpy.fromfile(file, dtype=numpy.uint8)
    image = cv2.imdecode(data, cv2.IMREAD_UNCHANGED) if data.size else None
    if image is None:
        raise UnreadableImage(
            "decode", path, "not an image OpenCV can read", "give a PNG, JPEG, BMP or TIFF picture"
        )
    if image.dtype != numpy.uint8:
        image = cv2.convertScaleAbs(image, alpha=255.0 / max(1.0, float(image.max())))
    return image


def code_to_json(code: DecodedCode) -> dict[str, Any]:
    """The JSON shape of one code: exactly text, symbology, corners, grade."""
    out: dict[str, Any] = {
        "text": code.text,
        "symbology": code.symbology,
        "corners": [list(p) for p in code.corners],
        "grade": code.grade,
    }
    return out


def decode_file(
    path: str, decoder: Decoder | None = None, expected: int | None = None
) -> dict[str, Any]:
    """``{"image": path, "codes": [{"text", "symbology", "corners", "grade"}]}`` for one file.

    ``expected`` (codes known to be in the image) makes the decoder try enhancement passes and
    the second opinion until it has found that many; without it they run only when none is found.

    Raises UnreadableImage (a DriverError) for a missing or unreadable file; use
    ``error_object`` to turn that into ``{"image": path, "error": "..."}`` for JSON output.
    """
    image = read_image(path)
    codes = (decoder or _decoder()).decode(image, expected)
    return {"image": path, "codes": [code_to_json(c) for c in codes]}


def error_object(path: str, error: Exception) -> dict[str, Any]:
    """The JSON object printed for a file that could not be decoded."""
    return {"image": path, "error": str(error)}
