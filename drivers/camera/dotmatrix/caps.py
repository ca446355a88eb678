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
_LOCAL_MARGIN = 12  # grey levels above the local mean that count as cap
_MAX_CANDIDATES = 400
_OPEN = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (5, 5))


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
    # A dark cap in a dim corner falls under the global split: also take what stands clearly
    # above its surroundings (a block of about two cells of a case top).
    block = max(31, (min(small.shape) // 3) | 1)
    local = cv2.adaptiveThreshold(
        small, 255, cv2.ADAPTIVE_THRESH_MEAN_C, cv2.THRESH_BINARY, block, -_LOCAL_MARGIN
    )
    mask = cv2.bitwise_or(mask, cv2.morphologyEx(local, cv2.MORPH_OPEN, _OPEN))
    contours, _ = cv2.findContours(mask, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
    filled = numpy.zeros_like(mask)
    cv2.drawContours(filled, contours, -1, 255, -1)  # the dark print inside a cap is no hole
    dist = cv2.distanceTransform(filled, cv2.DIST_L2, 5)
    size = max(3, int(_MIN_RADIUS * 2) | 1)
    peaks = (dist >= cv2.dilate(dist, numpy.ones((size, size), numpy.uint8))) & (
        dist >= _MIN_RADIUS
    )
    # A flat ridge of the distance map is one candidate (its centroid), not thousands of pixels.
    _, _, _, centroids = cv2.connectedComponentsWithStats(peaks.astype(numpy.uint8))
    points = centroids[1:]
    if len(points) > _MAX_CANDIDATES:
        return [Cap(w / 2.0, h / 2.0, max(h, w) / 2.0)]  # no disc layout: a picture, not caps
    ix = numpy.clip(points[:, 0].round().astype(int), 0, dist.shape[1] - 1)
    iy = numpy.clip(points[:, 1].round().astype(int), 0, dist.shape[0] - 1)
    radii = dist[iy, ix]
    chosen: list[tuple[float, float, float]] = []
    for i in numpy.argsort(-radii):
        x, y, r = float(points[i, 0]), float(points[i, 1]), float(radii[i])
        if r < _MIN_RADIUS:
            continue
        if all((x - cx) ** 2 + (y - cy) ** 2 > (0.8 * max(r, cr)) ** 2 for cx, cy, cr in chosen):
            chosen.append((x, y, r))
    caps = [Cap(x / scale, y / scale, r / scale) for x, y, r in chosen]
    if not caps:
        return [Cap(w / 2.0, h / 2.0, max(h, w) / 2.0)]
    return caps


def cap_count(caps: list[Cap], gray: numpy.ndarray | None = None) -> int:
    """How many codes the caps suggest: their number when they look like a case top (mostly
    discs of one size, on a darker ground when ``gray`` is given), else 1 (a single cap, or a
    frame that is no case top: white label stock, a photo)."""
    if len(caps) < 2:
        return len(caps)
    radii = sorted(cap.r for cap in caps)
    middle = radii[len(radii) // 2]
    alike = sum(1 for r in radii if 0.75 * middle <= r <= 1.3 * middle)
    if alike < 0.75 * len(radii):
        return 1
    if gray is not None and not _darker_around(gray, caps):
        return 1
    # An odd one out (a dim cap found small) still counts: looking for one code too many costs
    # a little time, one too few may miss a code.
    return len(caps)


def _darker_around(gray: numpy.ndarray, caps: list[Cap]) -> bool:
    """True when the ground between the caps is clearly darker than the caps (a case top)."""
    h, w = gray.shape[:2]
    step = max(1, max(h, w) // _WORK_SIDE)
    small = gray[::step, ::step]
    inside = numpy.zeros(small.shape, numpy.uint8)
    near = numpy.zeros(small.shape, numpy.uint8)
    for cap in caps:
        centre = (round(cap.x / step), round(cap.y / step))
        cv2.circle(inside, centre, max(1, round(0.8 * cap.r / step)), 1, -1)
        cv2.circle(near, centre, max(1, round(1.1 * cap.r / step)), 1, -1)
    outside = near == 0
    if not inside.any() or outside.sum() < 0.05 * small.size:
        return False
    return float(numpy.median(small[outside])) < 0.7 * float(numpy.median(small[inside > 0]))
