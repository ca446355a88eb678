"""decode_file: the JSON object behind ``station decode``; third-party images and no-code photos."""

from __future__ import annotations

import json
from pathlib import Path

import cv2
import pytest

from drivers.camera.decode import make_decoder
from drivers.camera.decode_files import UnreadableImage, decode_file, error_object
from drivers.camera.sim import render_code, render_layer
from drivers.errors import DriverError

PHOTOS = Path(__file__).parent / "photos"
NO_CODE = sorted(PHOTOS.glob("nocode_*"))


def test_output_shape_is_exact(tmp_path: Path) -> None:
    path = tmp_path / "frame.png"
    cv2.imwrite(str(path), render_code("https://t.example.cn/abc", dot_matrix=True, seed=1))
    out = decode_file(str(path))
    assert list(out) == ["image", "codes"]
    assert out["image"] == str(path)
    [code] = out["codes"]
    assert list(code) == ["text", "symbology", "corners", "grade"]
    assert code["text"] == "https://t.example.cn/abc"
    assert code["symbology"] == "QRCode"
    assert len(code["corners"]) == 4 and all(len(p) == 2 for p in code["corners"])
    assert code["grade"] in list("ABCDF")
    assert json.loads(json.dumps(out)) == out


def test_layer_frame_returns_every_code(tmp_path: Path) -> None:
    texts = [f"(01)06901234567892(21)S{i:05d}" for i in range(12)]
    path = tmp_path / "layer.png"
    cv2.imwrite(str(path), render_layer(texts, rows=3, cols=4, symbology="DataMatrix", seed=2))
    out = decode_file(str(path))
    assert sorted(c["text"] for c in out["codes"]) == sorted(texts)


def test_missing_file_is_a_clear_error(tmp_path: Path) -> None:
    path = str(tmp_path / "nope.png")
    with pytest.raises(UnreadableImage, match="no such file") as info:
        decode_file(path)
    assert isinstance(info.value, DriverError)
    assert error_object(path, info.value) == {"image": path, "error": str(info.value)}
    assert path in str(info.value)


@pytest.mark.parametrize("content", [b"", b"GIF89a garbage", b"\x89PNG\r\n\x1a\n\x00\x00"])
def test_non_image_file_is_a_clear_error(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "fake.png"
    path.write_bytes(content)
    with pytest.raises(UnreadableImage, match="not an image"):
        decode_file(str(path))


def test_third_party_data_matrix_image() -> None:
    # Two Data Matrix symbols from pylibdmtx's test suite: made by others, not a photo.
    out = decode_file(str(PHOTOS / "thirdparty_pylibdmtx_datamatrix.png"))
    assert sorted(c["text"] for c in out["codes"]) == ["Plesiosaurus", "Stegosaurus"]
    assert {c["symbology"] for c in out["codes"]} == {"DataMatrix"}


def test_third_party_data_matrix_from_pyzxing() -> None:
    out = decode_file(str(PHOTOS / "thirdparty_pyzxing_datamatrix.png"))
    assert [(c["text"], c["symbology"]) for c in out["codes"]] == [
        ("PYZXING-DATAMATRIX-1.2.0", "DataMatrix")
    ]


def test_real_photo_of_book_barcodes() -> None:
    # OpenCV's barcode tutorial photo: four ISBN EAN-13 on book covers, one upside down, and a
    # QR code cut off by the frame edge that must not produce a read.
    photo = str(PHOTOS / "real_opencv_4_barcodes.jpg")
    formats = ("QRCode", "DataMatrix", "EAN13", "Code128")
    out = decode_file(photo, make_decoder(formats=formats), expected=4)
    assert sorted(c["text"] for c in out["codes"]) == [
        "9783319200064",
        "9787118081473",
        "9787122276124",
        "9787564350840",
    ]
    assert decode_file(photo)["codes"] == []  # default formats: QR and Data Matrix only


def test_real_photo_of_labels() -> None:
    photo = str(PHOTOS / "real_pyzxing_multibarcodes.jpg")
    out = decode_file(photo, make_decoder(formats=("Code39",)))
    assert len(out["codes"]) == 7
    assert all(c["text"].startswith("2015413") and len(c["text"]) == 12 for c in out["codes"])


@pytest.mark.parametrize("photo", NO_CODE, ids=[p.name for p in NO_CODE])
def test_no_code_photos_give_nothing(photo: Path) -> None:
    assert decode_file(str(photo))["codes"] == []


def test_there_are_no_code_photos() -> None:
    assert len(NO_CODE) >= 4


def test_station_decode_reports_a_bad_file_and_goes_on(tmp_path: Path, capsys) -> None:
    from station.cli import main

    good = tmp_path / "good.png"
    cv2.imwrite(str(good), render_code("LS-DECODE-1", seed=3))
    notes = tmp_path / "notes.md"
    notes.write_text("# not a picture\n")
    missing = tmp_path / "gone.png"
    rc = main(["decode", str(notes), str(missing), str(good)])
    out, err = capsys.readouterr()
    objs = [json.loads(line) for line in out.splitlines()]
    assert rc == 1  # something failed, and the caller can tell
    assert [o["image"] for o in objs] == [str(notes), str(missing), str(good)]
    assert "not an image" in objs[0]["error"] and "PNG" in objs[0]["error"]
    assert "no such file" in objs[1]["error"]
    assert [c["text"] for c in objs[2]["codes"]] == ["LS-DECODE-1"]
    assert f"error: decode at {notes}" in err and "Traceback" not in err
    assert main(["decode", str(good)]) == 0
