"""Camera frames of caps printed by a continuous inkjet, rendered from the physics of the print.

Written apart from drivers/camera/sim.py (its own geometry, optics, noise and random streams), so
the decoder can be measured on frames it was not built around. Per cap:

* print: one round drop per dark module, at the module centre plus a per-column placement error
  (the head writes a column per stroke while the cap moves) and a per-drop deflection error;
  drop diameters are log-normal around a per-code fill of the pitch, edges feather by ink spread,
  a few drops carry a satellite and a very few misfire;
* surface: the code sits on a domed cap top (a sphere cap seen from above: modules shrink towards
  the rim), turned at any angle, under a small per-cap perspective (the cap is off the optical
  axis, the case is not quite level);
* light: a bright cap with a dark side wall on a dark case, shading falling with the dome's slope,
  a gradient and vignetting over the frame, and a specular hot spot off the glossy cap and ink;
* camera: defocus (Gaussian) and sometimes motion blur, pixel integration, shot and read noise,
  8-bit quantisation, sometimes JPEG.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import cv2
import numpy

from .symbols import Symbol, random_symbol

_S = 3  # supersampling of the printed surface


@dataclass(frozen=True)
class Truth:
    """One printed code in a frame: text, symbology, kind, cap centre (x, y) in pixels, and how
    much of it glare saturated (print there is lost to any reader)."""

    text: str
    symbology: str
    kind: str
    centre: tuple[float, float]
    saturated: float = 0.0  # share of the code's inked area the hot spot drove to full scale


def _ink(sym: Symbol, pitch: float, quiet: int, rng: numpy.random.Generator) -> numpy.ndarray:
    """Ink coverage (0..1, float32) of the printed symbol on the flat surface, ``_S``× sampled."""
    rows, cols = sym.dark.shape
    h, w = int((rows + 2 * quiet) * pitch * _S), int((cols + 2 * quiet) * pitch * _S)
    canvas = numpy.zeros((h, w), numpy.uint8)
    fill = rng.uniform(0.62, 1.05)  # drop diameter over pitch: ink and substrate dependent
    spread_sd = rng.uniform(0.04, 0.12)  # per-drop deflection error, in pitches
    column_sd = rng.uniform(0.0, 0.08)  # per-stroke placement error along the motion
    column_shift = rng.normal(0.0, column_sd, cols)
    darkness = rng.uniform(0.8, 1.0)
    ys, xs = numpy.nonzero(sym.dark)
    n = len(ys)
    cx = (xs + quiet + 0.5 + column_shift[xs] + rng.normal(0, spread_sd, n)) * pitch
    cy = (ys + quiet + 0.5 + rng.normal(0, spread_sd, n)) * pitch
    diam = fill * pitch * rng.lognormal(0.0, 0.09, n)
    tone = (255 * darkness * rng.uniform(0.85, 1.0, n)).astype(int)
    fire = rng.random(n) > 0.004  # a misfired drop leaves a light module
    satellite = rng.random(n) < 0.03
    scale = _S * 16  # cv2 shift=4: sub-pixel centres and radii
    for x, y, d, t, ok, sat in zip(cx, cy, diam, tone, fire, satellite, strict=True):
        if not ok:
            continue
        centre = (int(x * scale), int(y * scale))
        cv2.circle(canvas, centre, max(1, int(d / 2 * scale)), int(t), -1, cv2.LINE_AA, 4)
        if sat:
            off = rng.normal(0.0, 0.35, 2) * pitch
            centre = (int((x + off[0]) * scale), int((y + off[1]) * scale))
            cv2.circle(canvas, centre, max(1, int(d * 0.18 * scale)), int(t), -1, cv2.LINE_AA, 4)
    cover = canvas.astype(numpy.float32) / 255.0
    feather = rng.uniform(0.03, 0.12) * pitch * _S
    return cv2.GaussianBlur(cover, (0, 0), feather)


def _cap_maps(
    box: tuple[int, int, int, int],
    centre: tuple[float, float],
    dome: float,
    angle: float,
    warp: numpy.ndarray,
    ink_shape: tuple[int, int],
) -> tuple[numpy.ndarray, numpy.ndarray, numpy.ndarray]:
    """Image pixel → printed-surface pixel maps for one cap, and the radius (in cap radii)."""
    x0, y0, w, h = box
    yy, xx = numpy.mgrid[y0 : y0 + h, x0 : x0 + w].astype(numpy.float64)
    # Undo the cap's small perspective about its centre.
    px, py = xx - centre[0], yy - centre[1]
    den = warp[2, 0] * px + warp[2, 1] * py + warp[2, 2]
    ux = (warp[0, 0] * px + warp[0, 1] * py + warp[0, 2]) / den
    uy = (warp[1, 0] * px + warp[1, 1] * py + warp[1, 2]) / den
    r = numpy.hypot(ux, uy)
    # Orthographic view of a sphere of radius ``dome``: image radius r = R sin(s / R).
    s = dome * numpy.arcsin(numpy.clip(r / dome, 0.0, 1.0))
    gain = numpy.where(r > 1e-6, s / numpy.maximum(r, 1e-6), 1.0)
    sx, sy = ux * gain, uy * gain
    c, si = math.cos(angle), math.sin(angle)
    fx = (c * sx + si * sy) * _S + ink_shape[1] / 2.0
    fy = (-si * sx + c * sy) * _S + ink_shape[0] / 2.0
    return fx.astype(numpy.float32), fy.astype(numpy.float32), r


def _draw_cap(
    albedo: numpy.ndarray,
    glare: numpy.ndarray,
    sym: Symbol,
    centre: tuple[float, float],
    radius: float,
    pitch: float,
    rng: numpy.random.Generator,
) -> tuple[tuple[int, int, int, int], numpy.ndarray]:
    """Paint one printed cap into the frame's albedo and specular layers; the box and the mask
    of the code's inked area in it."""
    quiet = 1
    ink = _ink(sym, pitch, quiet, rng)
    ink = cv2.GaussianBlur(ink, (0, 0), 0.45 * _S)  # a pixel's aperture before resampling
    fh, fw = albedo.shape
    x0, y0 = max(0, int(centre[0] - radius - 2)), max(0, int(centre[1] - radius - 2))
    x1, y1 = min(fw, int(centre[0] + radius + 3)), min(fh, int(centre[1] + radius + 3))
    box = (x0, y0, x1 - x0, y1 - y0)
    warp = numpy.eye(3)
    warp[:2, :2] += rng.normal(0.0, 0.025, (2, 2))
    warp[2, :2] = rng.normal(0.0, 0.00025, 2)
    dome = radius / rng.uniform(0.05, 0.75)
    angle = rng.uniform(0, 2 * math.pi)
    fx, fy, r = _cap_maps(box, centre, dome, angle, warp, ink.shape)
    cover = cv2.remap(ink, fx, fy, cv2.INTER_LINEAR, borderValue=0.0)
    rr = r / radius
    cap_albedo = rng.uniform(0.62, 0.92)
    ink_albedo = rng.uniform(0.06, 0.22)
    slope = numpy.sqrt(numpy.clip(1.0 - (r / dome) ** 2, 0.0, 1.0)) ** 0.6
    top = cap_albedo * slope * (1.0 - cover * (1.0 - ink_albedo / cap_albedo))
    wall = 0.25 * cap_albedo
    value = numpy.where(rr < 0.94, top, numpy.where(rr < 1.0, wall, -1.0))
    region = albedo[y0:y1, x0:x1]
    numpy.copyto(region, value.astype(numpy.float32), where=value >= 0)
    if rng.random() < 0.7:  # specular hot spot off the glossy dome (and the glossy ink)
        lx, ly = rng.normal(0.0, 0.35, 2) * radius
        sx, sy = radius * rng.uniform(0.06, 0.25, 2)
        spot = rng.uniform(0.2, 1.1) * numpy.exp(
            -0.5
            * (
                ((box_x(box) - centre[0] - lx) / sx) ** 2
                + ((box_y(box) - centre[1] - ly) / sy) ** 2
            )
        )
        spot *= rr < 1.0
        glare[y0:y1, x0:x1] += spot.astype(numpy.float32) * (1.0 - 0.3 * cover)
    return box, cover > 0.3


