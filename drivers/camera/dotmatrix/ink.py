"""The ink of a printed cap: darkness over the local background, and where the code sits."""

from __future__ import annotations

import cv2
import numpy

_JOIN_WEIGHT = 0.15  # a cluster this heavy next to the code's is part of it


def quantile(values: numpy.ndarray, q: float) -> float:
    """The ``q`` quantile of an image, from a partition of every other pixel (no full sort)."""
    sample = values[::2, ::2].ravel() if values.ndim == 2 else values.ravel()
    if sample.size == 0:
        return 0.0
    k = min(sample.size - 1, int(q * (sample.size - 1)))
    return float(numpy.partition(sample, k)[k])


def ink_image(crop: numpy.ndarray, pitch_hint: float = 4.0) -> numpy.ndarray:
    """Darkness below the local background (float32, ~0..1): dots bright, cap and glare dark.

    The background is a closing wider than a drop (the print removed, a glare spot kept in its
    shape rather than spread round it), and the darkness is measured in grey levels over the
    cap's typical level, not over the local background: glare adds light to cap and ink alike,
    so a dot keeps its difference under glare (until the sensor clips) but not its ratio.
    """
    k = max(5, int(pitch_hint * 2.5) | 1)
    kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (k, k))
    background = cv2.erode(cv2.dilate(crop, kernel), kernel)
    background = cv2.blur(background, (k, k)).astype(numpy.float32)
    ink = (background - crop.astype(numpy.float32)) / max(quantile(crop, 0.5), 16.0)
    out: numpy.ndarray = numpy.clip(ink, 0.0, 1.0)
    return out


def code_region(ink: numpy.ndarray) -> tuple[int, int, int, int] | None:
    """(x, y, w, h) round the densest cluster of ink (the printed code, not specks or glare)
    and the sizeable clusters next to it (the rest of a code glare cut in two)."""
    smooth = cv2.GaussianBlur(ink, (0, 0), 2.0)
    top = quantile(smooth, 0.997)
    ground = quantile(smooth[smooth > 0], 0.3) if (smooth > 0).any() else 0.0  # blank cap: noise
    level = max(0.05, ground + 0.4 * (top - ground))
    mask: numpy.ndarray = (smooth > level).astype(numpy.uint8)
    mask = cv2.morphologyEx(mask, cv2.MORPH_CLOSE, numpy.ones((7, 7), numpy.uint8))
    count, labels, stats, _ = cv2.connectedComponentsWithStats(mask)
    if count < 2:
        return None
    weight = numpy.bincount(labels.ravel(), weights=smooth.ravel(), minlength=count)
    best = 1 + int(numpy.argmax(weight[1:]))
    x, y, w, h = (int(v) for v in stats[best, :4])
    # Glare across the code splits it: a sizeable cluster within half the code's short side
    # joins it (a speck is too light, the cap's far side too far).
    reach = 0.5 * min(w, h)
    for other in range(1, count):
        if other == best or weight[other] < _JOIN_WEIGHT * weight[best]:
            continue
        ox, oy, ow, oh = (int(v) for v in stats[other, :4])
        gap = max(ox - (x + w), x - (ox + ow), oy - (y + h), y - (oy + oh))
        if gap <= reach:
            x1, y1 = max(x + w, ox + ow), max(y + h, oy + oh)
            x, y = min(x, ox), min(y, oy)
            w, h = x1 - x, y1 - y
    if w < 16 or h < 16:
        return None
    m = 6
    x0, y0 = max(0, x - m), max(0, y - m)
    x1, y1 = min(ink.shape[1], x + w + m), min(ink.shape[0], y + h + m)
    return x0, y0, x1 - x0, y1 - y0
