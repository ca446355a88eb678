"""A cheap print-quality grade in the spirit of ISO/IEC 15415, from the code's own region only.

Not a verifier: a real 15415 grade needs a calibrated reflectance scale, a synthetic aperture and
a module grid. We measure two of its parameters on the pixels inside the decoded symbol (its
central half), sampled on a 32×32 nearest-neighbour grid:

- symbol contrast SC = R(p95) − R(p5) as a fraction of full scale (15415: A ≥ 70 %, B ≥ 55 %,
  C ≥ 40 %, D ≥ 20 %);
- modulation, the mean distance of pixels from the global threshold over half of SC: crisp dark and
  light modules sit near 1.0; blur, noise, glare and smudges pull pixels toward the threshold.

The grade is the worse of the two, capped at C when the code was only read after enhancement.

Cost: grading runs right after zxing-cpp, whose working set has just pushed our code and data out
of the CPU caches, so every library call costs ~10–15 µs there against ~2 µs in a warm loop.
``grade_many`` therefore grades all codes of one read together in a fixed handful of numpy calls
(a 24-code case top costs about what one code did), and one code takes the short path below.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy

_SC_STEPS = ((0.70, "A"), (0.55, "B"), (0.40, "C"), (0.20, "D"))
_MOD_STEPS = ((0.70, "A"), (0.60, "B"), (0.50, "C"), (0.40, "D"))
_ORDER = "ABCDF"
_SIDE = 32
_N = _SIDE * _SIDE
_P5, _P95 = int(0.05 * _N), int(0.95 * _N)
_GRID = numpy.arange(_SIDE, dtype=numpy.intp)
_LEVELS = numpy.arange(256, dtype=numpy.intp)
_ROW_BINS = (numpy.arange(256, dtype=numpy.intp) * 256)[:, None]  # code i counts in bins i*256…
_BATCH_FROM = 3  # below this many codes the per-code path makes fewer calls

Corners = Sequence[tuple[int, int]]


def _step(value: float, steps: tuple[tuple[float, str], ...]) -> str:
    for limit, letter in steps:
        if value >= limit:
            return letter
    return "F"


def worse(a: str, b: str) -> str:
    """The worse of two grade letters."""
    return a if _ORDER.index(a) >= _ORDER.index(b) else b


def _letter(contrast: float, modulation: float, enhanced: bool) -> str:
    letter = worse(_step(contrast, _SC_STEPS), _step(modulation, _MOD_STEPS))
    return worse(letter, "C") if enhanced else letter


def _box(corners: Corners, w: int, h: int) -> tuple[int, int, int, int]:
    """The central half of the corners' bounding box clipped to the frame: x0, y0, width, height."""
    if len(corners) == 4:
        (ax, ay), (bx, by), (cx, cy), (dx, dy) = corners
        left, right = min(ax, bx, cx, dx), max(ax, bx, cx, dx)
        top, bottom = min(ay, by, cy, dy), max(ay, by, cy, dy)
    else:
        left, right = min(p[0] for p in corners), max(p[0] for p in corners)
        top, bottom = min(p[1] for p in corners), max(p[1] for p in corners)
    qx, qy = (right - left) // 4, (bottom - top) // 4
    x0, y0 = max(left + qx, 0), max(top + qy, 0)
    return x0, y0, min(right - qx + 1, w) - x0, min(bottom - qy + 1, h) - y0


def _from_values(low: int, high: int, spread: float) -> tuple[float, float]:
    if high <= low:
        return 0.0, 0.0
    return (high - low) / 255.0, min(1.0, spread / ((high - low) / 2.0))


