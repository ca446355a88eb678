"""Decoders: zxing-cpp first (fast, reads Data Matrix), pyzbar as a second opinion.

zxing-cpp reads a 640×480 QR in about a millisecond and a 24-code case frame in a few; pyzbar is
15–25× slower, reads no Data Matrix and misses codes in crowded frames, so it only runs when
zxing-cpp found fewer codes than expected. We do not use OpenCV's own QR/Data Matrix detectors:
they raise on some real photos and add nothing here.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Sequence

import cv2
import numpy
import zxingcpp

from drivers.camera import grade as grading
from drivers.camera.base import CameraError, DecodedCode, Decoder
from drivers.camera.dotmatrix.path import DotReader, uncovered
from drivers.camera.gs1 import split_gs1
from drivers.camera.preprocess import DEFAULT_PASSES, Pass, inverted, third
from drivers.camera.zbar import PyzbarDecoder, zbar_formats

Roi = tuple[int, int, int, int]
_GS1 = zxingcpp.ContentType.GS1


def to_gray(image: numpy.ndarray) -> numpy.ndarray:
    """Grayscale uint8 view of a gray, BGR or BGRA frame (no copy when already gray)."""
    if image.ndim == 2:
        return image
    if image.ndim == 3 and image.shape[2] == 1:
        return image[:, :, 0]
    if image.ndim == 3 and image.shape[2] == 3:
        return cv2.cvtColor(image, cv2.COLOR_BGR2GRAY)
    if image.ndim == 3 and image.shape[2] == 4:
        return cv2.cvtColor(image, cv2.COLOR_BGRA2GRAY)
    raise CameraError("decoder", "-", f"unsupported frame shape {image.shape}")


def _clip_rois(rois: Sequence[Roi] | None, shape: tuple[int, ...]) -> list[Roi]:
    h, w = shape[:2]
    if not rois:
        return [(0, 0, w, h)]
    out = []
    for x, y, rw, rh in rois:
        x0, y0 = max(0, int(x)), max(0, int(y))
        x1, y1 = min(w, int(x + rw)), min(h, int(y + rh))
        if x1 - x0 >= 8 and y1 - y0 >= 8:
            out.append((x0, y0, x1 - x0, y1 - y0))
    return out


def _centre(corners: Sequence[tuple[int, int]]) -> tuple[float, float]:
    xs = [p[0] for p in corners]
    ys = [p[1] for p in corners]
    return sum(xs) / len(xs), sum(ys) / len(ys)


def _size(corners: Sequence[tuple[int, int]]) -> float:
    xs = [p[0] for p in corners]
    ys = [p[1] for p in corners]
    return max(max(xs) - min(xs), max(ys) - min(ys), 1)


def merge(found: list[DecodedCode], extra: Iterable[DecodedCode]) -> list[DecodedCode]:
    """``found`` plus codes of ``extra`` not already there (same text at the same place).

    The same text at two places stays twice: two caps with one code is a fault the line must see.
    """
    out = list(found)
    for code in extra:
        cx, cy = _centre(code.corners)
        same = False
        for other in out:
            if other.text != code.text:
                continue
            ox, oy = _centre(other.corners)
            if abs(cx - ox) + abs(cy - oy) < _size(other.corners):
                same = True
                break
        if not same:
            out.append(code)
    return out


class ZxingDecoder:
    """zxing-cpp restricted to the configured formats, with optional ROIs and enhancement passes."""

    def __init__(
        self,
        formats: Sequence[str] = ("QRCode", "DataMatrix"),
        rois: Sequence[Roi] | None = None,
        try_harder: bool = True,
        grade: bool = True,
        *,
        passes: Sequence[tuple[str, Pass]] = DEFAULT_PASSES,
        pass_budget_ms: float = 250.0,
        first_pass: str = "plain",
        dots: DotReader | None = None,
    ) -> None:
        try:
            self._formats = zxingcpp.barcode_formats_from_str(",".join(formats))
        except (ValueError, RuntimeError) as exc:
            raise CameraError(
                "decoder", "zxing-cpp", f"unknown format in {list(formats)}: {exc}"
            ) from exc
        self.formats = tuple(formats)
        self.rois = list(rois) if rois else None
        self.try_harder = try_harder
        self.grade = grade
        self.passes = tuple(passes)
        # "plain" (no enhancement) first by default; a dot-matrix line starts with an erosion
        # pass instead, because the plain read of loose dots usually fails at full cost.
        steps: list[tuple[str, Pass | None]] = [("plain", None), *self.passes]
        first = [step for step in steps if step[0] == first_pass]
        if not first:
            raise CameraError("decoder", "zxing-cpp", f"unknown first_pass {first_pass!r}")
        ordered = first + [step for step in steps if step[0] != first_pass]
        # zxing-cpp's try_invert and try_downscale always run, even when the full-size read
        # found every code: half the time of a clean read. When the caller says how many codes
        # the frame holds, "plain" reads without them, and these two steps make the same reads
        # only when it found fewer (the cheap 1/3 layer first). Not on a dot-matrix line: its
        # plain read comes after the erosion pass and stays one more pass, as before.
        self._layered = first_pass == "plain" and try_harder
        if self._layered:
            ordered[1:1] = [("third", third), ("inverted", inverted)]
        self._steps = ordered
        self.pass_budget_ms = pass_budget_ms
        self.last_pass = ""
        self.last_caps = 0  # caps the dot path read in the last decode (0: it did not run)
        # The dot-matrix path (dots.py) reads cap by cap after the first read came up short;
        # whole frames only (not with ROIs), and without ``expected`` it counts the caps.
        self.dots = dots if not self.rois else None

    def _read(self, image: numpy.ndarray, harder: bool, invert: bool) -> list[zxingcpp.Barcode]:
        if image.size == 0:
            return []
        return zxingcpp.read_barcodes(
            image,
            formats=self._formats,
            try_rotate=self.try_harder,
            try_downscale=self.try_harder and harder,
            try_invert=self.try_harder and invert,
        )

    def _convert(
        self,
        barcodes: list[zxingcpp.Barcode],
        gray: numpy.ndarray,
        scale: float,
        offset: tuple[int, int],
        enhanced: bool,
    ) -> list[DecodedCode]:
        """One read's barcodes as DecodedCodes in frame pixels, graded together."""
        dx, dy = offset
        boxes = []
        for barcode in barcodes:
            pos = barcode.position
            a, b, c, d = pos.top_left, pos.top_right, pos.bottom_right, pos.bottom_left
            if scale == 1.0:
                box = ((a.x, a.y), (b.x, b.y), (c.x, c.y), (d.x, d.y))
            else:
                box = tuple((round(p.x / scale), round(p.y / scale)) for p in (a, b, c, d))
            if dx or dy:
                box = tuple((x + dx, y + dy) for x, y in box)
            boxes.append(box)
        letters = (
            grading.grade_many(gray, boxes, enhanced=enhanced) if self.grade else [""] * len(boxes)
        )
        out = []
        for barcode, corners, letter in zip(barcodes, boxes, letters, strict=True):
            symbology_id = barcode.symbology_identifier
            gs1 = split_gs1(symbology_id, barcode.bytes) if barcode.content_type == _GS1 else None
            out.append(
                DecodedCode(barcode.text, barcode.format.name, symbology_id, corners, letter, gs1)
            )
        return out

    def decode(self, image: numpy.ndarray, expected: int | None = None) -> list[DecodedCode]:
        """Codes in ``image``; harder reads run only while fewer than ``expected`` (or 1).

        With ``expected`` the first read skips zxing-cpp's inverted and downscaled reads and the
        "third" and "inverted" steps make them only if it found fewer; so a code beyond the
        expected count that only those reads would find is not looked for (as with the
        enhancement passes). Without ``expected`` the first read is zxing-cpp's full one.
        """
        gray = to_gray(image)
        want = 1 if expected is None else expected
        caps = None
        if self.dots is not None and expected is None:
            caps = self.dots.caps(gray)
            want = max(1, self.dots.expected(caps, gray))
        fast = expected is not None and self._layered
        found: list[DecodedCode] = []
        self.last_caps = 0
        rois = _clip_rois(self.rois, gray.shape)
        started = time.perf_counter()
        for index, (name, enhance) in enumerate(self._steps):
            layer = name in ("third", "inverted")
            if layer and not fast:
                continue  # the plain read already made zxing-cpp's own harder reads
            helped = index > 0 and not layer  # read only after help: the grade is capped at C
            if index == 0:  # plain (or a dot-matrix line's erosion pass)
                harder = invert = not fast
            elif layer:  # the 1/3 layer as zxing-cpp reads it; the inverted image as it is
                harder = invert = name == "third"
            else:
                harder, invert = True, False
            for x, y, w, h in rois:
                crop = gray[y : y + h, x : x + w]
                better, scale = (crop, 1.0) if enhance is None else enhance(crop)
                barcodes = self._read(better, harder, invert)
                if not barcodes:
                    continue
                codes = self._convert(barcodes, gray, scale, (x, y), helped)
                # One read holds no code twice at one place, so the first one needs no merge
                # unless a text repeats (then merge decides: same place or a real duplicate).
                if found or len({code.text for code in codes}) < len(codes):
                    codes = merge(found, codes)
                found = codes
            self.last_pass = name
            if name == "plain" and self.dots is not None and want > 0 and len(found) < want:
                caps = self.dots.caps(gray) if caps is None else caps
                spent = time.perf_counter()
                extra = self._dot_codes(gray, caps, found, want)
                started += time.perf_counter() - spent  # the passes keep their own budget
                if extra:
                    found = merge(found, extra)
                    self.last_pass = "dots"
                    if self.dots.expected(caps, gray) >= 2:
                        # A case top of dot codes, read cap by cap: whole-frame passes (and
                        # ZBar, see CascadeDecoder) add next to nothing there at a high cost.
                        self.last_caps = len(caps)
                        break
            if len(found) >= want or want == 0:
                break
            if index > 0 and (time.perf_counter() - started) * 1e3 > self.pass_budget_ms:
                break
        return found

    def _dot_codes(self, gray, caps, found: list[DecodedCode], want: int) -> list[DecodedCode]:
        """Codes the dot-matrix path reads on the caps no found code sits on."""
        assert self.dots is not None
        if self.dots.expected(caps, gray) < 2:
            caps = caps[:1]  # no case top: only the largest bright disc can be a cap with a code
        todo = uncovered(caps, [code.corners for code in found])
        hits = self.dots.read(gray, todo, want - len(found))
        boxes = [hit.corners for hit in hits]
        letters = (
            grading.grade_many(gray, boxes, enhanced=True) if self.grade else [""] * len(boxes)
        )
        out = []
        for hit, letter in zip(hits, letters, strict=True):
            gs1 = split_gs1(hit.symbology_id, hit.raw) if hit.gs1 else None
            out.append(
                DecodedCode(hit.text, hit.symbology, hit.symbology_id, hit.corners, letter, gs1)
            )
        return out


