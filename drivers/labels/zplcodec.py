"""Small ZPL encoding helpers shared by the templates: field escaping, GS1 and SSCC checks."""

from __future__ import annotations

from biip.gs1_messages import GS1Message

HEX_INDICATOR = "\\"
DM_ESCAPE = "_"
GS = "\x1d"
# Bytes the printer would take as commands (^ ~), our hex indicator, and anything not printable.
_NEEDS_HEX = frozenset("^~\\")


def hex_escape(value: str, indicator: str = HEX_INDICATOR) -> str:
    """Escape `value` for a field after ^FH<indicator>: commands, controls and UTF-8 as hex."""
    out: list[str] = []
    for ch in value:
        if ch in _NEEDS_HEX or ch == indicator or not (" " <= ch <= "~"):
            out.extend(f"{indicator}{byte:02X}" for byte in ch.encode("utf-8"))
        else:
            out.append(ch)
    return "".join(out)


def needs_hex(value: str) -> bool:
    """True if `value` cannot be placed in field data without ^FH."""
    return any(ch in _NEEDS_HEX or not (" " <= ch <= "~") for ch in value)


def datamatrix_data(value: str, *, gs1: bool) -> str:
    """Field data for ^BX…,200,…,_ under ^FH\\: escape doubled, GS as FNC1, FNC1 first for GS1."""
    body = hex_escape(value.replace(GS, "\0")).replace(DM_ESCAPE, DM_ESCAPE * 2)
    body = body.replace(f"{HEX_INDICATOR}00", f"{DM_ESCAPE}1")
    return f"{DM_ESCAPE}1{body}" if gs1 else body


def gs1_element_string(hri: str) -> str:
    """'(01)…(21)…' → element string, GS after variable-length fields; ValueError if not GS1."""
    try:
        return GS1Message.parse_hri(hri).value
    except Exception as exc:  # biip raises its own ParseError; callers want a ValueError
        raise ValueError(f"not a GS1 element string in (AI) form: {hri!r}: {exc}") from exc


def gs1_check_digit(digits: str) -> int:
    """GS1 mod-10 check digit for the digits before it."""
    total = sum(int(d) * (3 if i % 2 == 0 else 1) for i, d in enumerate(reversed(digits)))
    return (10 - total % 10) % 10


def check_sscc(sscc: str) -> str:
    """Return the 18-digit SSCC (an optional '(00)' or '00' prefix dropped) or raise ValueError."""
    digits = sscc.removeprefix("(00)").strip()
    if len(digits) == 20 and digits.startswith("00"):
        digits = digits[2:]
    if len(digits) != 18 or not digits.isdigit():
        raise ValueError(f"SSCC must be 18 digits, got {sscc!r}")
    if gs1_check_digit(digits[:17]) != int(digits[17]):
        raise ValueError(f"SSCC {digits} has a wrong check digit")
    return digits
