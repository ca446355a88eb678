"""GS1 check digits, GTIN-14, SSCC and Digital Link URLs (GS1 General Specifications §7.9)."""

from __future__ import annotations


def check_digit(body: str) -> int:
    """Mod-10 check digit for a GS1 key without its check digit (weights 3,1 from the right)."""
    total = 0
    for i, ch in enumerate(reversed(body)):
        total += (ord(ch) - 48) * (3 if i % 2 == 0 else 1)
    return (10 - total % 10) % 10


def valid_check_digit(key: str) -> bool:
    """True when the last digit of a numeric GS1 key is its correct check digit."""
    return key.isdigit() and len(key) >= 2 and check_digit(key[:-1]) == ord(key[-1]) - 48


def gtin14(gtin: str) -> str:
    """A GTIN-8/12/13/14 padded to 14 digits."""
    return gtin.zfill(14)


def sscc(extension: int, company_prefix: str, serial_ref: int) -> str:
    """An 18-digit SSCC: extension digit + company prefix + serial reference + check digit."""
    ref_len = 16 - len(company_prefix)
    if serial_ref < 0 or serial_ref >= 10**ref_len:
        raise ValueError(
            f"SSCC serial reference {serial_ref} does not fit {ref_len} digits for company prefix "
            f"{company_prefix}"
        )
    body = f"{extension}{company_prefix}{serial_ref:0{ref_len}d}"
    return body + str(check_digit(body))


def digital_link(resolver: str, gtin: str, serial: str) -> str:
    """A GS1 Digital Link URL for an SGTIN: <resolver>/01/<GTIN-14>/21/<serial>."""
    from urllib.parse import quote

    return f"{resolver.rstrip('/')}/01/{gtin14(gtin)}/21/{quote(serial, safe='')}"


def element_string(gtin: str, serial: str) -> str:
    """The GS1 element string (01)GTIN(21)serial in human-readable form."""
    return f"(01){gtin14(gtin)}(21){serial}"


# GS1 AI 21 serials: the 82-character set CSET 82 (GS1 General Specifications figure 7.11-1).
CSET82 = frozenset(
    "!\"%&'()*+,-./0123456789:;<=>?ABCDEFGHIJKLMNOPQRSTUVWXYZ_abcdefghijklmnopqrstuvwxyz"
)
