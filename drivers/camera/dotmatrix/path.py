"""The dot-matrix path: inkjet codes on caps, read cap by cap when the fast read came up short.

Each cap (caps.find_caps) is cut out with the case round it painted the cap's own brightness,
then tried with the cheap passes that earned their time on independent frames (2× upscale, which
zxing-cpp no longer does for a small crop and whose absence merges dots, then blur, a 3×3
erosion, the plain crop and the GlobalHistogram binarizer), stopping at the first read. A cap
still unread is re-rendered: the module lattice is fitted to the drops (lattice.py), every module
sampled, the grid snapped to a valid QR / Data Matrix size with its fixed patterns redrawn
(patterns.py), and zxing-cpp decodes that clean image, so its error correction still guards
against a wrong read. Each grid's best symbol is read as soon as the grid is made (most caps
read there). When no clean image reads, the best few are corrected with each module's doubt
known (soft.py: errors and erasures, where glare clipped the cap a light call is a coin toss),
under an evidence budget, and their text must be plain (and GS1 sound). A content check
(``accept``) is a further guard. Caps can run in a small process pool (DotReader ``workers``,
off by default).
"""

from __future__ import annotations

import atexit
import multiprocessing
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass

import cv2
import numpy
import zxingcpp

from drivers.camera.dotmatrix.caps import Cap, cap_count, find_caps
from drivers.camera.dotmatrix.ink import code_region, ink_image, quantile
from drivers.camera.dotmatrix.lattice import Grid, readings, sample_grids, sureness
from drivers.camera.dotmatrix.patterns import Placement, placed, snap_scored
from drivers.camera.dotmatrix.soft import correct
from drivers.camera.gs1 import sound_gs1

_D3 = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (3, 3))
_MAX_CAPS = 48
_CLEAN_MODULE_PX = 4
_MAX_RENDERS = 16  # clean symbols decoded per cap at most
_QUIET_PX = 8  # kept round the print for the cheap passes (code_region adds 6 already)
_MAX_SOFT = 4  # best candidates corrected with the modules' doubt known (soft.py)
_FULL_SCALE = 253  # a pixel this bright is glare: the ink under it is lost
_HEADROOM = 15.0  # grey levels below full scale from which a light call is fully trusted
_Candidate = tuple[float, int, Grid, numpy.ndarray, str, Placement]


def _up(crop: numpy.ndarray) -> numpy.ndarray:
    return cv2.resize(crop, None, fx=2.0, fy=2.0, interpolation=cv2.INTER_LINEAR)


# name, image transform, binarizer, scale from crop to pass pixels (measured order: reads first).
CHEAP_PASSES: tuple[tuple[str, Callable[[numpy.ndarray], numpy.ndarray], str, float], ...] = (
    ("up2", _up, "LocalAverage", 2.0),
    ("up2_blur", lambda c: cv2.GaussianBlur(_up(c), (0, 0), 1.5), "LocalAverage", 2.0),
    ("erode3", lambda c: cv2.erode(c, _D3), "LocalAverage", 1.0),
    ("crop", lambda c: c, "LocalAverage", 1.0),
    ("histogram", lambda c: c, "GlobalHistogram", 1.0),
)


def cap_crop(gray: numpy.ndarray, cap: Cap) -> tuple[numpy.ndarray, tuple[int, int]]:
    """The square round ``cap`` with everything off the cap set to the cap's brightness."""
    x, y, w, h = cap.box(gray.shape, 1.05)
    crop = gray[y : y + h, x : x + w].copy()
    yy, xx = numpy.ogrid[y : y + h, x : x + w]
    off = (xx - cap.x) ** 2 + (yy - cap.y) ** 2 > cap.r**2
    inside = crop[~off]
    crop[off] = int(quantile(inside[::3], 0.75)) if inside.size else 200
    return crop, (x, y)


def _sound(barcode: zxingcpp.Barcode) -> bool:
    """A second look at a text read from a corrected symbol: no control characters but GS
    (zxing-cpp's text shows them as ``<NAK>`` and the like; a line's code has none), and GS1
    content that parses with sound check digits."""
    raw = bytes(barcode.bytes)
    if not all((b >= 0x20 and b != 0x7F) or b == 0x1D for b in raw):
        return False
    return barcode.content_type != zxingcpp.ContentType.GS1 or sound_gs1(raw)


