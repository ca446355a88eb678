"""A cheap print-quality grade in the spirit of ISO/IEC 15415, from the code's own region only.

Not a verifier: a real 15415 grade needs a calibrated reflectance scale, a synthetic aperture and
a module grid. We measure two of its parameters on the pixels inside the decoded quadrilateral,
subsampled to at most ~4,000 pixels so grading costs tens of microseconds:

- symbol contrast SC = R(p95) − R(p5) as a fraction of full scale (15415: A ≥ 70 %, B ≥ 55 %,
  C ≥ 40 %, D ≥ 20 %);
- modulation, the mean distance of pixels from the global threshold over half of SC: crisp dark and
  light modules sit near 1.0; blur, noise, glare and smudges pull pixels toward the threshold.

The grade is the worse of the two, capped at C when the code was only read after enhancement.
"""

from __future__ import annotations

from collections.abc import Sequence

import cv2
import numpy

_SC_STEPS = ((0.70, "A"), (0.55, "B"), (0.40, "C"), (0.20, "D"))
_MOD_STEPS = ((0.70, "A"), (0.60, "B"), (0.50, "C"), (0.40, "D"))
_ORDER = "ABCDF"
_MAX_PIXELS = 4000
_LEVELS = numpy.arange(256, dtype=numpy.float32)


def _step(value: float, steps: tuple[tuple[float, str], ...]) -> str:
    for limit, letter in steps:
        if value >= limit:
            return letter
    return "F"


def worse(a: str, b: str) -> str:
    """The worse of two grade letters."""
    return a if _ORDER.index(a) >= _ORDER.index(b) else b


def measure(gray: numpy.ndarray, corners: Sequence[tuple[int, int]]) -> tuple[float, float]:
    """Symbol contrast and modulation (both 0..1) of the quadrilateral ``corners`` in ``gray``."""
    pts = numpy.asarray(corners, dtype=numpy.int32).reshape(-1, 2)
    h, w = gray.shape[:2]
    x0, y0 = max(int(pts[:, 0].min()), 0), max(int(pts[:, 1].min()), 0)
    x1, y1 = min(int(pts[:, 0].max()) + 1, w), min(int(pts[:, 1].max()) + 1, h)
    if x1 - x0 < 4 or y1 - y0 < 4:
        return 0.0, 0.0
    step = max(1, int(((x1 - x0) * (y1 - y0) / _MAX_PIXELS) ** 0.5))
    crop = numpy.ascontiguousarray(gray[y0:y1:step, x0:x1:step])
    mask = numpy.zeros(crop.shape, dtype=numpy.uint8)
    cv2.fillConvexPoly(mask, ((pts - (x0, y0)) // step).astype(numpy.int32), 255)
    # Percentiles and mean distance from a 256-bin histogram: no sort, no float copy.
    hist = cv2.calcHist([crop], [0], mask, [256], [0, 256]).ravel()
    total = float(hist.sum())
    if total < 16:
        hist = cv2.calcHist([crop], [0], None, [256], [0, 256]).ravel()
        total = float(hist.sum())
    cdf = numpy.cumsum(hist)
    low = float(numpy.searchsorted(cdf, 0.05 * total))
    high = float(numpy.searchsorted(cdf, 0.95 * total))
    contrast = (high - low) / 255.0
    if contrast <= 0.0:
        return 0.0, 0.0
    threshold = (high + low) / 2.0
    spread = float(hist @ numpy.abs(_LEVELS - threshold)) / total
    modulation = min(1.0, spread / ((high - low) / 2.0))
    return contrast, modulation


def grade(
    gray: numpy.ndarray, corners: Sequence[tuple[int, int]], *, enhanced: bool = False
) -> str:
    """Grade A–F for the code at ``corners``; ``enhanced`` caps it at C (read only after help)."""
    contrast, modulation = measure(gray, corners)
    letter = worse(_step(contrast, _SC_STEPS), _step(modulation, _MOD_STEPS))
    return worse(letter, "C") if enhanced else letter
