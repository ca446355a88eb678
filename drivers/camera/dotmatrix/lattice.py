"""The module lattice of an inkjet dot code, and its modules sampled.

The two module periods and the angle come from the 2-D spectrum of the ink image's Laplacian
(and of its absolute value, which keeps the lattice where drops merge); the phase of the two
peaks places the lattice. It is then bent onto the drops (each inked node moves to the ink
centroid round it; a cubic map is fitted, from the centre outward), so a code on a domed cap
still fits. ``sample_grids(crop)`` returns the sampled grids over the code's bounding box with
the map back to crop pixels; ``readings`` gives dark/light grids to try; patterns.snap turns
one into a clean symbol.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass

import cv2
import numpy

from drivers.camera.dotmatrix.ink import code_region, ink_image
from drivers.camera.dotmatrix.patterns import DM_SIZES, QR_SIZES

_FFT = 128
_CROSS = numpy.array([[0, 0.25, 0], [0.25, 0, 0.25], [0, 0.25, 0]], numpy.float32)
_SPILL = 0.5  # share of the neighbours' mean ink a module is thought to pick up from blur
_GLARE_ROOM = 0.5  # headroom (path._headroom) under which a module counts as under glare
_GLARE_FLOOR = 0.2  # the split under glare stays above this share of the global one


@dataclass(frozen=True)
class Grid:
    """Sampled modules (True = dark) and the module → crop-pixel map of their corners."""

    dark: numpy.ndarray
    values: numpy.ndarray  # the ink sampled at each module (dark = high)
    contrast: numpy.ndarray  # a module's ink over the lightest of its four gap corners
    pitch: float
    coeff_x: numpy.ndarray
    coeff_y: numpy.ndarray
    origin: tuple[int, int]  # (i, j) lattice index of dark[0, 0]

    def to_pixels(self, rows: numpy.ndarray, cols: numpy.ndarray) -> numpy.ndarray:
        """Crop pixel (x, y) of grid positions (row, col) in module units of ``dark``."""
        i = numpy.asarray(cols, float) + self.origin[0]
        j = numpy.asarray(rows, float) + self.origin[1]
        basis = _basis(i, j, len(self.coeff_x))
        return numpy.stack([basis @ self.coeff_x, basis @ self.coeff_y], axis=-1)


def _spectra(ink: numpy.ndarray) -> tuple[numpy.ndarray, numpy.ndarray, numpy.ndarray]:
    """Magnitude spectra of the Laplacian and of its absolute value, and their frequencies.

    Drops that stand apart give the Laplacian itself a peak at the module frequency; where they
    merge into solid modules that peak vanishes (a square module's spectrum is zero there) and
    the module edges, |Laplacian|, carry the lattice instead.
    """
    h, w = ink.shape
    lap = cv2.Laplacian(cv2.GaussianBlur(ink, (0, 0), 0.7), cv2.CV_32F)
    win = numpy.outer(numpy.hanning(h), numpy.hanning(w)).astype(numpy.float32)
    size = max(_FFT, 1 << math.ceil(math.log2(max(h, w))))  # ≥ 128: parabolic peaks refine
    padded = numpy.zeros((2, size, size), numpy.float32)
    padded[0, :h, :w] = lap * win
    edges = numpy.abs(lap)
    padded[1, :h, :w] = (edges - edges.mean()) * win
    spec = numpy.abs(numpy.fft.rfft2(padded))
    fy = numpy.fft.fftfreq(size)[:, None]
    fx = numpy.fft.rfftfreq(size)[None, :]
    return spec, fx, fy


def _peak(
    spec: numpy.ndarray, fx: numpy.ndarray, fy: numpy.ndarray, where: numpy.ndarray
) -> numpy.ndarray | None:
    """Frequency (fx, fy) of the strongest bin in ``where``, refined between bins."""
    masked = numpy.where(where, spec, 0.0)
    if masked.max() <= 0:
        return None
    r, c = numpy.unravel_index(int(numpy.argmax(masked)), masked.shape)
    n = spec.shape[0]
    step = fx[0, 1] - fx[0, 0]

    def shift(a: float, b: float, m: float) -> float:
        den = a - 2 * m + b
        return 0.0 if den >= 0 else 0.5 * (a - b) / den

    dc = shift(spec[r, c - 1], spec[r, c + 1], spec[r, c]) if 0 < c < spec.shape[1] - 1 else 0.0
    dr = shift(spec[(r - 1) % n, c], spec[(r + 1) % n, c], spec[r, c])
    return numpy.array([fx[0, c] + dc * step, fy[r, 0] + dr * step])


def lattices(ink: numpy.ndarray) -> list[tuple[numpy.ndarray, numpy.ndarray]]:
    """Candidate lattice basis vectors (a1, a2) in pixels, one per spectrum that shows one."""
    specs, fx, fy = _spectra(ink)
    radius = numpy.hypot(fx, fy)
    band = (radius > 1 / 9.0) & (radius < 1 / 2.2)
    out: list[tuple[numpy.ndarray, numpy.ndarray]] = []
    for spec in (specs[1], specs[0]):
        f1 = _peak(spec, fx, fy, band)
        if f1 is None:
            continue
        r1 = float(numpy.hypot(*f1))
        angle = numpy.arctan2(fy, fx) - math.atan2(f1[1], f1[0])
        across = numpy.abs(numpy.cos(angle)) < math.sin(math.radians(18))
        same = (radius > 0.75 * r1) & (radius < 1.33 * r1)
        f2 = _peak(spec, fx, fy, across & same)
        if f2 is None:
            continue
        freq = numpy.stack([f1, f2])
        if abs(numpy.linalg.det(freq)) < 1e-6:
            continue
        basis = numpy.linalg.inv(freq)  # columns: lattice vectors a1, a2, f_i · a_j = δ_ij
        a1, a2 = basis[:, 0], basis[:, 1]
        if a1[0] * a2[1] - a1[1] * a2[0] < 0:
            a2 = -a2  # keep (i → column, j → row) a turn of the image, never a mirror
        if any(numpy.allclose(a1, b1, rtol=0.06, atol=0.15) for b1, _ in out):
            continue
        out.append((a1, a2))
    return out


def _basis(i: numpy.ndarray, j: numpy.ndarray, terms: int) -> numpy.ndarray:
    out = numpy.empty((len(i), terms))
    out[:, 0] = 1.0
    out[:, 1] = i
    out[:, 2] = j
    if terms > 3:
        ii, jj = i * i, j * j
        out[:, 3], out[:, 4], out[:, 5] = ii, i * j, jj
        if terms > 6:
            out[:, 6], out[:, 7], out[:, 8], out[:, 9] = ii * i, ii * j, i * jj, jj * j
    return out


def _fit(
    nodes: numpy.ndarray, points: numpy.ndarray, terms: int
) -> tuple[numpy.ndarray, numpy.ndarray]:
    basis = _basis(nodes[:, 0], nodes[:, 1], terms)
    cx, *_ = numpy.linalg.lstsq(basis, points[:, 0], rcond=None)
    cy, *_ = numpy.linalg.lstsq(basis, points[:, 1], rcond=None)
    return cx, cy


def _phase_origin(ink: numpy.ndarray, a1: numpy.ndarray, a2: numpy.ndarray) -> numpy.ndarray:
    """The pixel where a lattice node (a drop centre) sits, from the phases at the two peaks."""
    h, w = ink.shape
    freq = numpy.linalg.inv(numpy.stack([a1, a2], axis=1))  # rows f1, f2
    win = numpy.outer(numpy.hanning(h), numpy.hanning(w)) * ink
    xs, ys = numpy.arange(w), numpy.arange(h)
    phases = []
    for f in freq:  # the plane wave is separable: exp(-2πi fx x) · exp(-2πi fy y)
        ax, ay = 2 * math.pi * f[0] * xs, 2 * math.pi * f[1] * ys
        rows = win @ numpy.cos(ax) - 1j * (win @ numpy.sin(ax))  # real products: fast
        total = numpy.cos(ay) @ rows - 1j * (numpy.sin(ay) @ rows)
        phases.append(-numpy.angle(total) / (2 * math.pi))
    centre = numpy.array([w / 2.0, h / 2.0])
    phase = numpy.array(phases)
    t = phase + numpy.round(freq @ centre - phase)  # the node nearest the centre
    node: numpy.ndarray = numpy.stack([a1, a2], axis=1) @ t
    return node


def _grid_from_model(
    ink: numpy.ndarray,
    cx: numpy.ndarray,
    cy: numpy.ndarray,
    terms: int,
    pitch: float,
    nodes: numpy.ndarray,
    full: numpy.ndarray,
    at: tuple[int, int],
    reach: int = 1,
) -> Grid | None:
    """Sample the ink at every lattice node in the box of ``nodes`` (strays removed). The box
    comes from ``ink``, a window at ``at`` of ``full``; the samples from ``full``, where the
    print goes on beyond the window (a corner glare cut off), and the grid maps to ``full``.
    Blobs of inked nodes up to 2 × ``reach`` empty modules apart are one code."""
    nodes = numpy.asarray(nodes, int)
    if len(nodes) < 20:
        return None
    low = nodes.min(axis=0)
    size = nodes.max(axis=0) - low + 3
    if size.max() > 200:
        return None
    occupied = numpy.zeros((size[1], size[0]), numpy.float32)
    occupied[nodes[:, 1] - low[1] + 1, nodes[:, 0] - low[0] + 1] = 1.0
    company = cv2.boxFilter(occupied, -1, (3, 3), normalize=False, borderType=cv2.BORDER_CONSTANT)
    kept = ((occupied > 0) & (company >= 2)).astype(numpy.uint8)  # strays (a satellite) dropped
    # The code is one blob of modules once one-module gaps close; specks and glare edges are
    # others. Keep the blob with the most inked nodes.
    joined = cv2.dilate(kept, numpy.ones((2 * reach + 1, 2 * reach + 1), numpy.uint8))
    count, labels = cv2.connectedComponents(joined, connectivity=8)
    if count > 2:
        sizes = numpy.bincount(labels[kept > 0], minlength=count)
        kept &= (labels == int(numpy.argmax(sizes[1:])) + 1).astype(numpy.uint8)
    js, is_ = numpy.nonzero(kept)
    if len(js) < 20:
        return None
    i0, j0 = int(is_.min() + low[0] - 1), int(js.min() + low[1] - 1)
    i1, j1 = int(is_.max() + low[0] - 1), int(js.max() + low[1] - 1)
    if i1 - i0 > 60 or j1 - j0 > 60:
        return None
    gx, gy = cx.copy(), cy.copy()
    gx[0] += at[0]
    gy[0] += at[1]
    return _sample_box(full, gx, gy, pitch, (i0, j0, i1, j1))


def _sample_box(
    ink: numpy.ndarray,
    cx: numpy.ndarray,
    cy: numpy.ndarray,
    pitch: float,
    box: tuple[int, int, int, int],
) -> Grid:
    """The grid of lattice nodes i0..i1, j0..j1 (``box``) sampled from ``ink``."""
    i0, j0, i1, j1 = box
    terms = len(cx)
    # Nodes and the gaps between them (half-integer positions): round drops leave the diagonal
    # gaps light even where neighbouring drops merge, so a node darker than its lightest gap
    # corner is inked wherever glare or shading sits.
    ii, jj = numpy.meshgrid(numpy.arange(i0, i1 + 1.5, 0.5), numpy.arange(j0, j1 + 1.5, 0.5))
    ii, jj = ii - 0.5, jj - 0.5
    basis = _basis(ii.ravel(), jj.ravel(), terms)
    px, py = basis @ cx, basis @ cy
    smooth = cv2.GaussianBlur(ink, (0, 0), max(0.5, pitch * 0.2))
    fine = cv2.remap(
        smooth,
        px.astype(numpy.float32).reshape(ii.shape),
        py.astype(numpy.float32).reshape(ii.shape),
        cv2.INTER_LINEAR,
        borderValue=0.0,
    )
    values = fine[1::2, 1::2]
    corners = numpy.minimum(
        numpy.minimum(fine[0:-1:2, 0:-1:2], fine[0:-1:2, 2::2]),
        numpy.minimum(fine[2::2, 0:-1:2], fine[2::2, 2::2]),
    )
    contrast = values - corners
    return Grid(values > _split(values), values, contrast, pitch, cx, cy, (int(i0), int(j0)))


def _dark_nodes(
    ink: numpy.ndarray, cx: numpy.ndarray, cy: numpy.ndarray, terms: int, pitch: float
) -> numpy.ndarray:
    """Lattice nodes inside ``ink`` whose sampled ink is dark."""
    h, w = ink.shape
    i, j = _nodes_inside(h, w, cx[:3], cy[:3], pitch)
    basis = _basis(i, j, terms)
    px, py = basis @ cx, basis @ cy
    inside = (px >= 0) & (px <= w - 1) & (py >= 0) & (py <= h - 1)
    i, j, px, py = i[inside], j[inside], px[inside], py[inside]
    smooth = cv2.GaussianBlur(ink, (0, 0), max(0.5, pitch * 0.2))
    values = smooth[py.round().astype(int), px.round().astype(int)]
    if len(values) < 20:
        return numpy.zeros((0, 2))
    dark = values > _split(values)
    return numpy.stack([i[dark], j[dark]], axis=1)


def _nodes_inside(
    h: int, w: int, cx: numpy.ndarray, cy: numpy.ndarray, pitch: float
) -> tuple[numpy.ndarray, numpy.ndarray]:
    """Lattice indices (i, j) whose straight-lattice position lies within 2 pitches of the
    h×w region (the affine part of the map: a bent map moves nodes by less)."""
    a = numpy.array([[cx[1], cx[2]], [cy[1], cy[2]]])
    corners = numpy.array([[0, 0], [w, 0], [0, h], [w, h]], float) - [cx[0], cy[0]]
    uv = numpy.linalg.solve(a, corners.T).T
    lo = numpy.floor(uv.min(axis=0)) - 2
    hi = numpy.ceil(uv.max(axis=0)) + 2
    ii, jj = numpy.meshgrid(numpy.arange(lo[0], hi[0] + 1), numpy.arange(lo[1], hi[1] + 1))
    i, j = ii.ravel(), jj.ravel()
    px = cx[0] + cx[1] * i + cx[2] * j
    py = cy[0] + cy[1] * i + cy[2] * j
    m = 2 * pitch
    keep = (px > -m) & (px < w + m) & (py > -m) & (py < h + m)
    return i[keep], j[keep]


def refine(
    ink: numpy.ndarray, cx: numpy.ndarray, cy: numpy.ndarray, pitch: float, rounds: int = 3
) -> tuple[numpy.ndarray, numpy.ndarray, int]:
    """Bend a straight lattice onto the drops: each dark node moves to the ink centroid round
    it, and a cubic map (i, j) → (x, y) is fitted through them, from the centre outward."""
    h, w = ink.shape
    smooth = cv2.GaussianBlur(ink, (0, 0), max(0.5, pitch * 0.25))
    i, j = _nodes_inside(h, w, cx, cy, pitch)
    steps = numpy.linspace(-0.45, 0.45, 5)
    ox_grid, oy_grid = numpy.meshgrid(steps, steps)
    ox, oy = ox_grid.ravel(), oy_grid.ravel()
    terms = 3
    centre = numpy.array([w / 2.0, h / 2.0])
    for k, (new_terms, reach_frac) in enumerate(((6, 0.6), (10, 1.0), (10, 1.0))[:rounds]):
        basis = _basis(i, j, terms)
        px, py = basis @ cx, basis @ cy
        inside = (px >= 1) & (px <= w - 2) & (py >= 1) & (py <= h - 2)
        near = numpy.hypot(px - centre[0], py - centre[1]) <= reach_frac * 0.75 * max(h, w)
        use = inside & near
        if use.sum() < 30:
            break
        # Ink at a 5×5 pattern of offsets round each node (in pixels, along x and y).
        sx = (px[use, None] + ox[None, :] * pitch).astype(numpy.float32)
        sy = (py[use, None] + oy[None, :] * pitch).astype(numpy.float32)
        vals = cv2.remap(smooth, sx, sy, cv2.INTER_LINEAR, borderValue=0.0)
        centre_val = vals[:, len(steps) ** 2 // 2]
        dark = centre_val > _split(centre_val)
        weight = vals[dark] ** 2
        total = weight.sum(axis=1)
        ok = total > 1e-9
        mx = (weight * sx[dark]).sum(axis=1)[ok] / total[ok]
        my = (weight * sy[dark]).sum(axis=1)[ok] / total[ok]
        nodes = numpy.stack([i[use][dark][ok], j[use][dark][ok]], axis=1)
        if len(nodes) < 3 * new_terms:
            break
        cx, cy = _fit(nodes, numpy.stack([mx, my], axis=1), new_terms)
        terms = new_terms
        del k
    return cx, cy, terms


def _grids_for(
    full: numpy.ndarray, region: tuple[int, int, int, int], a1: numpy.ndarray, a2: numpy.ndarray
) -> Iterator[Grid]:
    """Grids of lattice (a1, a2) in crop pixels, made as they are asked for: bent onto the
    drops (a domed cap), then straight. (A map fitted to detected drop centres, and sampling a
    margin round the region with the straight lattice, read nothing more on the tuning set and
    cost a third.)"""
    rx, ry, rw, rh = region
    ink = full[ry : ry + rh, rx : rx + rw]
    pitch = math.sqrt(abs(a1[0] * a2[1] - a1[1] * a2[0]))
    if not 2.2 <= pitch <= 9.0:
        return
    origin = _phase_origin(ink, a1, a2)
    cx = numpy.array([origin[0], a1[0], a2[0]])
    cy = numpy.array([origin[1], a1[1], a2[1]])
    bx, by, terms = refine(ink, cx, cy, pitch)
    nodes = _dark_nodes(ink, bx, by, terms, pitch)
    near = False
    bent = _grid_from_model(ink, bx, by, terms, pitch, nodes, full, (rx, ry))
    for grid in (
        bent,
        _grid_from_model(ink, cx, cy, 3, pitch, _dark_nodes(ink, cx, cy, 3, pitch), full, (rx, ry)),
    ):
        if grid is not None:
            near = near or _near_valid(grid.dark.shape)
            yield grid
    if bent is not None and not _near_valid(bent.dark.shape):
        # Glare ate a line of the code (a Data Matrix's inner finder): bridge wider gaps.
        wider = _grid_from_model(ink, bx, by, terms, pitch, nodes, full, (rx, ry), reach=2)
        if wider is not None and wider.dark.shape != bent.dark.shape:
            near = near or _near_valid(wider.dark.shape)
            yield wider
    if not near:
        # Glare or a light region gap cut the code short: the straight lattice extends safely
        # over a margin round the region (and the largest blob keeps specks out).
        m = int(0.4 * max(rw, rh))
        wx, wy = max(0, rx - m), max(0, ry - m)
        wide = full[wy : min(full.shape[0], ry + rh + m), wx : min(full.shape[1], rx + rw + m)]
        cx[0] += rx - wx
        cy[0] += ry - wy
        nodes = _dark_nodes(wide, cx, cy, 3, pitch)
        grid = _grid_from_model(wide, cx, cy, 3, pitch, nodes, full, (wx, wy))
        if grid is not None:
            yield grid


def _near_valid(shape: tuple[int, int]) -> bool:
    """Whether a sampled grid is within a module of some QR or Data Matrix size."""
    h, w = sorted(shape)
    sizes = [(n, n) for n in QR_SIZES] + [tuple(sorted(size)) for size in DM_SIZES]
    return any(abs(a - h) <= 1 and abs(b - w) <= 1 for a, b in sizes)


def sample_grids(
    crop: numpy.ndarray,
    full: numpy.ndarray | None = None,
    region: tuple[int, int, int, int] | None = None,
) -> Iterator[Grid]:
    """Module grids of the dot code in ``crop`` (see _grids_for), made as they are asked for
    (the first one most often reads, and the others cost as much again); none when no lattice
    shows. ``full`` and ``region``: the crop's ink_image and code_region when the caller has
    them."""
    full = ink_image(crop) if full is None else full
    region = code_region(full) if region is None else region
    if region is None:
        return
    rx, ry, rw, rh = region
    ink = full[ry : ry + rh, rx : rx + rw]
    for a1, a2 in lattices(ink):
        held: list[Grid] = []  # grids too big for any symbol, until one fits
        small = False
        for grid in _grids_for(full, region, a1, a2):
            if max(grid.dark.shape) > 45 and not small:
                held.append(grid)
                continue
            small = True
            yield from held
            held = []
            yield grid
        if held:  # only grids too big for any symbol: a harmonic, half the real pitch
            yield from _grids_for(full, region, 2 * a1, 2 * a2)


def readings(grid: Grid, room: numpy.ndarray | None = None) -> list[numpy.ndarray]:
    """Dark/light grids to try: the global split, splits against the local contrast (glare and
    shading change it across the code), the ink over the module's lightest gap corner, and
    (``room``: headroom below full scale per module) a split of its own under glare, where
    clipping leaves the dots a fraction of their contrast."""
    values = grid.values.astype(numpy.float32)
    level = _split(values)
    extra = []
    if room is not None:
        zone = room < _GLARE_ROOM
        if int(zone.sum()) >= 8:
            inside = values[zone]
            cut = max(_split(inside), _GLARE_FLOOR * level)
            if float(inside.max()) > cut:
                extra.append(numpy.where(zone, values > cut, grid.dark))
    kernel = numpy.ones((5, 5), numpy.uint8)
    high, low = cv2.dilate(values, kernel), cv2.erode(values, kernel)
    middle = 0.5 * (high + low)
    weak = (high - low) < 0.5 * (float(values.max()) - float(values.min()))
    local = numpy.where(weak, values > level, values > middle)  # flat: keep the global split
    scaled = values / numpy.maximum(high, 1e-6)
    contrast = grid.contrast
    # Blur spills a drop's ink onto its neighbours: take a share of the four neighbours' ink
    # off each module (a light module between dark ones reads darker than it is).
    around = cv2.filter2D(values, -1, _CROSS, borderType=cv2.BORDER_CONSTANT)
    sharp = values - _SPILL * around
    out = [grid.dark, local, scaled > _split(scaled), contrast > _split(contrast)]
    out += [sharp > _split(sharp), *extra]
    unique: list[numpy.ndarray] = []
    for dark in out:
        if not any((dark == seen).all() for seen in unique):
            unique.append(dark)
    return unique


def sureness(grid: Grid) -> numpy.ndarray:
    """How sure each module's dark/light call is: its distance from the local mid-level over
    the local contrast (5×5 modules; the global split where the neighbourhood is flat)."""
    values = grid.values.astype(numpy.float32)
    kernel = numpy.ones((5, 5), numpy.uint8)
    high, low = cv2.dilate(values, kernel), cv2.erode(values, kernel)
    span = float(values.max()) - float(values.min())
    weak = (high - low) < 0.5 * span
    middle = numpy.where(weak, _split(values), 0.5 * (high + low))
    out: numpy.ndarray = numpy.abs(values - middle) / numpy.maximum(high - low, 0.5 * span + 1e-6)
    return out


def _split(values: numpy.ndarray) -> float:
    """Otsu threshold between light and dark module samples."""
    v = numpy.clip(values.ravel() * 255.0 / max(float(values.max()), 1e-6), 0, 255)
    level, _ = cv2.threshold(v.astype(numpy.uint8), 0, 255, cv2.THRESH_BINARY + cv2.THRESH_OTSU)
    return float(level) / 255.0 * max(float(values.max()), 1e-6)