def _kernel(pitch: float) -> int:
    return max(5, int(pitch * 2.5) | 1)


def _background(crop: numpy.ndarray, k: int) -> numpy.ndarray:
    """The cap without its print: a closing wider than a drop (glare keeps its shape)."""
    kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (k, k))
    return cv2.morphologyEx(crop, cv2.MORPH_CLOSE, kernel)


def _headroom(background: numpy.ndarray, grid: Grid) -> numpy.ndarray:
    """0..1 per module of ``grid``: how far its background stays below full scale (0: glare
    clipped it, so a dot there may not show at all)."""
    h, w = grid.dark.shape
    rows, cols = numpy.mgrid[0:h, 0:w]
    pts = grid.to_pixels(rows.ravel(), cols.ravel())
    x = numpy.clip(pts[:, 0].round().astype(int), 0, background.shape[1] - 1)
    y = numpy.clip(pts[:, 1].round().astype(int), 0, background.shape[0] - 1)
    level = background[y, x].astype(numpy.float32).reshape(h, w)
    out: numpy.ndarray = numpy.clip((_FULL_SCALE - level) / _HEADROOM, 0.0, 1.0)
    return out


def _render(clean: numpy.ndarray) -> numpy.ndarray:
    """A clean symbol image: dark modules black, 4 px each, a 4-module quiet zone."""
    image = numpy.pad(numpy.where(clean, 0, 255).astype(numpy.uint8), 4, constant_values=255)
    return cv2.resize(
        image, None, fx=_CLEAN_MODULE_PX, fy=_CLEAN_MODULE_PX, interpolation=cv2.INTER_NEAREST
    )


@dataclass(frozen=True)
class DotRead:
    """One code the dot path read: what the line needs of zxing-cpp's Barcode, picklable."""

    pass_name: str
    text: str
    symbology: str
    symbology_id: str
    raw: bytes
    gs1: bool
    corners: tuple[tuple[int, int], ...]


def _dot_read(
    name: str, barcode: zxingcpp.Barcode, corners: tuple[tuple[int, int], ...]
) -> DotRead:
    gs1 = barcode.content_type == zxingcpp.ContentType.GS1
    sid = barcode.symbology_identifier
    return DotRead(name, barcode.text, barcode.format.name, sid, bytes(barcode.bytes), gs1, corners)


