"""Module matrices and code texts for the independent dot-matrix frames.

QR comes from segno, rectangular and plain square Data Matrix from ppf-datamatrix; GS1 symbols
(FNC1 first), which neither writes, from zxing-cpp's writer. None of it goes through
drivers/camera/sim.py. Texts are drawn from the kinds a packing line prints: trace-platform URLs,
20-digit trace codes, GS1 element strings with serials, short alphanumeric serials.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy

_ALNUM = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"
_HOSTS = ("https://t.example.cn/", "https://m.trace.example.com/q/", "http://c.example.net/")


@dataclass(frozen=True)
class Symbol:
    """One code to print: its text, symbology and dark-module matrix (no quiet zone)."""

    text: str
    symbology: str  # "QRCode" or "DataMatrix"
    kind: str  # "qr", "dm", "dm_rect", "gs1_dm", "gs1_qr"
    dark: numpy.ndarray


def _gtin(rng: numpy.random.Generator) -> str:
    body = "0690" + "".join(str(d) for d in rng.integers(0, 10, 9))
    total = sum(int(c) * (3 if i % 2 == 0 else 1) for i, c in enumerate(reversed(body)))
    return body + str((10 - total % 10) % 10)


def _serial(rng: numpy.random.Generator, n: int) -> str:
    return "".join(_ALNUM[i] for i in rng.integers(0, len(_ALNUM), n))


def text_for(kind: str, rng: numpy.random.Generator) -> str:
    """A random code text of the sort a line prints in a symbol of ``kind``."""
    if kind.startswith("gs1"):
        return f"(01){_gtin(rng)}(21){_serial(rng, int(rng.integers(6, 11)))}"
    if kind == "qr":
        choice = int(rng.integers(0, 3))
        if choice == 0:
            return _HOSTS[int(rng.integers(0, 3))] + _serial(rng, int(rng.integers(10, 17)))
        if choice == 1:
            return "".join(str(d) for d in rng.integers(0, 10, 20))
        return _serial(rng, int(rng.integers(12, 19)))
    if kind == "dm_rect":
        return "".join(str(d) for d in rng.integers(0, 10, int(rng.integers(10, 21))))
    if int(rng.integers(0, 2)):
        return "".join(str(d) for d in rng.integers(0, 10, 20))
    return _serial(rng, int(rng.integers(10, 17)))


def _zxing_gs1(text: str, symbology: str) -> numpy.ndarray:
    import zxingcpp

    fmt = zxingcpp.barcode_format_from_str(symbology)
    # EC level M for QR as lines print it (and as segno makes the plain QR); zxing-cpp's writer
    # would pick L for GS1, which no line uses on a cap.
    extra = {"ec_level": "M"} if symbology == "QRCode" else {}
    barcode = zxingcpp.create_barcode(text, fmt, gs1=True, **extra)
    return numpy.asarray(barcode.to_image(scale=1, add_quiet_zones=False)) < 128


def make_symbol(kind: str, text: str) -> Symbol:
    """The symbol of ``kind`` holding ``text`` (GS1 kinds: text in ``(AI)value`` form)."""
    if kind == "qr":
        import segno

        qr = segno.make_qr(text, error="m", boost_error=False)
        return Symbol(text, "QRCode", kind, numpy.array(qr.matrix, dtype=bool))
    if kind in ("dm", "dm_rect"):
        from ppf.datamatrix import DataMatrix

        dark = numpy.array(DataMatrix(text, rect=kind == "dm_rect").matrix, dtype=bool)
        return Symbol(text, "DataMatrix", kind, dark)
    if kind == "gs1_dm":
        return Symbol(text, "DataMatrix", kind, _zxing_gs1(text, "DataMatrix"))
    if kind == "gs1_qr":
        return Symbol(text, "QRCode", kind, _zxing_gs1(text, "QRCode"))
    raise ValueError(f"make_symbol: unknown kind {kind!r}; use qr, dm, dm_rect, gs1_dm or gs1_qr")


KINDS = ("qr", "dm", "dm_rect", "gs1_dm", "gs1_qr")


def random_symbol(rng: numpy.random.Generator, kind: str | None = None) -> Symbol:
    """A symbol of ``kind`` (random kind if None) with a random text."""
    kind = kind or KINDS[int(rng.integers(0, len(KINDS)))]
    return make_symbol(kind, text_for(kind, rng))
