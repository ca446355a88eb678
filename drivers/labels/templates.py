"""ZPL labels per packaging level (built with the `zpl` package) and site template filling.

Every 1D barcode is preceded by its own ^BY: real printers carry a QR's magnification into the
next bar width, so a Code 128 after a QR would otherwise print at the QR's module size.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from zpl import Label

from drivers.labels.zplcodec import (
    DM_ESCAPE,
    HEX_INDICATOR,
    check_sscc,
    datamatrix_data,
    gs1_element_string,
    hex_escape,
    needs_hex,
)

SYMBOLOGIES = ("qr", "datamatrix", "gs1-datamatrix")
UTF8 = 28


class TemplateFieldMissing(KeyError):
    """A template names fields that were not given; `missing` lists them."""

    def __init__(self, missing: list[str], given: list[str]) -> None:
        self.missing = missing
        super().__init__(
            f"template field(s) without a value: {', '.join(missing)} "
            f"(given: {', '.join(given) or 'nothing'})"
        )

    def __str__(self) -> str:
        return str(self.args[0])


def _text(label: Label, x_mm: float, y_mm: float, text: str, size_mm: float) -> None:
    label.origin(x_mm, y_mm)
    label.zpl_raw(f"^FH{HEX_INDICATOR}")
    label.write_text(hex_escape(text), char_height=size_mm, char_width=size_mm * 0.8)
    label.endorigin()


def case_label(
    code: str,
    *,
    product: str,
    lot: str,
    count: int,
    symbology: str = "qr",
    human_text: str | None = None,
    dpmm: int = 8,
) -> str:
    """A 100×70 mm case label: case code as QR or (GS1) DataMatrix, text, product, lot, count."""
    if symbology not in SYMBOLOGIES:
        raise ValueError(f"symbology must be one of {SYMBOLOGIES}, got {symbology!r}")
    if not code or not all(" " <= ch <= "~" or ch == "\x1d" for ch in code):
        # Printers put no ECI in front of UTF-8, so scanners would guess the charset: codes stay
        # ASCII (GS1 and Digital Link are; percent-encode anything else).
        raise ValueError(f"case code must be non-empty printable ASCII, got {code!r}")
    label = Label(70, 100, dpmm)
    label.change_international_font(UTF8)
    label.origin(4, 4)
    label.zpl_raw(f"^FH{HEX_INDICATOR}")
    if symbology == "qr":
        label.barcode("Q", hex_escape(code), magnification=max(1, round(0.75 * dpmm)))
    else:
        gs1 = symbology == "gs1-datamatrix"
        data = gs1_element_string(code) if gs1 else code
        module = max(1, round(0.75 * dpmm))
        # The escape char is given explicitly: its default differs between firmware versions.
        label.zpl_raw(f"^BXN,{module},200,,,,{DM_ESCAPE}^FD{datamatrix_data(data, gs1=gs1)}")
    label.endorigin()
    human = human_text if human_text is not None else code
    # Shrink long codes (Digital Link URLs) so the line fits the 92 mm printable width.
    _text(label, 4, 52, human, min(3.0, 115 / max(1, len(human))))
    _text(label, 50, 6, product, 4)
    _text(label, 50, 16, f"LOT {lot}", 4)
    _text(label, 50, 26, f"QTY {count}", 4)
    zpl: str = label.dumpZPL()  # the zpl package ships no type hints
    return zpl


def pallet_label(
    sscc: str,
    *,
    product: str,
    lot: str,
    cases: int,
    qr_text: str | None = None,
    dpmm: int = 8,
) -> str:
    """A 100×150 mm pallet label: product, lot, cases, a QR, and the SSCC as GS1-128 (AI 00)."""
    digits = check_sscc(sscc)
    label = Label(150, 100, dpmm)
    label.change_international_font(UTF8)
    _text(label, 6, 6, product, 5)
    _text(label, 6, 16, f"LOT {lot}", 5)
    _text(label, 6, 26, f"CASES {cases}", 5)
    label.origin(6, 38)
    label.zpl_raw(f"^FH{HEX_INDICATOR}")
    label.barcode(
        "Q", hex_escape(qr_text or f"00{digits}"), magnification=max(1, round(0.6 * dpmm))
    )
    label.endorigin()
    # GS1 logistic labels want X >= 0.495 mm and bars >= 32 mm high.
    module = max(2, round(0.5 * dpmm))
    label.zpl_raw(f"^BY{module},3,{round(32 * dpmm)}")
    label.origin(6, 100)
    # Mode N with explicit invocation codes: >; starts subset C, >8 is FNC1 (GS1-128).
    label.barcode("C", f">;>800{digits}", height=round(32 * dpmm), print_interpretation_line="N")
    label.endorigin()
    _text(label, 6, 136, f"(00) {digits}", 5)
    zpl: str = label.dumpZPL()  # the zpl package ships no type hints
    return zpl


def pallet_number_label(number: str, *, product: str, lot: str, cases: int, dpmm: int = 8) -> str:
    """A 100×150 mm pallet label for a plant's own pallet number (not an SSCC): product, lot,
    cases, the number as QR and as Code 128 (printable ASCII), and in plain text."""
    if not number or not all(" " < ch <= "~" for ch in number):
        raise ValueError(f"pallet number must be non-empty printable ASCII, got {number!r}")
    label = Label(150, 100, dpmm)
    label.change_international_font(UTF8)
    _text(label, 6, 6, product, 5)
    _text(label, 6, 16, f"LOT {lot}", 5)
    _text(label, 6, 26, f"CASES {cases}", 5)
    label.origin(6, 38)
    label.zpl_raw(f"^FH{HEX_INDICATOR}")
    label.barcode("Q", hex_escape(number), magnification=max(1, round(0.6 * dpmm)))
    label.endorigin()
    label.zpl_raw(f"^BY{max(2, round(0.5 * dpmm))},3,{round(25 * dpmm)}")
    label.origin(6, 100)
    label.zpl_raw(f"^FH{HEX_INDICATOR}")
    label.barcode("C", hex_escape(number), height=round(25 * dpmm), print_interpretation_line="N")
    label.endorigin()
    _text(label, 6, 130, number, 5)
    zpl: str = label.dumpZPL()
    return zpl


def any_pallet_label(code: str, *, product: str, lot: str, cases: int, dpmm: int = 8) -> str:
    """The pallet label for `code`: GS1 (AI 00) for an 18-digit SSCC, else the plain number."""
    if len(code) == 18 and code.isdigit():
        return pallet_label(code, product=product, lot=lot, cases=cases, dpmm=dpmm)
    return pallet_number_label(code, product=product, lot=lot, cases=cases, dpmm=dpmm)


_PLACEHOLDER = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)\}")
_FN = re.compile(r'\^FN(\d+)(?:"([^"]*)")?(\^FD.*?(?=\^FS|$))?', re.S)
_FH = re.compile(r"\^FH([^\^~]?)")


def template_fields(template: str) -> list[str]:
    """Names a template asks for: {name} placeholders and ^FN fields (prompt name, else number)."""
    names: list[str] = []
    for match in _PLACEHOLDER.finditer(template):
        names.append(match.group(1))
    for match in _FN.finditer(template):
        names.append(match.group(2) or match.group(1))
    return list(dict.fromkeys(names))


def _fill_field(chunk: str, fields: Mapping[str, str]) -> str:
    """Fill one ^FO…^FS field, adding ^FH\\ before ^FD when a value needs escaping."""
    fh = _FH.search(chunk)
    if _FN.search(chunk):
        prefix = "^FD" if fh else f"^FH{HEX_INDICATOR}^FD"
        indicator = (fh.group(1) or "_") if fh else HEX_INDICATOR
        chunk = _FN.sub(
            lambda m: prefix + hex_escape(str(fields[m.group(2) or m.group(1)]), indicator), chunk
        )
        fh = _FH.search(chunk)
    values = [str(fields[m.group(1)]) for m in _PLACEHOLDER.finditer(chunk)]
    if fh is None and any(needs_hex(v) for v in values) and "^FD" in chunk:
        # Escaping the template's own literal backslashes keeps it printing the same under ^FH\.
        head, _, data = chunk.partition("^FD")
        chunk = f"{head}^FH{HEX_INDICATOR}^FD{data.replace(HEX_INDICATOR, HEX_INDICATOR + '5C')}"
        fh = _FH.search(chunk)
    indicator = (fh.group(1) or "_") if fh else None

    def value_for(name: str) -> str:
        value = str(fields[name])
        if indicator is None:
            if needs_hex(value):
                raise ValueError(f"value of {name!r} needs escaping but sits outside field data")
            return value
        return hex_escape(value, indicator)

    return _PLACEHOLDER.sub(lambda m: value_for(m.group(1)), chunk)


def fill_template(template: str, fields: Mapping[str, str]) -> str:
    """Fill a designer-exported ZPL template; raises TemplateFieldMissing naming absent fields."""
    missing = [name for name in template_fields(template) if name not in fields]
    if missing:
        raise TemplateFieldMissing(missing, sorted(fields))
    parts = re.split(r"(\^FS)", template)
    return "".join(
        _fill_field(part, fields) if (_PLACEHOLDER.search(part) or _FN.search(part)) else part
        for part in parts
    )
