"""Reed–Solomon errors-and-erasures decoding over GF(256), for QR Code and Data Matrix blocks.

zxing-cpp corrects errors only: up to ``ec / 2`` wrong codewords a block. A re-rendered dot code
also knows *which* codewords are doubtful (their modules sampled close to the threshold, or
under glare); told those as erasures, a block corrects ``2·errors + erasures ≤ ec``, up to twice
as many. Decoding is Berlekamp–Massey started from the erasure locator, a Chien search and
Forney's formula. ``slack`` keeps that many check symbols unused, so a block of noise is not
"corrected" into a valid one (each unused symbol makes that ~256 times less likely).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy


@dataclass(frozen=True)
class Field:
    """GF(256) by its primitive polynomial, with exp/log tables; ``fcr``: the generator's first
    root is α^fcr (QR Code: 0x11D, 0; Data Matrix: 0x12D, 1)."""

    poly: int
    fcr: int
    exp: tuple[int, ...]
    log: tuple[int, ...]


@lru_cache(maxsize=4)
def field(poly: int, fcr: int) -> Field:
    """The field of ``poly`` (cached)."""
    exp = [0] * 512
    log = [0] * 256
    x = 1
    for i in range(255):
        exp[i] = x
        log[x] = i
        x <<= 1
        if x & 0x100:
            x ^= poly
    for i in range(255, 512):
        exp[i] = exp[i - 255]
    return Field(poly, fcr, tuple(exp), tuple(log))


QR_FIELD = (0x11D, 0)
DM_FIELD = (0x12D, 1)


def _mul(f: Field, a: int, b: int) -> int:
    return 0 if a == 0 or b == 0 else f.exp[f.log[a] + f.log[b]]


def _inv(f: Field, a: int) -> int:
    return f.exp[255 - f.log[a]]


def _eval(f: Field, poly: list[int], x: int) -> int:
    """poly (lowest degree first) at x."""
    y = 0
    for c in reversed(poly):
        y = _mul(f, y, x) ^ c
    return y


@lru_cache(maxsize=256)
def _syndrome_powers(poly: int, fcr: int, n: int, nsym: int) -> numpy.ndarray:
    """log of α^((fcr + j)(n − 1 − i)) for syndrome j and codeword position i."""
    i = numpy.arange(n)[None, :]
    j = numpy.arange(nsym)[:, None]
    return ((fcr + j) * (n - 1 - i)) % 255


def syndromes(f: Field, word: list[int], nsym: int) -> list[int]:
    """S_j = r(α^(fcr + j)), j < nsym (word[0] is the highest power)."""
    r = numpy.asarray(word, numpy.int64)
    nz = r != 0
    if not nz.any():
        return [0] * nsym
    exp = numpy.asarray(f.exp, numpy.int64)
    logs = numpy.asarray(f.log, numpy.int64)[r[nz]]
    powers = _syndrome_powers(f.poly, f.fcr, len(word), nsym)[:, nz]
    terms = exp[(powers + logs[None, :]) % 255]
    return [int(v) for v in numpy.bitwise_xor.reduce(terms, axis=1)]


def decode(
    word: list[int],
    nsym: int,
    erasures: list[int],
    poly: int,
    fcr: int,
    slack: int = 0,
) -> tuple[list[int], int] | None:
    """The corrected codeword and its number of errata, or None (too many, or no codeword
    within ``2·errors + erasures ≤ nsym − slack``). ``word[0]`` is the first codeword of the
    block (the highest power); ``erasures`` are positions in ``word``."""
    f = field(poly, fcr)
    n = len(word)
    e = len(set(erasures))
    if e > nsym - slack:
        return None
    synd = syndromes(f, word, nsym)
    if not any(synd):
        return list(word), 0
    # Erasure locator Γ(x) = Π (1 − X x), X = α^(n − 1 − position); lowest degree first.
    gamma = [1]
    for p in sorted(set(erasures)):
        x = f.exp[(n - 1 - p) % 255]
        gamma = [a ^ _mul(f, x, b) for a, b in zip([*gamma, 0], [0, *gamma], strict=True)]
    lam, prev, length = list(gamma), list(gamma), e
    for r in range(e, nsym):
        delta = 0
        for i, c in enumerate(lam):
            if i <= r and c:
                delta ^= _mul(f, c, synd[r - i])
        shifted = [0, *prev]
        if delta == 0:
            prev = shifted
            continue
        size = max(len(lam), len(shifted))
        a = lam + [0] * (size - len(lam))
        b = shifted + [0] * (size - len(shifted))
        new = [x ^ _mul(f, delta, y) for x, y in zip(a, b, strict=True)]
        if 2 * length <= r + e:
            inv = _inv(f, delta)
            prev = [_mul(f, inv, c) for c in lam]
            length = r + 1 + e - length
        else:
            prev = shifted
        lam = new
    while len(lam) > 1 and lam[-1] == 0:
        lam.pop()
    errata = len(lam) - 1
    if errata != length or 2 * (errata - e) + e > nsym - slack:
        return None
    # Chien search: position p is in error where Λ(X_p^−1) = 0.
    places = [p for p in range(n) if _eval(f, lam, f.exp[(255 - (n - 1 - p)) % 255]) == 0]
    if len(places) != errata:
        return None
    # Forney: Ω = S·Λ mod x^nsym; Y = X^(1 − fcr) Ω(X^−1) / Λ'(X^−1).
    omega = [0] * nsym
    for i, s in enumerate(synd):
        if s:
            for j, c in enumerate(lam):
                if i + j < nsym and c:
                    omega[i + j] ^= _mul(f, s, c)
    deriv = [lam[i] if i % 2 == 1 else 0 for i in range(1, len(lam))]
    out = list(word)
    for p in places:
        xl = (n - 1 - p) % 255
        x_inv = f.exp[(255 - xl) % 255]
        den = _eval(f, deriv, x_inv)
        if den == 0:
            return None
        y = _mul(f, _eval(f, omega, x_inv), _inv(f, den))
        y = _mul(f, y, f.exp[(xl * (1 - fcr)) % 255])
        out[p] ^= y
    if any(syndromes(f, out, nsym)):
        return None
    return out, errata


def encode(data: list[int], nsym: int, poly: int, fcr: int) -> list[int]:
    """``data`` followed by its ``nsym`` check codewords (tests and self-checks)."""
    f = field(poly, fcr)
    gen = [1]  # highest power first
    for j in range(nsym):
        root = f.exp[(fcr + j) % 255]
        gen = [a ^ _mul(f, root, b) for a, b in zip([*gen, 0], [0, *gen], strict=True)]
    rem = list(data) + [0] * nsym
    for i in range(len(data)):
        c = rem[i]
        if c:
            for j in range(1, len(gen)):
                rem[i + j] ^= _mul(f, gen[j], c)
    return list(data) + rem[len(data) :]
