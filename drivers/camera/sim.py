"""Simulated camera world: renders printed codes (solid or inkjet dot-matrix) into camera frames.

Continuous inkjet prints each dark module as a separate round dot, often on a curved or glossy cap;
the renderer reproduces that, plus the usual troubles of a line camera: rotation, defocus blur,
sensor noise, specular glare, smudged ink and uneven light. Frames are grayscale ``uint8`` (line
cameras for codes are monochrome); OpenCV sources give BGR and the decoders take both.

The module matrix comes from zxing-cpp's writer (a fraction of a millisecond per code).
"""

from __future__ import annotations

import threading
from collections import deque

import cv2
import numpy
import zxingcpp

from drivers.errors import DriverTimeout

_INK = 35.0
_SUBSTRATE = 215.0
_QUIET_MODULES = {"QRCode": 4, "MicroQRCode": 2, "DataMatrix": 2}


def module_matrix(text: str, symbology: str = "QRCode") -> numpy.ndarray:
    """Boolean matrix of dark modules (no quiet zone); GS1 if ``text`` starts with ``(``."""
    fmt = zxingcpp.barcode_format_from_str(symbology)
    if text.startswith("(") and symbology in ("QRCode", "DataMatrix", "Code128"):
        barcode = zxingcpp.create_barcode(text, fmt, gs1=True)
    else:
        barcode = zxingcpp.create_barcode(text, fmt)
    image = numpy.asarray(barcode.to_image(scale=1, add_quiet_zones=False))
    return image < 128


def _dot_stamp(module_px: int, fill: float) -> numpy.ndarray:
    """Anti-aliased round dot covering ``fill`` of the module's width, rendered 4× and reduced."""
    big = module_px * 4
    yy, xx = numpy.mgrid[0:big, 0:big] + 0.5
    centre = big / 2.0
    inside = ((xx - centre) ** 2 + (yy - centre) ** 2) <= (fill * big / 2.0) ** 2
    stamp: numpy.ndarray = cv2.resize(
        inside.astype(numpy.float32), (module_px, module_px), interpolation=cv2.INTER_AREA
    )
    return stamp


def code_coverage(
    text: str,
    *,
    symbology: str = "QRCode",
    dot_matrix: bool = False,
    module_px: int = 6,
    dot_fill: float = 0.8,
    rng: numpy.random.Generator | None = None,
) -> numpy.ndarray:
    """Ink coverage 0..1 (float32) of one code with its quiet zone; dots jitter if ``rng`` given."""
    dark = module_matrix(text, symbology)
    quiet = _QUIET_MODULES.get(symbology, 6)
    dark = numpy.pad(dark, quiet, constant_values=False)
    cover: numpy.ndarray
    if not dot_matrix:
        cover = numpy.kron(
            dark.astype(numpy.float32), numpy.ones((module_px, module_px), numpy.float32)
        )
        return cover
    cover = numpy.kron(dark.astype(numpy.float32), _dot_stamp(module_px, dot_fill))
    if rng is not None and module_px >= 4:
        # Drop placement error of a CIJ head: shift rows by a sub-module amount.
        shift = rng.normal(0.0, module_px * 0.06, size=2)
        matrix = numpy.array([[1, 0, shift[0]], [0, 1, shift[1]]], numpy.float32)
        cover = cv2.warpAffine(cover, matrix, (cover.shape[1], cover.shape[0]))
    return cover


def _place(
    canvas: numpy.ndarray, patch: numpy.ndarray, centre: tuple[float, float], angle: float
) -> None:
    """Add ``patch`` rotated by ``angle`` degrees with its centre at ``centre`` (max blend)."""
    ph, pw = patch.shape
    matrix = cv2.getRotationMatrix2D((pw / 2.0, ph / 2.0), angle, 1.0)
    matrix[0, 2] += centre[0] - pw / 2.0
    matrix[1, 2] += centre[1] - ph / 2.0
    h, w = canvas.shape
    warped = cv2.warpAffine(patch, matrix, (w, h), flags=cv2.INTER_LINEAR)
    numpy.maximum(canvas, warped, out=canvas)