def box_x(box: tuple[int, int, int, int]) -> numpy.ndarray:
    """Pixel x coordinates of a box as a row."""
    return numpy.arange(box[0], box[0] + box[2], dtype=numpy.float64)[None, :]


def box_y(box: tuple[int, int, int, int]) -> numpy.ndarray:
    """Pixel y coordinates of a box as a column."""
    return numpy.arange(box[1], box[1] + box[3], dtype=numpy.float64)[:, None]


def _expose(
    albedo: numpy.ndarray, glare: numpy.ndarray, rng: numpy.random.Generator
) -> numpy.ndarray:
    """Light field, optics and sensor: albedo and specular layers → an 8-bit frame."""
    h, w = albedo.shape
    yy, xx = numpy.mgrid[0:h:8, 0:w:8].astype(numpy.float32)
    nx, ny = xx / w - 0.5, yy / h - 0.5
    gx, gy = rng.uniform(-0.4, 0.4, 2)
    light = (1.0 + gx * nx + gy * ny) * (1.0 - rng.uniform(0.0, 0.5) * (nx * nx + ny * ny))
    light = cv2.resize(light, (w, h), interpolation=cv2.INTER_LINEAR)
    signal = 255.0 * rng.uniform(0.8, 1.05) * (albedo * light + glare)
    sigma = rng.uniform(0.35, 1.0)
    signal = cv2.GaussianBlur(signal, (0, 0), sigma)
    if rng.random() < 0.3:  # motion during the exposure
        k = int(rng.integers(2, 4))
        kernel = numpy.full((1, k), 1.0 / k, numpy.float32)
        if rng.random() < 0.5:
            kernel = kernel.T
        signal = cv2.filter2D(signal, -1, kernel)
    gain = rng.uniform(0.1, 0.5)
    noise = numpy.sqrt(numpy.clip(signal, 0, None) * gain + rng.uniform(1.0, 3.0) ** 2)
    signal = signal + rng.standard_normal(signal.shape).astype(numpy.float32) * noise
    frame = numpy.clip(signal + 0.5, 0, 255).astype(numpy.uint8)
    if rng.random() < 0.3:
        quality = int(rng.integers(80, 96))
        _ok, data = cv2.imencode(".jpg", frame, [cv2.IMWRITE_JPEG_QUALITY, quality])
        frame = cv2.imdecode(data, cv2.IMREAD_GRAYSCALE)
    return frame


