"""Where the codewords of a QR Code (versions 1–10) and a Data Matrix ECC 200 symbol sit.

``qr_layout`` / ``dm_layout`` give, for a symbol size, each codeword's eight modules (most
significant bit first) and the error-correction blocks (which codewords, how many check words),
so soft.py can correct codewords with their doubt known and write them back. QR after ISO/IEC
18004 (zigzag order from the lower right, column 6 skipped, blocks interleaved; format and
version information), Data Matrix after ISO/IEC 16022 annex F (the "utah" placement over the
data regions joined, one interleaved block up to 144×144... here up to 44×44: one block).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy

from drivers.camera.dotmatrix.patterns import _DM_REGIONS, _QR_ALIGN, _under_finder

# ISO/IEC 18004 table 9: version → level → (check words per block, [(blocks, data words)]).
_QR_BLOCKS: dict[int, dict[str, tuple[int, list[tuple[int, int]]]]] = {
    1: {"L": (7, [(1, 19)]), "M": (10, [(1, 16)]), "Q": (13, [(1, 13)]), "H": (17, [(1, 9)])},
    2: {"L": (10, [(1, 34)]), "M": (16, [(1, 28)]), "Q": (22, [(1, 22)]), "H": (28, [(1, 16)])},
    3: {"L": (15, [(1, 55)]), "M": (26, [(1, 44)]), "Q": (18, [(2, 17)]), "H": (22, [(2, 13)])},
    4: {"L": (20, [(1, 80)]), "M": (18, [(2, 32)]), "Q": (26, [(2, 24)]), "H": (16, [(4, 9)])},
    5: {
        "L": (26, [(1, 108)]),
        "M": (24, [(2, 43)]),
        "Q": (18, [(2, 15), (2, 16)]),
        "H": (22, [(2, 11), (2, 12)]),
    },
    6: {"L": (18, [(2, 68)]), "M": (16, [(4, 27)]), "Q": (24, [(4, 19)]), "H": (28, [(4, 15)])},
    7: {
        "L": (20, [(2, 78)]),
        "M": (18, [(4, 31)]),
        "Q": (18, [(2, 14), (4, 15)]),
        "H": (26, [(4, 13), (1, 14)]),
    },
    8: {
        "L": (24, [(2, 97)]),
        "M": (22, [(2, 38), (2, 39)]),
        "Q": (22, [(4, 18), (2, 19)]),
        "H": (26, [(4, 14), (2, 15)]),
    },
    9: {
        "L": (30, [(2, 116)]),
        "M": (22, [(3, 36), (2, 37)]),
        "Q": (20, [(4, 16), (4, 17)]),
        "H": (24, [(4, 12), (4, 13)]),
    },
    10: {
        "L": (18, [(2, 68), (2, 69)]),
        "M": (26, [(4, 43), (1, 44)]),
        "Q": (24, [(6, 19), (2, 20)]),
        "H": (28, [(6, 15), (2, 16)]),
    },
}
# ISO/IEC 16022 table 7: symbol size → (data words, check words); one block up to 44×44.
_DM_WORDS = {
    (10, 10): (3, 5),
    (12, 12): (5, 7),
    (14, 14): (8, 10),
    (16, 16): (12, 12),
    (18, 18): (18, 14),
    (20, 20): (22, 18),
    (22, 22): (30, 20),
    (24, 24): (36, 24),
    (26, 26): (44, 28),
    (32, 32): (62, 36),
    (36, 36): (86, 42),
    (40, 40): (114, 48),
    (44, 44): (144, 56),
    (8, 18): (5, 7),
    (8, 32): (10, 11),
    (12, 26): (16, 14),
    (12, 36): (22, 18),
    (16, 36): (32, 24),
    (16, 48): (49, 28),
}
QR_LEVELS = {"L": 1, "M": 0, "Q": 3, "H": 2}  # the two level bits of the format information


@dataclass(frozen=True)
class Layout:
    """Codeword modules ``(words, 8, 2)`` as (row, col), MSB first, and the blocks: for each,
    the codeword indices in block order and its number of check words."""

    modules: numpy.ndarray
    blocks: tuple[tuple[tuple[int, ...], int], ...]


def _bch(value: int, poly: int, bits: int) -> int:
    """``value`` followed by its BCH remainder of ``poly`` (degree ``bits``)."""
    rem = value << bits
    top = poly.bit_length() - 1
    for shift in range(rem.bit_length() - 1, top - 1, -1):
        if rem >> shift & 1:
            rem ^= poly << (shift - top)
    return (value << bits) | rem


def qr_format_bits(level: str, mask: int) -> int:
    """The 15 format bits (masked) of ``level`` and ``mask``."""
    return _bch(QR_LEVELS[level] << 3 | mask, 0x537, 10) ^ 0x5412


def qr_version_bits(version: int) -> int:
    """The 18 version bits (versions 7 on)."""
    return _bch(version, 0x1F25, 12)


@lru_cache(maxsize=16)
def qr_format_places(n: int) -> tuple[tuple[tuple[int, int], ...], tuple[tuple[int, int], ...]]:
    """(row, col) of format bit i (0 = least significant) in its two copies."""
    first = [(i, 8) for i in range(6)] + [(7, 8), (8, 8), (8, 7)]
    first += [(8, 14 - i) for i in range(9, 15)]
    second = [(8, n - 1 - i) for i in range(8)] + [(n - 15 + i, 8) for i in range(8, 15)]
    return tuple(first), tuple(second)


@lru_cache(maxsize=16)
def qr_function(n: int) -> numpy.ndarray:
    """Modules of an ``n``×``n`` QR that hold no data: finders, separators, timing, alignment,
    format and version information, the dark module."""
    mask = numpy.zeros((n, n), bool)
    for r, c in ((0, 0), (0, n - 8), (n - 8, 0)):
        mask[r : r + 8, c : c + 8] = True
    mask[6, :] = mask[:, 6] = True
    centres = _QR_ALIGN.get((n - 17) // 4, [])
    for r in centres:
        for c in centres:
            if not _under_finder(r, c, n):
                mask[r - 2 : r + 3, c - 2 : c + 3] = True
    for copy in qr_format_places(n):
        for r, c in copy:
            mask[r, c] = True
    mask[n - 8, 8] = True
    if n >= 45:
        mask[0:6, n - 11 : n - 8] = mask[n - 11 : n - 8, 0:6] = True
    mask.flags.writeable = False
    return mask


def qr_mask(n: int, mask: int) -> numpy.ndarray:
    """Where data mask pattern ``mask`` flips a module."""
    y, x = numpy.mgrid[0:n, 0:n]
    flips = (
        (x + y) % 2 == 0,
        y % 2 == 0,
        x % 3 == 0,
        (x + y) % 3 == 0,
        (x // 3 + y // 2) % 2 == 0,
        (x * y) % 2 + (x * y) % 3 == 0,
        ((x * y) % 2 + (x * y) % 3) % 2 == 0,
        ((x + y) % 2 + (x * y) % 3) % 2 == 0,
    )
    out: numpy.ndarray = flips[mask]
    return out


@lru_cache(maxsize=64)
def qr_layout(n: int, level: str) -> Layout:
    """Codeword modules and blocks of an ``n``×``n`` QR at error-correction ``level``."""
    version = (n - 17) // 4
    ec, groups = _QR_BLOCKS[version][level]
    function = qr_function(n)
    order = []
    right = n - 1
    while right > 0:
        if right == 6:
            right = 5
        upward = (right + 1) & 2 == 0
        for vert in range(n):
            y = n - 1 - vert if upward else vert
            for x in (right, right - 1):
                if not function[y, x]:
                    order.append((y, x))
        right -= 2
    sizes = [data for count, data in groups for _ in range(count)]
    total = sum(sizes) + ec * len(sizes)
    modules = numpy.array(order[: total * 8]).reshape(total, 8, 2)
    # Interleaving: data words round the blocks (short blocks first), then check words.
    members: list[list[int]] = [[] for _ in sizes]
    index = 0
    for i in range(max(sizes)):
        for b, size in enumerate(sizes):
            if i < size:
                members[b].append(index)
                index += 1
    for _ in range(ec):
        for b in range(len(sizes)):
            members[b].append(index)
            index += 1
    blocks = tuple((tuple(m), ec) for m in members)
    modules.flags.writeable = False
    return Layout(modules, blocks)


def qr_version_places(n: int) -> list[tuple[int, int, int]]:
    """(row, col, bit) of both copies of the version information (versions 7 on)."""
    out = []
    for i in range(18):
        a, b = n - 11 + i % 3, i // 3
        out += [(b, a, i), (a, b, i)]
    return out


@lru_cache(maxsize=32)
def dm_layout(rows: int, cols: int) -> Layout:
    """Codeword modules and the block of a ``rows``×``cols`` Data Matrix (annex F placement)."""
    rh, rw = _DM_REGIONS[(rows, cols)]
    nrow, ncol = rows // (rh + 2) * rh, cols // (rw + 2) * rw
    data, ec = _DM_WORDS[(rows, cols)]
    words = data + ec
    place = -numpy.ones((nrow, ncol), int)  # mapping-matrix module → 8·word + bit
    where = numpy.zeros((words, 8, 2), int)

    def module(r: int, c: int, word: int, bit: int) -> None:
        if r < 0:
            r += nrow
            c += 4 - ((nrow + 4) % 8)
        if c < 0:
            c += ncol
            r += 4 - ((ncol + 4) % 8)
        if word < words:
            place[r, c] = 8 * word + bit
            where[word, bit] = (r, c)

    def utah(r: int, c: int, word: int) -> None:
        for bit, (dr, dc) in enumerate(
            ((-2, -2), (-2, -1), (-1, -2), (-1, -1), (-1, 0), (0, -2), (0, -1), (0, 0))
        ):
            module(r + dr, c + dc, word, bit)

    corners = {
        1: ((nrow - 1, 0), (nrow - 1, 1), (nrow - 1, 2), (0, ncol - 2), (0, ncol - 1),
            (1, ncol - 1), (2, ncol - 1), (3, ncol - 1)),
        2: ((nrow - 3, 0), (nrow - 2, 0), (nrow - 1, 0), (0, ncol - 4), (0, ncol - 3),
            (0, ncol - 2), (0, ncol - 1), (1, ncol - 1)),
        3: ((nrow - 3, 0), (nrow - 2, 0), (nrow - 1, 0), (0, ncol - 2), (0, ncol - 1),
            (1, ncol - 1), (2, ncol - 1), (3, ncol - 1)),
        4: ((nrow - 1, 0), (nrow - 1, ncol - 1), (0, ncol - 3), (0, ncol - 2), (0, ncol - 1),
            (1, ncol - 3), (1, ncol - 2), (1, ncol - 1)),
    }  # fmt: skip
    word, r, c = 0, 4, 0
    while True:
        for kind, hit in (
            (1, r == nrow and c == 0),
            (2, r == nrow - 2 and c == 0 and ncol % 4 != 0),
            (3, r == nrow - 2 and c == 0 and ncol % 8 == 4),
            (4, r == nrow + 4 and c == 2 and ncol % 8 == 0),
        ):
            if hit:
                for bit, (cr, cc) in enumerate(corners[kind]):
                    module(cr, cc, word, bit)
                word += 1
        while True:  # up and to the right
            if 0 <= r < nrow and 0 <= c < ncol and place[r, c] < 0:
                utah(r, c, word)
                word += 1
            r, c = r - 2, c + 2
            if not (r >= 0 and c < ncol):
                break
        r, c = r + 1, c + 3
        while True:  # down and to the left
            if 0 <= r < nrow and 0 <= c < ncol and place[r, c] < 0:
                utah(r, c, word)
                word += 1
            r, c = r + 2, c - 2
            if not (r < nrow and c >= 0):
                break
        r, c = r + 3, c + 1
        if not (r < nrow or c < ncol):
            break
    # Mapping matrix → symbol: skip the finder and clock modules round each data region.
    sym_r = where[..., 0] // rh * (rh + 2) + 1 + where[..., 0] % rh
    sym_c = where[..., 1] // rw * (rw + 2) + 1 + where[..., 1] % rw
    modules = numpy.stack([sym_r, sym_c], axis=-1)
    modules.flags.writeable = False
    return Layout(modules, ((tuple(range(words)), ec),))


@lru_cache(maxsize=32)
def dm_corner(rows: int, cols: int) -> tuple[tuple[int, int, bool], ...]:
    """The fixed 2×2 lower-right data corner of sizes whose placement leaves it unfilled."""
    rh, rw = _DM_REGIONS[(rows, cols)]
    nrow, ncol = rows // (rh + 2) * rh, cols // (rw + 2) * rw
    layout = dm_layout(rows, cols)
    used = {(int(r), int(c)) for r, c in layout.modules.reshape(-1, 2)}

    def sym(r: int, c: int) -> tuple[int, int]:
        return r // rh * (rh + 2) + 1 + r % rh, c // rw * (rw + 2) + 1 + c % rw

    corner = sym(nrow - 1, ncol - 1)
    if corner in used:
        return ()
    cells = (
        (nrow - 1, ncol - 1, True),
        (nrow - 2, ncol - 2, True),
        (nrow - 1, ncol - 2, False),
        (nrow - 2, ncol - 1, False),
    )
    return tuple((*sym(r, c), dark) for r, c, dark in cells)