def _smudge(
    cover: numpy.ndarray, amount: float, box: tuple[int, int, int, int], rng: numpy.random.Generator
) -> None:
    """Smear wet ink over ``amount`` (0..1) of the code box: a motion-blurred, darkened band."""
    x, y, w, h = box
    if amount <= 0 or w < 4 or h < 4:
        return
    region = cover[y : y + h, x : x + w]
    k = max(3, int(min(w, h) * 0.25)) | 1
    kernel = numpy.zeros((k, k), numpy.float32)
    kernel[k // 2, :] = 1.0 / k
    smeared = numpy.clip(cv2.filter2D(region, -1, kernel) * 1.3 + 0.15, 0.0, 1.0)
    band: numpy.ndarray = numpy.zeros(region.shape, numpy.float32)
    width = max(1, int(w * min(amount, 1.0)))
    start = int(rng.integers(0, max(1, w - width + 1)))
    band[:, start : start + width] = 1.0
    band = cv2.GaussianBlur(band, (0, 0), max(1.0, k / 6))
    region[:] = region * (1.0 - band) + smeared * band


def _finish(
    cover: numpy.ndarray,
    *,
    blur: float,
    noise: float,
    glare: bool,
    uneven_light: bool,
    rng: numpy.random.Generator,
) -> numpy.ndarray:
    """Turn ink coverage into a camera frame: light, glare, optics blur, sensor noise."""
    h, w = cover.shape
    image: numpy.ndarray = _SUBSTRATE - (_SUBSTRATE - _INK) * cover
    # Light fields are smooth: compute them on a 1/8 grid and scale up (10× cheaper).
    lh, lw = max(2, h // 8), max(2, w // 8)
    yy, xx = numpy.mgrid[0:lh, 0:lw].astype(numpy.float32) * numpy.float32(8.0)
    if uneven_light:
        gx, gy = rng.uniform(-0.35, 0.35, size=2)
        light = 1.0 + gx * (xx / w - 0.5) + gy * (yy / h - 0.5)
        cx, cy = rng.uniform(0.2, 0.8) * w, rng.uniform(0.2, 0.8) * h
        light -= 0.25 * ((xx - cx) ** 2 + (yy - cy) ** 2) / float(w * w + h * h)
        image *= cv2.resize(light, (w, h), interpolation=cv2.INTER_LINEAR)
    if glare:
        # A specular hot spot off a glossy, curved cap: saturates part of the code.
        cx, cy = w * rng.uniform(0.4, 0.6), h * rng.uniform(0.4, 0.6)
        sx, sy = w * 0.06, h * 0.12
        spot = numpy.exp(-(((xx - cx) / sx) ** 2 + ((yy - cy) / sy) ** 2) / 2.0)
        image += 120.0 * cv2.resize(spot, (w, h), interpolation=cv2.INTER_LINEAR)
    if blur > 0:
        image = cv2.GaussianBlur(image, (0, 0), blur)
    if noise > 0:
        image += rng.normal(0.0, noise * 255.0, size=image.shape).astype(numpy.float32)
    frame: numpy.ndarray = numpy.clip(image, 0, 255).astype(numpy.uint8)
    return frame


def render_code(
    text: str,
    *,
    symbology: str = "QRCode",
    dot_matrix: bool = False,
    module_px: int = 6,
    rotation_deg: float = 0.0,
    blur: float = 0.0,
    noise: float = 0.0,
    glare: bool = False,
    smudge: float = 0.0,
    uneven_light: bool = False,
    size: tuple[int, int] = (480, 640),
    seed: int | None = None,
    curve: float = 0.0,
    dot_fill: float = 0.8,
) -> numpy.ndarray:
    """One code centred in a ``size`` = (height, width) grayscale frame.

    ``blur`` is the Gaussian sigma in pixels, ``noise`` the sensor noise sigma as a fraction of full
    scale, ``smudge`` the fraction (0..1) of the code's width smeared; 1.0 is beyond reading.
    ``curve`` (0..<1) wraps the code round a cylinder (a cap's side, a bottle): the code's half
    width over the cylinder radius, so modules towards the edges are foreshortened. ``dot_fill``
    is an inkjet dot's diameter over the module pitch (0.55: small dots, wide gaps).
    """
    rng = numpy.random.default_rng(seed)
    h, w = size
    cover = numpy.zeros((h, w), numpy.float32)
    patch = code_coverage(
        text,
        symbology=symbology,
        dot_matrix=dot_matrix,
        module_px=module_px,
        dot_fill=dot_fill,
        rng=rng,
    )
    _place(cover, patch, (w / 2.0, h / 2.0), rotation_deg)
    if smudge > 0:
        quiet = _QUIET_MODULES.get(symbology, 6) * module_px
        side_h, side_w = patch.shape[0] - 2 * quiet, patch.shape[1] - 2 * quiet
        box = (int(w / 2 - side_w / 2), int(h / 2 - side_h / 2), side_w, side_h)
        _smudge(cover, smudge, box, rng)
    if curve > 0:
        quiet = _QUIET_MODULES.get(symbology, 6) * module_px
        cover = _bend(cover, (patch.shape[1] - 2 * quiet) / 2.0 / min(curve, 0.98))
    return _finish(cover, blur=blur, noise=noise, glare=glare, uneven_light=uneven_light, rng=rng)


def _bend(cover: numpy.ndarray, radius: float) -> numpy.ndarray:
    """Wrap the frame round a vertical cylinder of ``radius`` px seen head-on (orthographic)."""
    h, w = cover.shape
    cx = w / 2.0
    x = numpy.arange(w, dtype=numpy.float32) - cx
    inside = numpy.abs(x) < radius
    source = numpy.where(inside, radius * numpy.arcsin(numpy.clip(x / radius, -1, 1)), 1e6)
    map_x = numpy.broadcast_to((source + cx).astype(numpy.float32), (h, w))
    map_y = numpy.broadcast_to(numpy.arange(h, dtype=numpy.float32)[:, None], (h, w))
    return cv2.remap(
        cover,
        numpy.ascontiguousarray(map_x),
        numpy.ascontiguousarray(map_y),
        cv2.INTER_LINEAR,
        borderMode=cv2.BORDER_CONSTANT,
        borderValue=0.0,
    )


def render_layer(
    texts: list[str | None],
    *,
    rows: int,
    cols: int,
    symbology: str = "QRCode",
    dot_matrix: bool = False,
    module_px: int = 4,
    rotation_deg: float = 0.0,
    jitter_deg: float = 0.0,
    blur: float = 0.0,
    noise: float = 0.0,
    glare: bool = False,
    smudge: float = 0.0,
    uneven_light: bool = False,
    size: tuple[int, int] | None = None,
    seed: int | None = None,
) -> numpy.ndarray:
    """A case layer seen from above: ``rows`` × ``cols`` caps, one code each (None: empty slot).

    ``smudge`` applies to every code; ``jitter_deg`` turns each cap by a random extra angle.
    """
    if len(texts) != rows * cols:
        raise ValueError(f"render_layer: {len(texts)} texts for {rows}×{cols} slots")
    rng = numpy.random.default_rng(seed)
    patches = [
        None
        if t is None
        else code_coverage(
            t, symbology=symbology, dot_matrix=dot_matrix, module_px=module_px, rng=rng
        )
        for t in texts
    ]
    side = max((max(p.shape) for p in patches if p is not None), default=module_px * 30)
    cell = int(side * 1.25)
    h, w = size if size is not None else (rows * cell, cols * cell)
    cover = numpy.zeros((h, w), numpy.float32)
    cell_h, cell_w = h / rows, w / cols
    for index, patch in enumerate(patches):
        if patch is None:
            continue
        r, c = divmod(index, cols)
        centre = ((c + 0.5) * cell_w, (r + 0.5) * cell_h)
        angle = rotation_deg + (rng.uniform(-jitter_deg, jitter_deg) if jitter_deg else 0.0)
        _place(cover, patch, centre, angle)
        if smudge > 0:
            inner = int(patch.shape[0] * 0.75)
            box = (int(centre[0] - inner / 2), int(centre[1] - inner / 2), inner, inner)
            _smudge(cover, smudge, box, rng)
    return _finish(cover, blur=blur, noise=noise, glare=glare, uneven_light=uneven_light, rng=rng)


def render_empty(
    *,
    foreign: bool = False,
    size: tuple[int, int] = (480, 640),
    noise: float = 0.01,
    seed: int | None = None,
) -> numpy.ndarray:
    """A frame with no code: a bare cap, or (``foreign``) an item with print that is not a code."""
    rng = numpy.random.default_rng(seed)
    h, w = size
    ink = numpy.zeros((h, w), numpy.uint8)  # OpenCV 5 draws text on 8-bit images only
    if foreign:
        for _ in range(12):
            x, y = int(rng.integers(0, w)), int(rng.integers(0, h))
            radius = int(rng.integers(8, max(9, min(h, w) // 6)))
            cv2.circle(ink, (x, y), radius, int(rng.integers(80, 255)), -1, cv2.LINE_AA)
        for line in range(3):
            origin = (int(w * 0.1), int(h * (0.3 + 0.2 * line)))
            font = cv2.FONT_HERSHEY_SIMPLEX
            cv2.putText(ink, "LOT 24A17 EXP 2027", origin, font, 1.2, 255, 3, cv2.LINE_AA)
    cover = ink.astype(numpy.float32) / 255.0
    return _finish(cover, blur=0.8, noise=noise, glare=False, uneven_light=True, rng=rng)


class SimCamera:
    """A Camera fed by the simulated world: ``push(frame)`` queues a frame, ``grab()`` takes it."""

    def __init__(
        self,
        name: str = "sim-camera",
        *,
        frames: list[numpy.ndarray] | None = None,
        loop: bool = False,
    ) -> None:
        self.name = name
        self.url = f"sim://{name}"
        self._frames: deque[numpy.ndarray] = deque(frames or [])
        self._loop = loop
        self._ready = threading.Condition()
        self._open = False

    def open(self) -> None:
        """Start handing out frames."""
        self._open = True

    def push(self, frame: numpy.ndarray) -> None:
        """Queue one frame (the simulated world calls this when an item passes the trigger)."""
        with self._ready:
            self._frames.append(frame)
            self._ready.notify_all()

    def grab(self, timeout_s: float = 1.0) -> numpy.ndarray:
        """Next queued frame; DriverTimeout if none is pushed within ``timeout_s``."""
        with self._ready:
            if not self._ready.wait_for(lambda: bool(self._frames), timeout=timeout_s):
                raise DriverTimeout(self.name, self.url, f"no frame within {timeout_s} s")
            frame = self._frames.popleft()
            if self._loop:
                self._frames.append(frame)
            return frame

    def close(self) -> None:
        """Stop; queued frames are kept for inspection."""
        self._open = False

    def __enter__(self) -> SimCamera:
        self.open()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


__all__ = ["SimCamera", "module_matrix", "render_code", "render_empty", "render_layer"]
