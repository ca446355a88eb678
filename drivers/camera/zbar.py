"""pyzbar (ZBar) as a second opinion: no Data Matrix, slower, but a different detector."""

from __future__ import annotations

from collections.abc import Sequence

import numpy

from drivers.camera import grade as grading
from drivers.camera.base import CameraError, DecodedCode
from drivers.camera.gs1 import split_gs1
from drivers.camera.imaging import clip_rois, merge, to_gray

# Our symbology name → (ZBar symbol name, ISO/IEC 15424 identifier ZBar would report).
_ZBAR = {
    "QRCode": ("QRCODE", "]Q1"),
    "Code128": ("CODE128", "]C0"),
    "EAN13": ("EAN13", "]E0"),
    "EAN8": ("EAN8", "]E4"),
    "UPCA": ("UPCA", "]E0"),
    "UPCE": ("UPCE", "]E0"),
    "Code39": ("CODE39", "]A0"),
    "ITF": ("I25", "]I0"),
    "DataBar": ("DATABAR", "]e0"),
}
_NAMES = {zname: (ours, sid) for ours, (zname, sid) in _ZBAR.items()}


def zbar_formats(formats: Sequence[str]) -> list[str]:
    """The subset of ``formats`` ZBar can read."""
    return [f for f in formats if f in _ZBAR]


def _corners(polygon: Sequence[tuple[int, int]]) -> tuple[tuple[int, int], ...]:
    """Four corners clockwise from top-left (ZBar gives a hull of varying length and order)."""
    import cv2

    pts = numpy.asarray(polygon, dtype=numpy.float32).reshape(-1, 2)
    box = cv2.boxPoints(cv2.minAreaRect(pts)) if len(pts) != 4 else pts
    centre = box.mean(axis=0)
    angles = numpy.arctan2(box[:, 1] - centre[1], box[:, 0] - centre[0])
    ordered = box[numpy.argsort(angles)]
    start = int(numpy.argmin(ordered[:, 0] + ordered[:, 1]))
    ordered = numpy.roll(ordered, -start, axis=0)
    return tuple((round(float(x)), round(float(y))) for x, y in ordered)


class PyzbarDecoder:
    """pyzbar restricted to the configured formats ZBar knows; CameraError if libzbar is missing."""

    def __init__(
        self,
        formats: Sequence[str] = ("QRCode",),
        rois: Sequence[tuple[int, int, int, int]] | None = None,
        grade: bool = True,
    ) -> None:
        try:
            from pyzbar import pyzbar
        except (ImportError, OSError) as exc:
            raise CameraError(
                "decoder", "pyzbar", f"pyzbar/libzbar unavailable: {exc}", "apt install libzbar0"
            ) from exc
        self._pyzbar = pyzbar
        self._symbols = [getattr(pyzbar.ZBarSymbol, _ZBAR[f][0]) for f in zbar_formats(formats)]
        self.rois = list(rois) if rois else None
        self.grade = grade

    def decode(self, image: numpy.ndarray, expected: int | None = None) -> list[DecodedCode]:
        """Codes ZBar finds in ``image`` (``expected`` is ignored: ZBar has no harder mode)."""
        if not self._symbols:
            return []
        gray = numpy.ascontiguousarray(to_gray(image))
        found: list[DecodedCode] = []
        for x, y, w, h in clip_rois(self.rois, gray.shape):
            crop = numpy.ascontiguousarray(gray[y : y + h, x : x + w])
            codes = []
            for sym in self._pyzbar.decode(crop, symbols=self._symbols):
                name, sid = _NAMES.get(sym.type, (sym.type.title(), ""))
                corners = tuple(
                    (px + x, py + y) for px, py in _corners([(p.x, p.y) for p in sym.polygon])
                )
                letter = grading.grade(gray, corners) if self.grade else ""
                text = sym.data.decode("utf-8", errors="replace")
                codes.append(
                    DecodedCode(text, name, sid, corners, letter, split_gs1(sid, sym.data))
                )
            found = merge(found, codes)
        return found
