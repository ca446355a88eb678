"""Image helpers both decoders share: gray conversion, ROI clipping, merging codes by place.

They sit apart from decode.py because zbar.py needs them and decode.py imports zbar.py.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import cv2
import numpy

from drivers.camera.base import CameraError, DecodedCode

Roi = tuple[int, int, int, int]


def to_gray(image: numpy.ndarray) -> numpy.ndarray:
    """Grayscale uint8 view of a gray, BGR or BGRA frame (no copy when already gray)."""
    if image.ndim == 2:
        return image
    if image.ndim == 3 and image.shape[2] == 1:
        return image[:, :, 0]
    if image.ndim == 3 and image.shape[2] == 3:
        return cv2.cvtColor(image, cv2.COLOR_BGR2GRAY)
    if image.ndim == 3 and image.shape[2] == 4:
        return cv2.cvtColor(image, cv2.COLOR_BGRA2GRAY)
    raise CameraError("decoder", "-", f"unsupported frame shape {image.shape}")


def clip_rois(rois: Sequence[Roi] | None, shape: tuple[int, ...]) -> list[Roi]:
    """ROIs cut to the frame, those under 8 px a side dropped; no ROIs: the whole frame."""
    h, w = shape[:2]
    if not rois:
        return [(0, 0, w, h)]
    out = []
    for x, y, rw, rh in rois:
        x0, y0 = max(0, int(x)), max(0, int(y))
        x1, y1 = min(w, int(x + rw)), min(h, int(y + rh))
        if x1 - x0 >= 8 and y1 - y0 >= 8:
            out.append((x0, y0, x1 - x0, y1 - y0))
    return out


def _centre(corners: Sequence[tuple[int, int]]) -> tuple[float, float]:
    xs = [p[0] for p in corners]
    ys = [p[1] for p in corners]
    return sum(xs) / len(xs), sum(ys) / len(ys)


def _size(corners: Sequence[tuple[int, int]]) -> float:
    xs = [p[0] for p in corners]
    ys = [p[1] for p in corners]
    return max(max(xs) - min(xs), max(ys) - min(ys), 1)


def merge(found: list[DecodedCode], extra: Iterable[DecodedCode]) -> list[DecodedCode]:
    """``found`` plus codes of ``extra`` not already there (same text at the same place).

    The same text at two places stays twice: two caps with one code is a fault the line must see.
    """
    out = list(found)
    for code in extra:
        cx, cy = _centre(code.corners)
        same = False
        for other in out:
            if other.text != code.text:
                continue
            ox, oy = _centre(other.corners)
            if abs(cx - ox) + abs(cy - oy) < _size(other.corners):
                same = True
                break
        if not same:
            out.append(code)
    return out
