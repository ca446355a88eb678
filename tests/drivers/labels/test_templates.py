"""ZPL built per level, the ^BY rule for 1D barcodes, and filling designer templates."""

from __future__ import annotations

import re

import pytest

from drivers.labels.templates import (
    TemplateFieldMissing,
    case_label,
    fill_template,
    pallet_label,
    template_fields,
)

SSCC = "106141411234567897"
_ONE_D = re.compile(r"\^B[C3AUE2]")  # Code 128, 39, 93, UPC-A, EAN-13, I2of5
_ANY_BARCODE_OR_BY = re.compile(r"\^B[A-Z0-9]")


def assert_by_before_each_1d(zpl: str) -> None:
    """Between any earlier barcode and a 1D barcode there must be a fresh ^BY."""
    last = "start"
    for match in _ANY_BARCODE_OR_BY.finditer(zpl):
        token = match.group(0)
        if token == "^BY":
            last = "BY"
        elif _ONE_D.fullmatch(token):
            assert last == "BY", f"{token} at {match.start()} without its own ^BY"
            last = token
        else:
            last = token


def test_case_label_qr_carries_every_field() -> None:
    zpl = case_label(
        "https://id.example.com/01/09506000134352/21/X1", product="Tea", lot="L7", count=24
    )
    assert zpl.startswith("^XA") and zpl.endswith("^XZ")
    assert "^BQN,2," in zpl and "^FDQA,https://id.example.com/01/09506000134352/21/X1^FS" in zpl
    for text in ("^FDTea^FS", "^FDLOT L7^FS", "^FDQTY 24^FS"):
        assert text in zpl
    assert zpl.count("^FDhttps://id.example.com") == 1  # the human-readable line
    assert "^CI28" in zpl


@pytest.mark.parametrize("code", ["", "茶-1", "a\nb"])
def test_case_code_must_be_printable_ascii(code: str) -> None:
    with pytest.raises(ValueError, match="printable ASCII"):
        case_label(code, product="P", lot="L", count=1)


def test_case_label_escapes_caret_tilde_and_utf8() -> None:
    zpl = case_label("A^B~C\\D", product="茶", lot="L", count=1, human_text="code")
    assert "^FDQA,A\\5EB\\7EC\\5CD^FS" in zpl
    assert "^FD\\E8\\8C\\B6^FS" in zpl
    data = [m for m in re.findall(r"\^FD([^^]*)", zpl)]
    assert all("~" not in d for d in data)


def test_gs1_datamatrix_has_leading_fnc1_and_separators() -> None:
    zpl = case_label(
        "(01)09506000134352(21)A_1(10)L9",
        product="P",
        lot="L9",
        count=6,
        symbology="gs1-datamatrix",
    )
    # FNC1 first, GS after the variable-length serial, the escape char doubled in data.
    assert "^BXN,6,200,,,,_^FD_1010950600013435221A__1_110L9^FS" in zpl


def test_case_label_rejects_unknown_symbology_and_bad_gs1() -> None:
    with pytest.raises(ValueError, match="symbology"):
        case_label("X", product="P", lot="L", count=1, symbology="code39")
    with pytest.raises(ValueError, match="GS1"):
        case_label("not gs1", product="P", lot="L", count=1, symbology="gs1-datamatrix")


def test_pallet_label_sscc_as_gs1_128_with_by_before_it() -> None:
    zpl = pallet_label(SSCC, product="Tea", lot="L7", cases=40, qr_text="https://x/p/1")
    assert f"^FD>;>800{SSCC}^FS" in zpl
    assert "^BQN,2," in zpl and "^FDQA,https://x/p/1^FS" in zpl
    for text in ("^FDTea^FS", "^FDLOT L7^FS", "^FDCASES 40^FS", f"^FD(00) {SSCC}^FS"):
        assert text in zpl
    assert zpl.index("^BQ") < zpl.index("^BY") < zpl.index("^BC")
    assert_by_before_each_1d(zpl)


def test_by_rule_checker_catches_a_missing_by() -> None:
    zpl = pallet_label(SSCC, product="P", lot="L", cases=1).replace("^BY4,3,256", "")
    with pytest.raises(AssertionError, match="without its own"):
        assert_by_before_each_1d(zpl)


@pytest.mark.parametrize("bad", ["10614141123456789", "106141411234567890", "10614141123456789X"])
def test_pallet_label_rejects_bad_sscc(bad: str) -> None:
    with pytest.raises(ValueError, match="SSCC"):
        pallet_label(bad, product="P", lot="L", cases=1)


def test_pallet_label_accepts_ai_prefix() -> None:
    assert f">;>800{SSCC}" in pallet_label(f"(00){SSCC}", product="P", lot="L", cases=1)


DESIGNER = (
    "^XA^PW800^LL560\n"
    "^FO20,20^A0N,30,30^FD{product}^FS\n"
    '^FO20,60^A0N,30,30^FN1"lot"^FDdefault lot^FS\n'
    "^FO20,100^A0N,30,30^FN2^FS\n"
    "^FO400,20^BQN,2,5^FH\\^FDQA,{case_code}^FS\n"
    "^BY3^FO20,200^BCN,100,Y,N,N^FD{gtin}^FS\n"
    "^XZ"
)


def test_template_fields_lists_placeholders_and_fn_fields() -> None:
    assert sorted(template_fields(DESIGNER)) == sorted(["product", "case_code", "gtin", "lot", "2"])


def test_fill_template_fills_placeholders_and_fn_fields() -> None:
    zpl = fill_template(
        DESIGNER,
        {"product": "Tea", "lot": "L9", "2": "24", "case_code": "C~1", "gtin": "09506000134352"},
    )
    assert "^FDTea^FS" in zpl
    assert "^FH\\^FDL9^FS" in zpl and "default lot" not in zpl and "^FN" not in zpl
    assert "^FH\\^FD24^FS" in zpl
    assert "^FH\\^FDQA,C\\7E1^FS" in zpl
    assert "^FD09506000134352^FS" in zpl
    assert "{" not in zpl


def test_fill_template_adds_fh_when_a_value_needs_escaping() -> None:
    zpl = fill_template("^XA^FO1,1^A0N,20,20^FDa\\b {x}^FS^XZ", {"x": "50%^off"})
    assert zpl == "^XA^FO1,1^A0N,20,20^FH\\^FDa\\5Cb 50%\\5Eoff^FS^XZ"


def test_fill_template_names_every_missing_field() -> None:
    with pytest.raises(TemplateFieldMissing) as caught:
        fill_template(DESIGNER, {"product": "Tea", "gtin": "1"})
    assert caught.value.missing == ["case_code", "lot", "2"]
    assert "case_code" in str(caught.value) and "given: gtin, product" in str(caught.value)
