"""GS1 check digits against the GS1 General Specifications' worked examples."""

from __future__ import annotations

import pytest

from station.codes import gs1


@pytest.mark.parametrize(
    ("body", "digit"),
    [
        ("629104150021", 3),  # GS1 GenSpecs §7.9.1 example: GTIN-13 6291041500213
        ("0950600013435", 2),  # GTIN 09506000134352 of the GS1 Digital Link standard examples
        ("37610425002123456", 9),  # SSCC example of the GS1 GenSpecs §2.2.1 (3 7610425 002123456 9)
    ],
)
def test_check_digit_examples(body: str, digit: int) -> None:
    assert gs1.check_digit(body) == digit
    assert gs1.valid_check_digit(body + str(digit))
    assert not gs1.valid_check_digit(body + str((digit + 1) % 10))


def test_sscc_layout() -> None:
    s = gs1.sscc(3, "7610425", 2123456)
    assert s == "376104250021234569"
    assert len(s) == 18 and gs1.valid_check_digit(s)
    with pytest.raises(ValueError, match="does not fit"):
        gs1.sscc(0, "7610425", 10**9)


def test_digital_link_and_element_string() -> None:
    url = gs1.digital_link("https://id.example.com/", "9506000134352", "AB/1")
    assert url == "https://id.example.com/01/09506000134352/21/AB%2F1"
    assert gs1.element_string("9506000134352", "X1") == "(01)09506000134352(21)X1"