class DotReader:
    """Reads the caps of a frame that the fast pass left unread; see the module docstring.

    ``workers`` > 1 reads caps in that many worker processes (the per-cap work is mostly small
    numpy steps that hold the GIL, so threads gained nothing); the pool starts on first use
    (forkserver: safe beside the line's threads) and lives until the program ends. Off by
    default: a worker re-imports the program's main module (a script without a ``__main__``
    guard would run again; from stdin it cannot start), and on this shared 2-core machine it
    could not be shown to help. A pool that breaks falls back to reading in-process.
    """

    def __init__(
        self,
        formats: Sequence[str] = ("QRCode", "DataMatrix"),
        *,
        accept: Callable[[str], bool] | None = None,
        workers: int = 1,
        rerender: bool = True,
    ) -> None:
        self.formats = tuple(formats)
        self._formats = zxingcpp.barcode_formats_from_str(",".join(formats))
        self.symbologies = [f for f in formats if f in ("QRCode", "DataMatrix")]
        self.accept = accept
        self.rerender = rerender
        self.workers = workers
        self.last_passes: list[str] = []

    def caps(self, gray: numpy.ndarray) -> list[Cap]:
        """The caps of ``gray``, largest first (at most 48). A cap filling the frame is kept: a
        single-cap camera close up (and a frame of plain stock is read the same way)."""
        return find_caps(gray)[:_MAX_CAPS]

    def expected(self, caps: list[Cap], gray: numpy.ndarray | None = None) -> int:
        """How many codes the caps (of ``gray``) suggest."""
        return cap_count(caps, gray)

    def _ok(self, barcode: zxingcpp.Barcode) -> bool:
        text = barcode.text
        if not text or not barcode.valid or not text.isprintable():
            return False  # a clean render decoding to nothing is noise, never a code
        return self.accept is None or self.accept(text)

    def _read(
        self, image: numpy.ndarray, binarizer: str = "LocalAverage", pure: bool = False
    ) -> list[zxingcpp.Barcode]:
        return zxingcpp.read_barcodes(
            image,
            formats=self._formats,
            try_rotate=True,
            try_downscale=False,
            try_invert=False,
            binarizer=getattr(zxingcpp.Binarizer, binarizer),
            is_pure=pure,
        )

    @staticmethod
    def _corners(grid: Grid, offset: tuple[int, int]) -> tuple[tuple[int, int], ...]:
        """The grid's outer corners in frame pixels."""
        h, w = grid.dark.shape
        rows = numpy.array([-0.5, -0.5, h - 0.5, h - 0.5])
        cols = numpy.array([-0.5, w - 0.5, w - 0.5, -0.5])
        pts = grid.to_pixels(rows, cols)
        return tuple((round(x) + offset[0], round(y) + offset[1]) for x, y in pts)

    def read_cap(self, gray: numpy.ndarray, cap: Cap) -> DotRead | None:
        """The code on one cap of ``gray``, or None."""
        crop, offset = cap_crop(gray, cap)
        return self.read_crop(crop, offset, cap)

    def read_crop(self, crop: numpy.ndarray, offset: tuple[int, int], cap: Cap) -> DotRead | None:
        """The code on a cap cut out at ``offset`` (cap_crop), corners in frame pixels."""
        ox, oy = offset
        ink = ink_image(crop)
        h, w = ink.shape
        yy, xx = numpy.ogrid[oy : oy + h, ox : ox + w]
        ink[(xx - cap.x) ** 2 + (yy - cap.y) ** 2 > (0.93 * cap.r) ** 2] = 0.0  # the cap's wall
        region = code_region(ink)
        if region is None:
            return None  # no print on this cap
        # The cheap passes read only the print and a quiet zone round it: a third of the cap.
        rx, ry, rw, rh = region
        x0, y0 = max(0, rx - _QUIET_PX), max(0, ry - _QUIET_PX)
        x1 = min(crop.shape[1], rx + rw + _QUIET_PX)
        y1 = min(crop.shape[0], ry + rh + _QUIET_PX)
        tight = crop[y0:y1, x0:x1]
        for name, make, binarizer, scale in CHEAP_PASSES:
            for barcode in self._read(make(tight), binarizer):
                if self._ok(barcode):
                    pos = barcode.position
                    corners = tuple(
                        (round(p.x / scale) + ox + x0, round(p.y / scale) + oy + y0)
                        for p in (pos.top_left, pos.top_right, pos.bottom_right, pos.bottom_left)
                    )
                    return _dot_read(name, barcode, corners)
        if not self.rerender:
            return None
        # Every (grid, reading, symbol) candidate, tried best fixed-pattern fit first: the fit
        # says which lattice and threshold got the modules right, so few reads are wasted. Each
        # grid's best is tried as soon as it is made: most codes read there, and the next grids
        # cost as much again.
        candidates: list[_Candidate] = []
        tried: list[_Candidate] = []
        backgrounds: dict[int, numpy.ndarray] = {}
        rooms: dict[int, numpy.ndarray] = {}
        for grid in sample_grids(crop, ink, region):
            k = _kernel(grid.pitch)
            if k not in backgrounds:
                backgrounds[k] = _background(crop, k)
            room = rooms[id(grid)] = _headroom(backgrounds[k], grid)
            first, *others = readings(grid, room)
            made = len(candidates)
            for symbology in self.symbologies:
                # Where the symbol sits (turn, size, offset) is found on the first reading,
                # whatever its fit; the other readings differ in threshold only and reuse those
                # placements, one of which may fit where the first reading's did not.
                best = snap_scored(first, symbology, least=0.0)
                places = [place for _, _, place in best]
                for dark in [first, *others] if places else ():
                    for score, clean, place in snap_scored(dark, symbology, places):
                        candidates.append((score, len(candidates), grid, clean, symbology, place))
            if len(candidates) > made:
                top = max(candidates[made:], key=lambda c: (c[0], -c[1]))
                hit = self._try(top, tried, offset)
                if hit is not None:
                    return hit
        candidates.sort(key=lambda c: (-c[0], c[1]))
        for candidate in candidates:
            if len(tried) >= _MAX_RENDERS:
                break
            hit = self._try(candidate, tried, offset)
            if hit is not None:
                return hit
        return self._soft(offset, tried[:_MAX_SOFT], rooms)

    def _try(
        self, candidate: _Candidate, tried: list[_Candidate], offset: tuple[int, int]
    ) -> DotRead | None:
        """Read one candidate's clean render unless an equal symbol was tried already."""
        clean, grid = candidate[3], candidate[2]
        if any(clean.shape == seen[3].shape and (clean == seen[3]).all() for seen in tried):
            return None
        tried.append(candidate)
        for barcode in self._read(_render(clean), pure=True):
            if self._ok(barcode):
                return _dot_read("rerender", barcode, self._corners(grid, offset))
        return None

    def _soft(
        self,
        offset: tuple[int, int],
        candidates: list[_Candidate],
        rooms: dict[int, numpy.ndarray],
    ) -> DotRead | None:
        """The best candidates corrected with their modules' doubt known (soft.py)."""
        sure_of: dict[int, numpy.ndarray] = {}
        for _, _, grid, clean, symbology, place in candidates:
            if id(grid) not in sure_of:
                sure_of[id(grid)] = sureness(grid)
            sure, room = placed(sure_of[id(grid)], place), placed(rooms[id(grid)], place)
            # A light call where glare left little headroom may be a dot the glare ate.
            sure = numpy.where(clean, sure, sure * room)
            for fixed in correct(clean, sure, symbology):
                for barcode in self._read(_render(fixed), pure=True):
                    if self._ok(barcode) and _sound(barcode):
                        return _dot_read("soft", barcode, self._corners(grid, offset))
        return None

    def read(self, gray: numpy.ndarray, caps: list[Cap], want: int) -> list[DotRead]:
        """Codes on the given caps, stopping once ``want`` are read."""
        out: list[DotRead] = []
        if self.workers <= 1 or len(caps) < 2:
            for cap in caps:
                hit = self.read_cap(gray, cap)
                if hit is not None:
                    out.append(hit)
                    if len(out) >= want:
                        break
        else:
            try:
                out = self._read_in_pool(gray, caps, want)
            except BrokenProcessPool:
                _POOLS.pop(self.workers, None)
                self.workers = 1  # the pool cannot start here: read in this process
                return self.read(gray, caps, want)
        self.last_passes = [hit.pass_name for hit in out]
        return out

    def _read_in_pool(self, gray: numpy.ndarray, caps: list[Cap], want: int) -> list[DotRead]:
        pool = _pool(self.workers)
        jobs = []
        for cap in caps:
            crop, offset = cap_crop(gray, cap)
            jobs.append(pool.submit(_job, self.formats, self.rerender, crop, offset, cap))
        out: list[DotRead] = []
        for job in jobs:
            hit = job.result()
            if hit is not None and (self.accept is None or self.accept(hit.text)):
                out.append(hit)
                if len(out) >= want:
                    for rest in jobs:
                        rest.cancel()
                    break
        return out