def _background(h: int, w: int, rng: numpy.random.Generator) -> numpy.ndarray:
    """Dark corrugated case top with a little texture."""
    base = rng.uniform(0.12, 0.32)
    tex = cv2.resize(rng.normal(0.0, 0.03, (h // 16 + 1, w // 16 + 1)), (w, h))
    return (base + tex).astype(numpy.float32)


def _saturated(frame: numpy.ndarray, box, inked: numpy.ndarray) -> float:
    """Share of the inked area at full scale in the exposed frame."""
    x, y, w, h = box
    region = frame[y : y + h, x : x + w]
    if not inked.any():
        return 0.0
    return float((region[inked] >= 250).mean())


def _fit_pitch(sym: Symbol, radius: float, want: float) -> float:
    """``want`` px per module, reduced so the turned symbol stays on the cap top."""
    rows, cols = sym.dark.shape
    half_diag = 0.5 * math.hypot(rows + 2, cols + 2)
    return min(want, 0.9 * radius / half_diag)


def single_cap(seed: int, kind: str | None = None, size: tuple[int, int] = (480, 640)):
    """One cap filling much of a ``size`` = (h, w) frame; returns (frame, [Truth])."""
    rng = numpy.random.default_rng([19, 1, seed])
    h, w = size
    sym = random_symbol(rng, kind)
    radius = rng.uniform(0.3, 0.45) * min(h, w)
    pitch = _fit_pitch(sym, radius, rng.uniform(3.0, 5.0))
    if pitch < 3.0:  # a symbol too big for this cap at 3 px: a larger cap
        radius = 0.47 * min(h, w)
        pitch = max(3.0, _fit_pitch(sym, radius, 5.0))
    centre = (w / 2 + rng.uniform(-0.08, 0.08) * w, h / 2 + rng.uniform(-0.05, 0.05) * h)
    albedo = _background(h, w, rng)
    glare = numpy.zeros((h, w), numpy.float32)
    box, inked = _draw_cap(albedo, glare, sym, centre, radius, pitch, rng)
    frame = _expose(albedo, glare, rng)
    lost = _saturated(frame, box, inked)
    return frame, [Truth(sym.text, sym.symbology, sym.kind, centre, lost)]


def case_top(seed: int, kind: str | None = None, rows: int = 4, cols: int = 6):
    """A 1280×1024 case top of ``rows`` × ``cols`` caps at 3–4 px per module; (frame, truths).

    ``kind`` None mixes kinds over the caps (one line prints one kind; a mixed case tests more).
    """
    rng = numpy.random.default_rng([19, 2, seed])
    h, w = 1024, 1280
    albedo = _background(h, w, rng)
    glare = numpy.zeros((h, w), numpy.float32)
    cell_w, cell_h = w / cols, h / rows
    radius_base = 0.5 * min(cell_w, cell_h) * rng.uniform(0.9, 1.0)
    tilt = math.radians(rng.uniform(-3.0, 3.0))
    line_kind = kind or ("qr", "dm", "dm_rect", "gs1_dm", "gs1_qr")[int(rng.integers(0, 5))]
    truths = []
    areas = []
    for i in range(rows * cols):
        r, c = divmod(i, cols)
        gx, gy = (c + 0.5) * cell_w - w / 2, (r + 0.5) * cell_h - h / 2
        x = w / 2 + gx * math.cos(tilt) - gy * math.sin(tilt) + rng.normal(0, 3)
        y = h / 2 + gx * math.sin(tilt) + gy * math.cos(tilt) + rng.normal(0, 3)
        radius = radius_base * rng.uniform(0.97, 1.0)
        sym = random_symbol(rng, line_kind)
        pitch = max(3.0, _fit_pitch(sym, radius, rng.uniform(3.0, 4.0)))
        box, inked = _draw_cap(albedo, glare, sym, (x, y), radius, pitch, rng)
        truths.append(Truth(sym.text, sym.symbology, sym.kind, (x, y)))
        areas.append((box, inked))
    frame = _expose(albedo, glare, rng)
    truths = [
        Truth(t.text, t.symbology, t.kind, t.centre, _saturated(frame, box, inked))
        for t, (box, inked) in zip(truths, areas, strict=True)
    ]
    return frame, truths
