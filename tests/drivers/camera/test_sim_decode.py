"""Simulator frames decode with the right text; bad prints give no code, never a wrong one."""

from __future__ import annotations

import math

import numpy
import pytest

from drivers.camera.decode import CascadeDecoder, PyzbarDecoder, ZxingDecoder, make_decoder
from drivers.camera.sim import render_code, render_empty, render_layer

URL = "https://t.example.cn/01/06901234567892/21/7QX2K9PLM4"
SERIAL = "06901234567892X7Y8Z9"


@pytest.fixture(scope="module")
def decoder() -> CascadeDecoder:
    # What the passes can read, not how fast: no wall-clock budget (bench/decode.py times them),
    # or a busy machine would stop the passes early and fail reads that an idle one makes.
    dec = make_decoder(pass_budget_ms=math.inf)
    assert isinstance(dec, CascadeDecoder)
    return dec


CASES = {
    "solid": {},
    "rotated": {"rotation_deg": 33.0},
    "blur_noise": {"blur": 1.2, "noise": 0.04},
    "glare": {"glare": True, "uneven_light": True},
    "smudged": {"smudge": 0.12},
    "dots": {"dot_matrix": True},
    "dots_rotated_blur": {"dot_matrix": True, "rotation_deg": -21.0, "blur": 0.8, "noise": 0.02},
    "dots_glare": {"dot_matrix": True, "glare": True, "uneven_light": True},
    "dots_smudged": {"dot_matrix": True, "smudge": 0.12},
    "curved": {"curve": 0.7},
    "dots_curved_glare": {"dot_matrix": True, "curve": 0.6, "glare": True},
}


@pytest.mark.parametrize("symbology", ["QRCode", "DataMatrix"])
@pytest.mark.parametrize("case", sorted(CASES))
def test_sim_frame_decodes_right_text(decoder, symbology: str, case: str) -> None:
    frame = render_code(
        URL if symbology == "QRCode" else SERIAL, symbology=symbology, seed=7, **CASES[case]
    )
    codes = decoder.decode(frame)
    assert [c.text for c in codes] == [URL if symbology == "QRCode" else SERIAL]
    assert codes[0].symbology == symbology
    assert len(codes[0].corners) == 4
    assert codes[0].grade in "ABCDF"


@pytest.mark.parametrize(
    ("symbology", "dots"),
    [("QRCode", False), ("DataMatrix", False), ("QRCode", True), ("DataMatrix", True)],
)
def test_layer_of_24_decodes_all(decoder, symbology: str, dots: bool) -> None:
    texts = [f"0690123456789{i:07d}" for i in range(24)]
    frame = render_layer(
        texts,
        rows=4,
        cols=6,
        symbology=symbology,
        dot_matrix=dots,
        module_px=5,
        jitter_deg=8,
        seed=3,
    )
    codes = decoder.decode(frame, expected=24)
    assert sorted(c.text for c in codes) == sorted(texts)


def test_layer_with_empty_slots(decoder) -> None:
    texts: list[str | None] = [f"CASE-{i:02d}" for i in range(24)]
    texts[5] = texts[17] = None
    frame = render_layer(texts, rows=4, cols=6, seed=4)
    codes = decoder.decode(frame, expected=24)
    assert sorted(c.text for c in codes) == sorted(t for t in texts if t)


@pytest.mark.parametrize("dots", [False, True])
def test_smudged_beyond_reading_gives_no_code(decoder, dots: bool) -> None:
    frame = render_code(URL, dot_matrix=dots, smudge=1.0, seed=5)
    assert decoder.decode(frame) == []


@pytest.mark.parametrize("foreign", [False, True])
def test_no_code_frames_give_nothing(decoder, foreign: bool) -> None:
    assert decoder.decode(render_empty(foreign=foreign, seed=6), expected=1) == []


@pytest.mark.parametrize(("symbology", "sid"), [("DataMatrix", "]d2"), ("QRCode", "]Q3")])
def test_gs1_keeps_symbology_id_and_splits_ais(decoder, symbology: str, sid: str) -> None:
    frame = render_code(
        "(01)06901234567892(21)ABC123(10)LOT7", symbology=symbology, dot_matrix=True, seed=8
    )
    [code] = decoder.decode(frame)
    assert code.symbology_id == sid
    assert code.gs1 == {"01": "06901234567892", "21": "ABC123", "10": "LOT7"}
    assert code.text == "(01)06901234567892(21)ABC123(10)LOT7"


