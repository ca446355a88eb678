"""Find the caps in a frame: bright discs on a darker case, one printed code each.

Otsu on a frame downscaled to ~320 px, holes (the print) filled, then peaks of the distance
transform: one per cap, so caps that touch still come apart. About a millisecond for 1280×1024.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy

_WORK_SIDE = 320  # long side of the frame the search runs on
_MIN_RADIUS = 10  # px on the downscaled frame: smaller bright spots are glare or specks


@dataclass(frozen=True)
class Cap:
    """A bright disc: centre (x, y) and radius in frame pixels."""

    x: float
    y: float
    r: float

    def box(self, shape: tuple[int, ...], margin: float = 1.0) -> tuple[int, int, int, int]:
        """The square (x, y, w, h) round the cap, ``margin`` × radius a side, inside ``shape``."""
        h, w = shape[:2]
        half = self.r * margin
        x0, y0 = max(0, int(self.x - half)), max(0, int(self.y - half))
        x1, y1 = min(w, int(self.x + half + 1)), min(h, int(self.y + half + 1))
        return x0, y0, x1 - x0, y1 - y0


def find_caps(gray: numpy.ndarray) -> list[Cap]:
    """Caps in ``gray``, largest first; one disc over the whole frame when nothing stands out."""
    h, w = gray.shape[:2]
    scale = min(1.0, _WORK_SIDE / max(h, w))
    small = cv2.resize(gray, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
    small = cv2.GaussianBlur(small, (5, 5), 0)
    _, mask = cv2.threshold(small, 0, 255, cv2.THRESH_BINARY + cv2.THRESH_OTSU)
    contours, _ = cv2.findContours(mask, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
    filled = numpy.zeros_like(mask)
    cv2.drawContours(filled, contours, -1, 255, -1)  # the dark print inside a cap is no hole
    dist = cv2.distanceTransform(filled, cv2.DIST_L2, 5)
    size = max(3, int(_MIN_RADIUS * 2) | 1)
    peaks = (dist >= cv2.dilate(dist, numpy.ones((size, size), numpy.uint8))) & (
        dist >= _MIN_RADIUS
    )
    ys, xs = numpy.nonzero(peaks)
    order = numpy.argsort(-dist[ys, xs])
    chosen: list[tuple[float, float, float]] = []
    for i in order:
        x, y, r = float(xs[i]), float(ys[i]), float(dist[ys[i], xs[i]])
        if all((x - cx) ** 2 + (y - cy) ** 2 > (0.8 * max(r, cr)) ** 2 for cx, cy, cr in chosen):
            chosen.append((x, y, r))
    caps = [Cap(x / scale, y / scale, r / scale) for x, y, r in chosen]
    if not caps:
        return [Cap(w / 2.0, h / 2.0, max(h, w) / 2.0)]
    return caps


def cap_count(caps: list[Cap]) -> int:
    """How many codes the caps suggest: their number when they look like a case top (two or
    more discs of one size), else 1 (a single cap, or a frame that is no case top)."""
    if len(caps) < 2:
        return len(caps)
    radii = sorted(cap.r for cap in caps)
    middle = radii[len(radii) // 2]
    alike = sum(1 for r in radii if 0.75 * middle <= r <= 1.3 * middle)
    return alike if alike >= 0.75 * len(radii) else 1