_POOLS: dict[int, ProcessPoolExecutor] = {}
_WORKER_READERS: dict[tuple[tuple[str, ...], bool], DotReader] = {}


def _pool(workers: int) -> ProcessPoolExecutor:
    """The shared worker pool of ``workers`` processes, started on first use."""
    pool = _POOLS.get(workers)
    if pool is None:
        context = multiprocessing.get_context("forkserver")
        pool = ProcessPoolExecutor(workers, mp_context=context)
        _POOLS[workers] = pool
        atexit.register(pool.shutdown, wait=False, cancel_futures=True)
    return pool


def _job(
    formats: tuple[str, ...],
    rerender: bool,
    crop: numpy.ndarray,
    offset: tuple[int, int],
    cap: Cap,
) -> DotRead | None:
    """One cap in a worker process (the content check runs in the caller)."""
    key = (formats, rerender)
    reader = _WORKER_READERS.get(key)
    if reader is None:
        reader = _WORKER_READERS[key] = DotReader(formats, workers=1, rerender=rerender)
    return reader.read_crop(crop, offset, cap)


def uncovered(caps: list[Cap], corners: Sequence[Sequence[tuple[int, int]]]) -> list[Cap]:
    """The caps holding none of the codes at ``corners`` (their centres)."""
    centres = [(sum(p[0] for p in c) / len(c), sum(p[1] for p in c) / len(c)) for c in corners]
    return [
        cap
        for cap in caps
        if not any((x - cap.x) ** 2 + (y - cap.y) ** 2 < cap.r**2 for x, y in centres)
    ]
