"""Cheap enhancement passes tried only when the first decode found fewer codes than expected.

A decoder built for solid modules sees an inkjet dot-matrix code as loose dots with light gaps
between them and often finds no finder pattern. Growing the dark dots until they touch (grayscale
erosion = morphological close of the dark ink), or blurring the gaps away, rebuilds solid modules.
Each pass returns the image to decode and the scale from original pixels to pass pixels.
"""

from __future__ import annotations

from collections.abc import Callable

import cv2
import numpy

Pass = Callable[[numpy.ndarray], tuple[numpy.ndarray, float]]

_DISK3 = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (3, 3))
_DISK5 = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (5, 5))
_UPSCALE_MAX_PIXELS = 1_400_000
_ZXING_DOWNSCALE_FROM = 500  # zxing-cpp ReaderOptions: downscaleThreshold 500, downscaleFactor 3


def half_close(gray: numpy.ndarray) -> tuple[numpy.ndarray, float]:
    """Halve (area average), then join dots with a 3×3 erosion: cheapest, for large dots."""
    small = cv2.resize(gray, None, fx=0.5, fy=0.5, interpolation=cv2.INTER_AREA)
    return cv2.erode(small, _DISK3), 0.5


def close5(gray: numpy.ndarray) -> tuple[numpy.ndarray, float]:
    """Join dots 1–2 px apart at full resolution with a 5×5 disc erosion."""
    return cv2.erode(gray, _DISK5), 1.0


def half_close5(gray: numpy.ndarray) -> tuple[numpy.ndarray, float]:
    """Halve, then a 5×5 disc erosion: large modules printed with small, far-apart dots."""
    small = cv2.resize(gray, None, fx=0.5, fy=0.5, interpolation=cv2.INTER_AREA)
    return cv2.erode(small, _DISK5), 0.5


def half_blur(gray: numpy.ndarray) -> tuple[numpy.ndarray, float]:
    """Halve, then blur (sigma 1.5): smooths dots of 6–12 px modules into solid ones."""
    small = cv2.resize(gray, None, fx=0.5, fy=0.5, interpolation=cv2.INTER_AREA)
    return cv2.GaussianBlur(small, (0, 0), 1.5), 0.5


def blur(gray: numpy.ndarray) -> tuple[numpy.ndarray, float]:
    """Gaussian blur (sigma 1.5): fills small gaps and averages sensor noise."""
    return cv2.GaussianBlur(gray, (0, 0), 1.5), 1.0


def adaptive(gray: numpy.ndarray) -> tuple[numpy.ndarray, float]:
    """Blur then local-mean threshold: flattens glare and uneven light."""
    smooth = cv2.GaussianBlur(gray, (0, 0), 2.0)
    binary = cv2.adaptiveThreshold(
        smooth, 255, cv2.ADAPTIVE_THRESH_MEAN_C, cv2.THRESH_BINARY, 31, 5
    )
    return binary, 1.0


def upscale(gray: numpy.ndarray) -> tuple[numpy.ndarray, float]:
    """Double the size (small codes, under ~2 px per module); skipped on large frames."""
    if gray.shape[0] * gray.shape[1] > _UPSCALE_MAX_PIXELS:
        return gray[:0, :0], 2.0
    return cv2.resize(gray, None, fx=2.0, fy=2.0, interpolation=cv2.INTER_CUBIC), 2.0


def third(gray: numpy.ndarray) -> tuple[numpy.ndarray, float]:
    """zxing-cpp's own downscale layer: 3×3 block means, only for frames over 500 px a side.

    Same threshold and factor as zxing-cpp's ``try_downscale`` pyramid, so reading this layer
    (with ``try_downscale`` for any further layers) finds what zxing-cpp's pyramid would.
    """
    h, w = gray.shape[:2]
    if max(h, w) <= _ZXING_DOWNSCALE_FROM or min(h, w) < 3:
        return gray[:0, :0], 1.0 / 3.0
    exact = gray[: h - h % 3, : w - w % 3]
    return cv2.resize(exact, (w // 3, h // 3), interpolation=cv2.INTER_AREA), 1.0 / 3.0


def inverted(gray: numpy.ndarray) -> tuple[numpy.ndarray, float]:
    """Light codes on a dark ground (laser marks, white ink) as dark on light."""
    return cv2.bitwise_not(gray), 1.0


DEFAULT_PASSES: tuple[tuple[str, Pass], ...] = (
    ("half_close", half_close),
    ("close5", close5),
    ("half_close5", half_close5),
    ("half_blur", half_blur),
    ("blur", blur),
    ("adaptive", adaptive),
    ("upscale", upscale),
)