def measure(gray: numpy.ndarray, corners: Corners) -> tuple[float, float]:
    """Symbol contrast and modulation (both 0..1) of the code at ``corners`` in ``gray``.

    Samples the central half of the corners' bounding box: for any rotation that square lies
    inside the symbol, so no polygon mask is needed (a mask cost more than the rest together).
    32×32 samples still hold several per module for codes up to ~50 modules across.
    """
    h, w = gray.shape[:2]
    x0, y0, sx, sy = _box(corners, w, h)
    if sx < 4 or sy < 4:
        return 0.0, 0.0
    # The same nearest-neighbour grid as measure_many, by integer arithmetic: cv2.resize's
    # INTER_NEAREST picks other pixels from one OpenCV release to the next (5.x moved it), and the
    # two paths must give the same figures whatever OpenCV is installed.
    ys = y0 + (_GRID * sy) // _SIDE
    xs = x0 + (_GRID * sx) // _SIDE
    sample = gray[ys[:, None], xs[None, :]].ravel()
    values = numpy.partition(sample, (_P5, _P95))
    low, high = int(values[_P5]), int(values[_P95])
    if high <= low:
        return 0.0, 0.0
    # Distance from the threshold rounded half to even, exactly as measure_many sums it.
    threshold = round((low + high) / 2)
    spread = int(numpy.abs(sample.astype(numpy.intp) - threshold).sum())
    return _from_values(low, high, spread / _N)


def measure_many(gray: numpy.ndarray, boxes: Sequence[Corners]) -> list[tuple[float, float]]:
    """``measure`` for many codes of one frame in one vectorised pass (same samples, same figures).

    Gathers every code's 32×32 nearest-neighbour grid with one ``take`` on the flat frame, counts
    each code's grey levels in one ``bincount`` and reads both percentiles and the mean distance
    from the threshold off those 256-bin histograms. Right after zxing-cpp each distinct numpy
    call costs ~10 µs whatever its size, so the boxes are plain Python and the numpy part is a
    fixed dozen calls for any number of codes.
    """
    k = len(boxes)
    if not k:
        return []
    h, w = gray.shape[:2]
    if not gray.flags.c_contiguous:
        gray = numpy.ascontiguousarray(gray)
    edges = [_box(c, w, h) for c in boxes]
    spans = numpy.array(edges, dtype=numpy.intp)  # x0, y0, width, height
    spans[:, 2:] = numpy.maximum(spans[:, 2:], 1)
    # Output pixel i samples source pixel floor(i * span / 32), as in measure.
    grid = spans[:, :2, None] + (_GRID * spans[:, 2:, None]) // _SIDE  # (k, 2, 32): x, y
    index = (grid[:, 1, :, None] * w + grid[:, 0, None, :]).reshape(k, _N)
    rows = _ROW_BINS[:k] if k <= len(_ROW_BINS) else 256 * numpy.arange(k)[:, None]
    bins = numpy.take(gray.reshape(-1), index, mode="clip") + rows
    hist = numpy.bincount(bins.reshape(-1), minlength=k * 256).reshape(k, 256)
    below = hist.cumsum(axis=1)
    # The p-th smallest sample is the first level with more than p samples at or below it.
    low = (below <= _P5).sum(axis=1).tolist()
    high = (below <= _P95).sum(axis=1).tolist()
    # The threshold rounded half to even, as measure rounds it, so both paths agree exactly.
    threshold = [round((lo + hi) / 2) for lo, hi in zip(low, high, strict=True)]
    distance = numpy.abs(_LEVELS - numpy.array(threshold, dtype=numpy.intp)[:, None])
    spread = (hist * distance).sum(axis=1).tolist()
    return [
        (0.0, 0.0) if sx < 4 or sy < 4 else _from_values(lo, hi, sp / _N)
        for (_, _, sx, sy), lo, hi, sp in zip(edges, low, high, spread, strict=True)
    ]


def grade(gray: numpy.ndarray, corners: Corners, *, enhanced: bool = False) -> str:
    """Grade A–F for the code at ``corners``; ``enhanced`` caps it at C (read only after help)."""
    return _letter(*measure(gray, corners), enhanced)


def grade_many(
    gray: numpy.ndarray, boxes: Sequence[Corners], *, enhanced: bool = False
) -> list[str]:
    """``grade`` for every code of one read, batched when that makes fewer calls."""
    if len(boxes) < _BATCH_FROM:
        return [grade(gray, c, enhanced=enhanced) for c in boxes]
    return [_letter(sc, mod, enhanced) for sc, mod in measure_many(gray, boxes)]
