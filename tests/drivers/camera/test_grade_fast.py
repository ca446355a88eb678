"""The fast decode path keeps its function: grades stay right for the line's reject decision, and
zxing-cpp's inverted and downscaled reads still run when the first read found fewer codes."""

from __future__ import annotations

import math

import numpy
import pytest
import zxingcpp

from drivers.camera import grade as grading
from drivers.camera.decode import ZxingDecoder
from drivers.camera.sim import render_code, render_layer

URL = "https://t.example.cn/01/06901234567892/21/7QX2K9PLM4"
SERIAL = "06901234567892X7Y8Z9"
TEXTS = [f"0690123456789{i:07d}" for i in range(24)]
ORDER = "ABCDF"
MIN_GRADE = "D"  # the line's default minimum (settings.devices.verify_camera.min_grade)


def squeeze(frame: numpy.ndarray, factor: float) -> numpy.ndarray:
    """The same print with its contrast cut to ``factor`` (faded ink, dirty lens, weak light)."""
    out = 128.0 + (frame.astype(numpy.float32) - 128.0) * factor
    return numpy.clip(out, 0, 255).astype(numpy.uint8)


def below_min(letter: str) -> bool:
    return ORDER.index(letter) > ORDER.index(MIN_GRADE)


@pytest.mark.parametrize("symbology", ["QRCode", "DataMatrix"])
def test_batched_grades_equal_per_code_grades(symbology: str) -> None:
    frame = render_layer(TEXTS, rows=4, cols=6, symbology=symbology, blur=1.0, noise=0.03, seed=4)
    boxes = [c.corners for c in ZxingDecoder(grade=False).decode(frame, 24)]
    rng = numpy.random.default_rng(1)
    for _ in range(40):  # boxes partly or wholly off the frame, and too small to sample
        x, y = (int(v) for v in rng.integers(-80, 900, size=2))
        side = int(rng.integers(1, 160))
        boxes.append(((x, y), (x + side, y), (x + side, y + side), (x, y + side)))
    assert len(boxes) == 64
    assert grading.measure_many(frame, boxes) == [grading.measure(frame, b) for b in boxes]
    assert grading.grade_many(frame, boxes, enhanced=True) == [
        grading.grade(frame, b, enhanced=True) for b in boxes
    ]


def test_faded_single_code_grades_below_minimum_and_clean_one_a_or_b() -> None:
    dec = ZxingDecoder(pass_budget_ms=math.inf)
    [clean] = dec.decode(render_code(URL, seed=2), 1)
    assert clean.grade in "AB"
    [faded] = dec.decode(squeeze(render_code(URL, seed=2), 0.15), 1)
    assert faded.text == URL
    assert below_min(faded.grade)


@pytest.mark.parametrize("symbology", ["QRCode", "DataMatrix"])
def test_faded_codes_in_a_case_frame_grade_below_minimum_each_on_its_own(symbology: str) -> None:
    frame = render_layer(TEXTS, rows=4, cols=6, symbology=symbology, seed=5)
    dec = ZxingDecoder(pass_budget_ms=math.inf)
    clean = {c.text: c for c in dec.decode(frame, 24)}
    assert len(clean) == 24 and all(c.grade in "AB" for c in clean.values())
    faded = set(TEXTS[::5])
    for text in faded:  # fade five labels only, quiet zone included
        xs = [p[0] for p in clean[text].corners]
        ys = [p[1] for p in clean[text].corners]
        margin = (max(xs) - min(xs)) // 3
        box = (
            slice(max(min(ys) - margin, 0), max(ys) + margin),
            slice(max(min(xs) - margin, 0), max(xs) + margin),
        )
        frame[box] = squeeze(frame[box], 0.15)
    codes = dec.decode(frame, 24)
    assert len(codes) == 24
    for code in codes:
        assert below_min(code.grade) == (code.text in faded), (code.text, code.grade)


@pytest.mark.parametrize(("size", "step"), [((480, 480), "inverted"), ((480, 640), "third")])
def test_light_on_dark_code_still_found_when_one_is_expected(size, step) -> None:
    """Over 500 px a side the 1/3 layer (read both ways, as zxing-cpp does) comes first."""
    dec = ZxingDecoder(pass_budget_ms=math.inf)
    [code] = dec.decode(255 - render_code(URL, size=size, seed=3), 1)
    assert code.text == URL
    assert dec.last_pass == step
    assert code.grade in "AB"  # zxing-cpp's own inverted read, not an enhancement: no cap


@pytest.mark.parametrize(("symbology", "text"), [("QRCode", URL), ("DataMatrix", SERIAL)])
def test_large_blurred_code_found_in_the_one_third_layer(symbology: str, text: str) -> None:
    frame = render_code(
        text, symbology=symbology, module_px=16, blur=4.0, noise=0.05, size=(1024, 1280), seed=3
    )
    fmt = zxingcpp.barcode_formats_from_str(symbology)
    assert not zxingcpp.read_barcodes(frame, formats=fmt, try_downscale=False)
    [raw] = zxingcpp.read_barcodes(frame, formats=fmt)
    dec = ZxingDecoder([symbology])
    [code] = dec.decode(frame, 1)
    assert (code.text, dec.last_pass) == (text, "third")
    raw_corners = [(p.x, p.y) for p in (raw.position.top_left, raw.position.bottom_right)]
    ours = [code.corners[0], code.corners[2]]
    assert all(
        abs(a - b) <= 3
        for p, q in zip(ours, raw_corners, strict=True)
        for a, b in zip(p, q, strict=True)
    )


def test_first_read_is_zxing_cpps_full_read_without_expected() -> None:
    left = render_code(URL, size=(480, 640), seed=1)
    right = 255 - render_code(SERIAL, symbology="DataMatrix", size=(480, 640), seed=1)
    frame = numpy.hstack([left, right])
    dec = ZxingDecoder(pass_budget_ms=math.inf)
    assert {c.text for c in dec.decode(frame)} == {URL, SERIAL}
    assert dec.last_pass == "plain"
    assert {c.text for c in dec.decode(frame, 2)} == {URL, SERIAL}
    assert dec.last_pass in ("third", "inverted")
    # One expected and one found at full size: the inverted read is not made (the trade-off).
    assert [c.text for c in dec.decode(frame, 1)] == [URL]
