"""Fixed patterns of QR Code and Data Matrix: snap a sampled module grid to a valid symbol.

A sampled grid of an inkjet dot code has the right data modules but often a finder, timing or
clock track damaged by a missing or merged drop. We choose the symbol size and orientation that
best fit the grid, redraw the fixed patterns ideally and leave every data module as sampled, so
the reader's error correction still decides whether the data is right.
"""

from __future__ import annotations

from functools import lru_cache

import numpy

# ISO/IEC 18004 alignment pattern centres for versions 1–10.
_QR_ALIGN = {
    1: [],
    2: [6, 18],
    3: [6, 22],
    4: [6, 26],
    5: [6, 30],
    6: [6, 34],
    7: [6, 22, 38],
    8: [6, 24, 42],
    9: [6, 26, 46],
    10: [6, 28, 50],
}
# ISO/IEC 16022 ECC 200: symbol (rows, cols) → data region (rows, cols).
_DM_REGIONS = {
    (10, 10): (8, 8),
    (12, 12): (10, 10),
    (14, 14): (12, 12),
    (16, 16): (14, 14),
    (18, 18): (16, 16),
    (20, 20): (18, 18),
    (22, 22): (20, 20),
    (24, 24): (22, 22),
    (26, 26): (24, 24),
    (32, 32): (14, 14),
    (36, 36): (16, 16),
    (40, 40): (18, 18),
    (44, 44): (20, 20),
    (8, 18): (6, 16),
    (8, 32): (6, 14),
    (12, 26): (10, 24),
    (12, 36): (10, 16),
    (16, 36): (14, 16),
    (16, 48): (14, 22),
}
QR_SIZES = tuple(17 + 4 * v for v in _QR_ALIGN)
DM_SIZES = tuple(_DM_REGIONS)


@lru_cache(maxsize=64)
def qr_fixed(n: int) -> tuple[numpy.ndarray, numpy.ndarray]:
    """(value, mask) of the fixed modules of an ``n``×``n`` QR symbol (canonical orientation)."""
    value = numpy.zeros((n, n), bool)
    mask = numpy.zeros((n, n), bool)
    finder = numpy.ones((7, 7), bool)
    finder[1:6, 1:6] = False
    finder[2:5, 2:5] = True
    for r, c in ((0, 0), (0, n - 7), (n - 7, 0)):
        mask[max(0, r - 1) : r + 8, max(0, c - 1) : c + 8] = True  # finder plus separator
        value[r : r + 7, c : c + 7] = finder
    for i in range(8, n - 8):
        mask[6, i] = mask[i, 6] = True
        value[6, i] = value[i, 6] = i % 2 == 0
    version = (n - 17) // 4
    centres = _QR_ALIGN.get(version, [])
    for r in centres:
        for c in centres:
            if _under_finder(r, c, n):
                continue
            mask[r - 2 : r + 3, c - 2 : c + 3] = True
            value[r - 2 : r + 3, c - 2 : c + 3] = True
            value[r - 1 : r + 2, c - 1 : c + 2] = False
            value[r, c] = True
    mask[n - 8, 8] = value[n - 8, 8] = True  # the dark module
    value.flags.writeable = mask.flags.writeable = False  # cached: shared by every caller
    return value, mask


def _under_finder(r: int, c: int, n: int) -> bool:
    """Whether an alignment centre (r, c) falls on a finder (those patterns are left out)."""
    return (r < 9 and c < 9) or (r < 9 and c > n - 9) or (r > n - 9 and c < 9)


@lru_cache(maxsize=64)
def dm_fixed(rows: int, cols: int) -> tuple[numpy.ndarray, numpy.ndarray]:
    """(value, mask) of the finder L and clock tracks of every data region of a Data Matrix."""
    rh, rw = _DM_REGIONS[(rows, cols)]
    value = numpy.zeros((rows, cols), bool)
    mask = numpy.zeros((rows, cols), bool)
    bh, bw = rh + 2, rw + 2
    for top in range(0, rows, bh):
        for left in range(0, cols, bw):
            block = value[top : top + bh, left : left + bw]
            mask[top : top + bh, left] = mask[top + bh - 1, left : left + bw] = True
            mask[top, left : left + bw] = mask[top : top + bh, left + bw - 1] = True
            block[:, 0] = True
            block[-1, :] = True
            block[0, 0::2] = True
            block[1::2, -1] = True
    value.flags.writeable = mask.flags.writeable = False  # cached: shared by every caller
    return value, mask