class CascadeDecoder:
    """``primary`` first; ``second`` only when the primary found fewer than expected (or 1)."""

    def __init__(self, primary: Decoder, second: Decoder | None = None) -> None:
        self.primary = primary
        self.second = second

    def decode(self, image: numpy.ndarray, expected: int | None = None) -> list[DecodedCode]:
        """Primary's codes plus any the second opinion adds at new places."""
        found = self.primary.decode(image, expected)
        want = 1 if expected is None else expected
        if self.second is None or len(found) >= want:
            return found
        if getattr(self.primary, "last_caps", 0) >= 2:
            return found  # a case top the dot path read cap by cap; ZBar reads no loose dots
        return merge(found, self.second.decode(image, expected))


def make_decoder(
    formats: Sequence[str] = ("QRCode", "DataMatrix"),
    rois: Sequence[Roi] | None = None,
    second_opinion: bool = True,
    *,
    grade: bool = True,
    dot_matrix: bool = False,
    dot_path: bool = True,
    accept: Callable[[str], bool] | None = None,
    dot_workers: int = 1,
    pass_budget_ms: float = 250.0,
) -> Decoder:
    """The configured decoder chain: zxing-cpp, then pyzbar for the formats it reads (if any).

    ``dot_matrix``: the line prints with continuous inkjet dots, so start with the erosion pass.
    ``dot_path``: read cap by cap (dots.py) when the first read found fewer codes than expected
    (without ``expected``: than the caps in the frame). ``accept``: a content check of a text read
    on that path (length, alphabet, URL prefix, GS1 structure of the level), a second guard.
    ``dot_workers`` > 1 reads caps in that many processes (dots.DotReader; off by default).
    ``pass_budget_ms``: wall-clock time after which no further enhancement pass starts (the line's
    deadline; a test of what the passes can read passes ``math.inf``, so a busy machine cannot
    turn it into a speed test).
    """
    first = "close5" if dot_matrix else "plain"
    dots = None
    if dot_path and {"QRCode", "DataMatrix"} & set(formats):
        dots = DotReader(formats, accept=accept, workers=dot_workers)
    primary = ZxingDecoder(
        formats, rois, grade=grade, first_pass=first, dots=dots, pass_budget_ms=pass_budget_ms
    )
    if not second_opinion or not zbar_formats(formats):
        return primary
    try:
        second = PyzbarDecoder(formats, rois, grade=grade)
    except CameraError:
        return primary
    return CascadeDecoder(primary, second)


__all__ = ["CascadeDecoder", "PyzbarDecoder", "ZxingDecoder", "make_decoder", "merge", "to_gray"]
