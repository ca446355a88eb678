"""A cheap print-quality grade in the spirit of ISO/IEC 15415, from the code's own region only.

Not a verifier: a real 15415 grade needs a calibrated reflectance scale, a synthetic aperture and
a module grid. We measure two of its parameters on the pixels inside the decoded symbol (its
central half), subsampled to at most ~2,000 pixels so grading costs tens of microseconds:

- symbol contrast SC = R(p95) − R(p5) as a fraction of full scale (15415: A ≥ 70 %, B ≥ 55 %,
  C ≥ 40 %, D ≥ 20 %);
- modulation, the mean distance of pixels from the global threshold over half of SC: crisp dark and
  light modules sit near 1.0; blur, noise, glare and smudges pull pixels toward the threshold.

The grade is the worse of the two, capped at C when the code was only read after enhancement.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy

_SC_STEPS = ((0.70, "A"), (0.55, "B"), (0.40, "C"), (0.20, "D"))
_MOD_STEPS = ((0.70, "A"), (0.60, "B"), (0.50, "C"), (0.40, "D"))
_ORDER = "ABCDF"
_MAX_PIXELS = 2000
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
    """Symbol contrast and modulation (both 0..1) of the code at ``corners`` in ``gray``.

    Samples the central half of the corners' bounding box: for any rotation that square lies
    inside the symbol, so no polygon mask is needed (a mask cost more than the rest together).
    """
    xs = [p[0] for p in corners]
    ys = [p[1] for p in corners]
    h, w = gray.shape[:2]
    qx, qy = (max(xs) - min(xs)) / 4.0, (max(ys) - min(ys)) / 4.0
    x0, x1 = max(int(min(xs) + qx), 0), min(int(max(xs) - qx) + 1, w)
    y0, y1 = max(int(min(ys) + qy), 0), min(int(max(ys) - qy) + 1, h)
    if x1 - x0 < 4 or y1 - y0 < 4:
        return 0.0, 0.0
    step = max(1, int(((x1 - x0) * (y1 - y0) / _MAX_PIXELS) ** 0.5))
    crop = gray[y0:y1:step, x0:x1:step]
    if crop.ndim == 3:
        crop = crop[:, :, 0]
    # Percentiles and mean distance from a 256-bin histogram: no sort, no float copy.
    hist = numpy.bincount(crop.ravel(), minlength=256)
    total = float(crop.size)
    cdf = numpy.cumsum(hist)
    low = float(numpy.searchsorted(cdf, 0.05 * total))
    high = float(numpy.searchsorted(cdf, 0.95 * total))
    if high <= low:
        return 0.0, 0.0
    threshold = (high + low) / 2.0
    spread = float(hist @ numpy.abs(_LEVELS - threshold)) / total
    return (high - low) / 255.0, min(1.0, spread / ((high - low) / 2.0))


def grade(
    gray: numpy.ndarray, corners: Sequence[tuple[int, int]], *, enhanced: bool = False
) -> str:
    """Grade A–F for the code at ``corners``; ``enhanced`` caps it at C (read only after help)."""
    contrast, modulation = measure(gray, corners)
    letter = worse(_step(contrast, _SC_STEPS), _step(modulation, _MOD_STEPS))
    return worse(letter, "C") if enhanced else letter
