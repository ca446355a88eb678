"""Correct a re-rendered symbol's codewords with the doubt of each module known.

A snapped symbol (patterns.snap_scored) that zxing-cpp cannot read has too many wrong codewords
for errors-only correction; but the wrong ones are mostly the doubtful ones (modules sampled
near the threshold, under glare). Generalised minimum-distance decoding erases the least sure
codewords of each block, two more at a time, and asks rs.decode for a codeword within
``2·errors + erasures ≤ check words − slack``. The corrected words are written back into the
symbol (QR: under its mask, format information redrawn), and zxing-cpp reads that, so the
result still passes a full decode; ``slack`` unused check words guard against a wrong read.
"""

from __future__ import annotations

import math

import numpy

from drivers.camera.dotmatrix import rs
from drivers.camera.dotmatrix.words import (
    QR_LEVELS,
    Layout,
    dm_corner,
    dm_layout,
    qr_format_bits,
    qr_format_places,
    qr_function,
    qr_layout,
    qr_mask,
    qr_version_bits,
    qr_version_places,
)

# A wrong correction passes as rarely as 2^-EVIDENCE: each check word left unused counts 8 bits
# (less log2 of the ways t errors could sit), each sure bit an erased word kept counts 1 (a wrong
# correction fills erased words with noise, so about half their sure bits would turn).
EVIDENCE = 12.0
MAX_TURNED = 2.0  # sureness a correction may overturn, summed
_SURE_BIT = 0.5  # a bit this sure (0..1) counts as evidence when an erased word keeps it
_WEIGHTS = 1 << numpy.arange(7, -1, -1)
_FORMATS = [(level, mask, qr_format_bits(level, mask)) for level in QR_LEVELS for mask in range(8)]


def qr_formats(clean: numpy.ndarray) -> list[tuple[str, int]]:
    """(level, mask) whose format bits are within 3 of either copy in ``clean``, nearest first."""
    n = clean.shape[0]
    copies = [
        sum(int(clean[r, c]) << i for i, (r, c) in enumerate(places))
        for places in qr_format_places(n)
    ]
    scored = []
    for level, mask, bits in _FORMATS:
        distance = min(bin(bits ^ copy).count("1") for copy in copies)
        if distance <= 3:
            scored.append((distance, level, mask))
    scored.sort()
    return [(level, mask) for _, level, mask in scored]


def _correct_words(
    bits: numpy.ndarray, sure: numpy.ndarray, layout: Layout, field: tuple[int, int]
) -> numpy.ndarray | None:
    """The codeword bits corrected block by block (None when a block cannot be, or the
    correction is not sure enough)."""
    rows, cols = layout.modules[..., 0], layout.modules[..., 1]
    words = (bits[rows, cols].astype(numpy.int64) * _WEIGHTS).sum(axis=1)
    conf = numpy.clip(2.0 * sure[rows, cols], 0.0, 1.0)  # (words, 8): 0 a coin toss, 1 certain
    # How likely each codeword is right: every bit right, a bit as likely as its sureness says.
    # The least likely are erased first.
    likely = numpy.log(0.5 + 0.5 * conf).sum(axis=1)
    sure_bits = conf >= _SURE_BIT
    fixed = words.copy()
    evidence = 0.0
    turned = 0.0
    for members, ec in layout.blocks:
        index = numpy.array(members)
        word = [int(w) for w in words[index]]
        order = [int(i) for i in numpy.argsort(likely[index], kind="stable")]
        n = len(word)
        best = None
        for erased in range(ec + 1):
            result = rs.decode(word, ec, order[:erased], *field)
            if result is None:
                continue
            new = numpy.array(result[0])
            errors = result[1] - erased
            changed = (new[:, None] >> numpy.arange(7, -1, -1)[None, :]) & 1 != (
                (words[index][:, None] >> numpy.arange(7, -1, -1)[None, :]) & 1
            )
            kept = int((sure_bits[index[order[:erased]]] & ~changed[order[:erased]]).sum())
            # A random word lands within `errors` of some codeword once in 2^this.
            luck = math.log2(math.comb(n - erased, errors)) + errors * math.log2(255)
            gain = 8.0 * (ec - erased) - luck + kept
            cost = float(conf[index][changed].sum())
            if cost <= MAX_TURNED:
                best = (new, gain, cost)
                break
        if best is None:
            return None
        fixed[index] = best[0]
        evidence += best[1]
        turned += best[2]
    if evidence < EVIDENCE or turned > MAX_TURNED:
        return None
    out = bits.copy()
    out[rows, cols] = (fixed[:, None] >> numpy.arange(7, -1, -1)[None, :]) & 1 == 1
    return out


def correct(clean: numpy.ndarray, sure: numpy.ndarray, symbology: str) -> list[numpy.ndarray]:
    """Corrected symbols for ``clean`` (True = dark, canonical orientation) given ``sure`` (how
    sure each module is, ≥ 0): one per format that corrects (QR), at most one for Data Matrix."""
    if symbology == "QRCode":
        return _correct_qr(clean, sure)
    rows, cols = clean.shape
    layout = dm_layout(rows, cols)
    out = _correct_words(clean, sure, layout, rs.DM_FIELD)
    if out is None:
        return []
    for r, c, dark in dm_corner(rows, cols):
        out[r, c] = dark
    return [out]


def _correct_qr(clean: numpy.ndarray, sure: numpy.ndarray) -> list[numpy.ndarray]:
    n = clean.shape[0]
    found = []
    for level, mask in qr_formats(clean)[:2]:
        flips = qr_mask(n, mask) & ~qr_function(n)
        out = _correct_words(clean ^ flips, sure, qr_layout(n, level), rs.QR_FIELD)
        if out is None:
            continue
        out ^= flips
        bits = qr_format_bits(level, mask)
        for places in qr_format_places(n):
            for i, (r, c) in enumerate(places):
                out[r, c] = bool(bits >> i & 1)
        if n >= 45:
            version = qr_version_bits((n - 17) // 4)
            for r, c, i in qr_version_places(n):
                out[r, c] = bool(version >> i & 1)
        found.append(out)
    return found