def test_plain_code_has_no_gs1(decoder) -> None:
    [code] = decoder.decode(render_code(URL, seed=1))
    assert code.gs1 is None
    assert code.symbology_id == "]Q1"


def test_grades_ordered_clean_above_degraded() -> None:
    dec = ZxingDecoder(pass_budget_ms=math.inf)
    order = "ABCDF"
    clean = dec.decode(render_code(URL, seed=2))[0].grade
    worn = dec.decode(render_code(URL, blur=1.5, noise=0.06, uneven_light=True, seed=2))[0].grade
    assert clean == "A"
    assert order.index(worn) > order.index(clean)


def test_grade_off_gives_empty_grade() -> None:
    [code] = ZxingDecoder(grade=False).decode(render_code(URL, seed=2))
    assert code.grade == ""


def test_roi_limits_search_and_corners_are_in_frame_coordinates() -> None:
    frame = render_code(URL, seed=3)
    assert ZxingDecoder(rois=[(0, 0, 150, 150)]).decode(frame) == []
    [code] = ZxingDecoder(rois=[(100, 50, 440, 380)]).decode(frame)
    xs = [p[0] for p in code.corners]
    assert 150 < min(xs) < 320 < max(xs) < 490  # code centred in 640 px frame, not in the ROI


def test_formats_restrict_what_is_read() -> None:
    frame = render_code(SERIAL, symbology="DataMatrix", seed=1)
    assert ZxingDecoder(formats=("QRCode",)).decode(frame) == []


def test_cascade_asks_second_opinion_only_when_short() -> None:
    frame = render_code(URL, seed=9)
    dm_only = ZxingDecoder(formats=("DataMatrix",))
    cascade = CascadeDecoder(dm_only, PyzbarDecoder(("QRCode",)))
    [code] = cascade.decode(frame)
    assert code.text == URL and code.symbology == "QRCode"
    both = render_code(SERIAL, symbology="DataMatrix", seed=9)
    assert [c.text for c in cascade.decode(both)] == [SERIAL]


def test_bgr_and_gray_frames_decode_alike() -> None:
    gray = render_code(URL, seed=1)
    bgr = numpy.dstack([gray, gray, gray])
    dec = ZxingDecoder(pass_budget_ms=math.inf)
    assert [c.text for c in dec.decode(bgr)] == [c.text for c in dec.decode(gray)] == [URL]


@pytest.mark.parametrize("dots", [False, True])
def test_dot_matrix_line_decoder_reads_dots_first_and_solid_too(dots: bool) -> None:
    dec = make_decoder(dot_matrix=True, pass_budget_ms=math.inf)
    [code] = dec.decode(render_code(URL, dot_matrix=dots, seed=11))
    assert code.text == URL
    assert dec.primary.last_pass == ("close5" if dots else "plain")


def test_enhanced_reads_are_capped_at_c_on_a_solid_line() -> None:
    dec = ZxingDecoder(pass_budget_ms=math.inf)
    [code] = dec.decode(render_code(URL, dot_matrix=True, seed=12))
    assert dec.last_pass != "plain"
    assert code.grade in "CDF"


def test_configuration_errors_are_clear() -> None:
    from drivers.camera.base import CameraError

    with pytest.raises(CameraError, match="unknown format"):
        ZxingDecoder(formats=("QRCode", "NoSuchCode"))
    with pytest.raises(CameraError, match="first_pass"):
        ZxingDecoder(first_pass="sharpen")


@pytest.mark.parametrize("symbology", ["QRCode", "DataMatrix"])
@pytest.mark.parametrize(("module_px", "dot_fill"), [(4, 0.55), (8, 0.55), (12, 0.65)])
def test_dot_sizes_and_gaps_in_a_large_frame(
    decoder, symbology: str, module_px: int, dot_fill: float
) -> None:
    text = URL if symbology == "QRCode" else SERIAL
    frame = render_code(
        text,
        symbology=symbology,
        dot_matrix=True,
        module_px=module_px,
        dot_fill=dot_fill,
        rotation_deg=10,
        blur=0.7,
        noise=0.02,
        uneven_light=True,
        size=(1024, 1280),
        seed=13,
    )
    assert [c.text for c in decoder.decode(frame)] == [text]