def _fit(grid: numpy.ndarray, value: numpy.ndarray, mask: numpy.ndarray) -> float:
    """Share of the fixed modules the grid already has right."""
    wrong = int(numpy.count_nonzero((grid != value) & mask))
    return 1.0 - wrong / max(1, int(numpy.count_nonzero(mask)))


def _offsets(have: int, want: int) -> tuple[int, ...]:
    """Where a valid size of ``want`` modules may start over ``have`` sampled ones: pad a light
    line on either side, cut one or two (strays beside the code) from the sides, or lay it
    exactly."""
    if want == have:
        return (0,)
    return (-1, 0) if want == have + 1 else tuple(range(have - want + 1))


def snap(grid: numpy.ndarray, symbology: str) -> list[numpy.ndarray]:
    """Candidate clean symbols for a sampled ``grid`` (True = dark), best fit first."""
    return [clean for _, clean, _ in snap_scored(grid, symbology)]


Placement = tuple[int, int, int, int, int]  # quarter turns, rows, cols, dy, dx


def snap_scored(
    grid: numpy.ndarray,
    symbology: str,
    placements: list[Placement] | None = None,
    least: float = 0.8,
) -> list[tuple[float, numpy.ndarray, Placement]]:
    """(share of fixed modules the grid had right, clean symbol, placement), best two first.

    The grid is the bounding box of the dark modules; each candidate is a valid size within one
    module of it, turned to the canonical orientation, with its fixed patterns redrawn.
    ``placements`` (from another reading of the same grid) limits the search to those; a
    candidate fitting less than ``least`` of the fixed modules is left out.
    """
    out: list[tuple[float, numpy.ndarray, Placement]] = []
    turned = [grid, numpy.rot90(grid), numpy.rot90(grid, 2), numpy.rot90(grid, 3)]
    for place in placements if placements is not None else _placements(grid.shape, symbology):
        k, rows, cols, dy, dx = place
        cand = _shifted(turned[k], rows, cols, dy, dx)
        if cand is None:
            continue
        value, mask = qr_fixed(rows) if symbology == "QRCode" else dm_fixed(rows, cols)
        score = _fit(cand, value, mask)
        if score < least:
            continue
        cand[mask] = value[mask]
        out.append((score, cand, place))
    out.sort(key=lambda item: -item[0])
    return out[:2]


def _placements(shape: tuple[int, int], symbology: str) -> list[Placement]:
    """Every turn, valid size near the grid (_near) and offset for a grid of ``shape``."""
    out = []
    for k in range(4):
        h, w = shape if k % 2 == 0 else shape[::-1]
        if symbology == "QRCode":
            sizes = [(n, n) for n in QR_SIZES if _near(n, h) and _near(n, w)]
        else:
            sizes = [s for s in DM_SIZES if _near(s[0], h) and _near(s[1], w)]
        for rows, cols in sizes:
            # Place the valid size over the grid: pad with light modules or cut an edge.
            for dy in _offsets(h, rows):
                for dx in _offsets(w, cols):
                    out.append((k, rows, cols, dy, dx))
    return out


def _near(want: int, have: int) -> bool:
    """A valid size of ``want`` modules may lie over ``have`` sampled ones (_offsets)."""
    return have - _CUT <= want <= have + 1


_CUT = 2


def _shifted(g: numpy.ndarray, rows: int, cols: int, dy: int, dx: int) -> numpy.ndarray | None:
    """The ``rows``×``cols`` window of ``g`` starting at (dy, dx), light where it leaves ``g``."""
    h, w = g.shape
    if (dy < 0 and rows <= h) or (dx < 0 and cols <= w):
        return None
    if (dy > 0 and dy + rows > h + 1) or (dx > 0 and dx + cols > w + 1):
        return None
    out = numpy.zeros((rows, cols), g.dtype)
    y0, x0 = max(0, dy), max(0, dx)
    y1, x1 = min(h, dy + rows), min(w, dx + cols)
    out[y0 - dy : y1 - dy, x0 - dx : x1 - dx] = g[y0:y1, x0:x1]
    return out


def placed(values: numpy.ndarray, place: Placement) -> numpy.ndarray:
    """Per-module ``values`` of a sampled grid moved as ``place`` moved its modules (0 where
    the symbol reaches past the grid)."""
    k, rows, cols, dy, dx = place
    out = _shifted(numpy.rot90(values, k), rows, cols, dy, dx)
    assert out is not None  # the placement came from this grid's shape
    return out
