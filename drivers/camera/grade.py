"""A cheap print-quality grade in the spirit of ISO/IEC 15415, from the code's own region only.

Not a verifier: a real 15415 grade needs a calibrated reflectance scale, a synthetic aperture and
a module grid. We measure two of its parameters on the pixels inside the decoded symbol (its
central half), sampled on a 32×32 grid so grading costs ~30 microseconds:

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
_SIDE = 32
_P5, _P95 = int(0.05 * _SIDE * _SIDE), int(0.95 * _SIDE * _SIDE)


def _step(value: float, steps: tuple[tuple[float, str], ...]) -> str:
    for limit, letter in steps:
        if value >= limit:
            return letter
    return "F"


def worse(a: str, b: str) -> str:
    """The worse of two grade letters."""
    return a if _ORDER.index(a) >= _ORDER.index(b) else b


def measure(gray: numpy.ndarray, corners: Sequence[tuple[int, int]]) -> tuple[float, float]:
    """Symbol contrast and modulation (both 0..1) of the code at ``corners`` in ``gray``.

    Samples the central half of the corners' bounding box: for any rotation that square lies
    inside the symbol, so no polygon mask is needed (a mask cost more than the rest together).
    32×32 samples still hold several per module for codes up to ~50 modules across.
    """
    xs = [p[0] for p in corners]
    ys = [p[1] for p in corners]
    h, w = gray.shape[:2]
    left, right, top, bottom = min(xs), max(xs), min(ys), max(ys)
    qx, qy = (right - left) // 4, (bottom - top) // 4
    x0, x1 = max(left + qx, 0), min(right - qx + 1, w)
    y0, y1 = max(top + qy, 0), min(bottom - qy + 1, h)
    if x1 - x0 < 4 or y1 - y0 < 4:
        return 0.0, 0.0
    # A fixed 32×32 nearest-neighbour sample: one C call, no copy of the region, and a sort of
    # 1,024 bytes gives both percentiles.
    sample = cv2.resize(gray[y0:y1, x0:x1], (_SIDE, _SIDE), interpolation=cv2.INTER_NEAREST)
    values = numpy.partition(sample.ravel(), (_P5, _P95))
    low, high = float(values[_P5]), float(values[_P95])
    if high <= low:
        return 0.0, 0.0
    threshold = (high + low) / 2.0
    spread = cv2.mean(cv2.absdiff(sample, threshold))[0]
    return (high - low) / 255.0, min(1.0, spread / ((high - low) / 2.0))


def grade(
    gray: numpy.ndarray, corners: Sequence[tuple[int, int]], *, enhanced: bool = False
) -> str:
    """Grade A–F for the code at ``corners``; ``enhanced`` caps it at C (read only after help)."""
    contrast, modulation = measure(gray, corners)
    letter = worse(_step(contrast, _SC_STEPS), _step(modulation, _MOD_STEPS))
    return worse(letter, "C") if enhanced else letter
