"""decode_file on real camera photos of QR and Data Matrix codes by others (see SOURCES.md)."""

from __future__ import annotations

from pathlib import Path

import pytest

from drivers.camera.decode_files import decode_file

PHOTOS = Path(__file__).parent / "photos"

LONG_DM = (
    "This is a test of our DataMatrix support using a longer piece of text, "
    "and therefore a more dense barcode."
)

# (file, symbology, exact text). The ZXing photos are phone pictures of printed codes; the
# vuereader ones are phone screenshots whose middle is the live camera frame of a printed QR.
CASES = [
    (
        # Hand-held business card, navy print, skin and dark background around it. The code
        # holds CR LF line breaks; ZXing's .txt beside the photo has them normalised to LF.
        "real_zxing_qr_business_card.png",
        "QRCode",
        "Sean Owen\r\nsrowen@google.com\r\n917-364-2918\r\nhttp://awesome-thoughts.com",
    ),
    ("real_zxing_qr_newspaper_ad.png", "QRCode", "http://google.com/gwt/n?u=bluenile.com"),
    (
        "real_zxing_qr_tilted_card.png",
        "QRCode",
        "MECARD:N:Sean Owen;TEL:+12125658770;EMAIL:srowen@google.com;;",
    ),
    ("real_vuereader_qr_phone_frame.png", "QRCode", "https://github.com/gruhn/vue-qrcode-reader"),
    # The demo app paints a smiley over the middle of the code: level-H error correction copes.
    ("real_vuereader_qr_occluded.png", "QRCode", "http://goqr.me/"),
    ("real_zxing_datamatrix_url.png", "DataMatrix", "http://google.com/m"),
    ("real_zxing_datamatrix_dense.png", "DataMatrix", LONG_DM),
    ("real_zxing_datamatrix_dense_small.png", "DataMatrix", LONG_DM),
]


@pytest.mark.parametrize(("name", "symbology", "text"), CASES, ids=[c[0] for c in CASES])
def test_real_photo_reads_exactly_one_code(name: str, symbology: str, text: str) -> None:
    out = decode_file(str(PHOTOS / name))
    assert [(c["text"], c["symbology"]) for c in out["codes"]] == [(text, symbology)]
    [code] = out["codes"]
    assert code["grade"] in list("ABCD")  # a real photo that reads is never an F
    xs = [p[0] for p in code["corners"]]
    ys = [p[1] for p in code["corners"]]
    assert max(xs) - min(xs) > 40 and max(ys) - min(ys) > 40  # corners span the symbol


def test_every_real_code_photo_is_tested() -> None:
    on_disk = {p.name for p in PHOTOS.glob("real_*") if "datamatrix" in p.name or "_qr_" in p.name}
    assert on_disk == {c[0] for c in CASES}
