"""The simulator's renderer: what it draws decodes to exactly what was sent, quickly."""

from __future__ import annotations

import time

import numpy as np
import pytest
import zxingcpp
from hypothesis import given, settings
from hypothesis import strategies as st

from drivers.labels.templates import case_label, pallet_label
from drivers.labels.zplrender import render

SSCC = "106141411234567897"
F = zxingcpp.BarcodeFormat


def decoded(image: np.ndarray) -> dict[F, zxingcpp.Barcode]:
    return {b.format: b for b in zxingcpp.read_barcodes(image)}


def test_image_is_grayscale_white_label_of_the_declared_size() -> None:
    image = render(case_label("X1", product="P", lot="L", count=1))
    assert image.dtype == np.uint8 and image.shape == (560, 800)
    assert np.median(image) == 255 and image.min() == 0


@pytest.mark.parametrize(
    "code",
    ["https://id.example.com/01/09506000134352/21/AbC~1%20", "CASE-0001", "A^B\\C_D"],
)
def test_case_qr_decodes_to_the_code(code: str) -> None:
    found = decoded(render(case_label(code, product="P", lot="L", count=1)))
    assert found[F.QRCode].text == code


def test_plain_datamatrix_decodes_to_the_code() -> None:
    code = "CASE_42^x"
    found = decoded(render(case_label(code, product="P", lot="L", count=1, symbology="datamatrix")))
    assert found[F.DataMatrix].text == code
    assert found[F.DataMatrix].content_type != zxingcpp.ContentType.GS1


def test_gs1_datamatrix_decodes_as_gs1_to_the_code() -> None:
    code = "(01)09506000134352(21)A_1(10)L9"
    image = render(case_label(code, product="P", lot="L", count=1, symbology="gs1-datamatrix"))
    found = decoded(image)[F.DataMatrix]
    assert found.text == code
    assert found.content_type == zxingcpp.ContentType.GS1 and found.symbology_identifier == "]d2"


def test_pallet_sscc_decodes_as_gs1_128_and_qr_as_sent() -> None:
    found = decoded(render(pallet_label(SSCC, product="P", lot="L", cases=3, qr_text="PAL-7")))
    assert found[F.Code128].text == f"(00){SSCC}"
    assert found[F.Code128].symbology_identifier == "]C1"  # FNC1 in first position: GS1-128
    assert found[F.QRCode].text == "PAL-7"


def test_qr_magnification_carries_into_a_1d_barcode_without_by() -> None:
    body = "^XA^PW1600^LL900^FO50,50^BQN,2,9^FDQA,hi^FS{by}^FO50,400^BCN,100,N,N,N^FDABC123^FS^XZ"
    with_by = render(body.format(by="^BY2"))
    without_by = render(body.format(by=""))

    def bar_width(image: np.ndarray) -> int:
        columns = np.flatnonzero(image[450] == 0)
        return int(columns[-1] - columns[0])

    assert bar_width(without_by) == pytest.approx(bar_width(with_by) * 9 / 2, rel=0.05)


def test_fh_hex_and_ft_baseline_text_draw_something() -> None:
    image = render("^XA^PW400^LL200^FT10,100^A0N,40,40^FH\\^FDA\\5EB^FS^XZ")
    rows = np.flatnonzero((image == 0).any(axis=1))
    assert rows.size and rows.max() <= 100 + 5 and rows.min() >= 100 - 45


def test_render_is_fast_enough_for_the_line() -> None:
    labels = [
        case_label(
            f"https://id.example.com/01/09506000134352/21/{i:08d}",
            product="Tea",
            lot="L7",
            count=24,
        )
        for i in range(20)
    ] + [pallet_label(SSCC, product="Tea", lot="L7", cases=40) for _ in range(5)]
    render(labels[0])  # warm-up: first call pays for imports and caches
    start = time.perf_counter()
    for zpl in labels:
        render(zpl)
    per_label_ms = (time.perf_counter() - start) * 1000 / len(labels)
    assert per_label_ms < 20, f"{per_label_ms:.1f} ms per label"


@pytest.mark.parametrize(
    "zpl",
    [
        "^XA^FO10,10^BXN,5,200,,,,_^FD_1zz^FS^XZ",  # GS1 DataMatrix without a valid AI
        "^XA^FO10,10^BCN,50,N,N,N^FD>;>8zz^FS^XZ",  # GS1-128 without a valid AI
        "^XA^FO10,10^BQN,2,4^FDnocomma^FS^XZ",  # QR data without the "QA," prefix
    ],
)
def test_unencodable_barcode_prints_nothing_instead_of_crashing(zpl: str) -> None:
    assert render(zpl).min() == 255


@settings(max_examples=25, deadline=None)
@given(st.text(st.characters(min_codepoint=0x20, max_codepoint=0x7E), min_size=1, max_size=80))
def test_any_ascii_code_round_trips_through_qr_and_datamatrix(code: str) -> None:
    for symbology, fmt in (("qr", F.QRCode), ("datamatrix", F.DataMatrix)):
        zpl = case_label(code, product="P", lot="L", count=1, symbology=symbology)
        assert decoded(render(zpl))[fmt].text == code


def test_non_ascii_in_a_designer_qr_goes_as_utf8_bytes_without_eci() -> None:
    found = decoded(render("^XA^CI28^FO10,10^BQN,2,4^FH\\^FDQA,\\C2\\A1^FS^XZ"))
    assert found[F.QRCode].bytes == "¡".encode()
