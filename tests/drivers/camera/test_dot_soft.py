"""Soft decoding of re-rendered dot codes: Reed–Solomon with erasures, where the codewords of
QR Code and Data Matrix sit, and correction that reads more than errors-only but no noise."""

from __future__ import annotations

import random

import numpy
import pytest
import segno
import zxingcpp
from ppf.datamatrix import DataMatrix

from drivers.camera.dotmatrix import rs
from drivers.camera.dotmatrix.patterns import dm_fixed, qr_fixed
from drivers.camera.dotmatrix.soft import correct
from drivers.camera.dotmatrix.words import (
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

from .dotgen import KINDS, random_symbol

_BITS = 1 << numpy.arange(7, -1, -1)


def _words(matrix: numpy.ndarray, layout) -> list[int]:
    bits = matrix[layout.modules[..., 0], layout.modules[..., 1]].astype(int)
    return [int(w) for w in (bits * _BITS).sum(axis=1)]


def _blocks_clean(words: list[int], layout, field: tuple[int, int]) -> bool:
    f = rs.field(*field)
    return all(
        not any(rs.syndromes(f, [words[i] for i in members], ec)) for members, ec in layout.blocks
    )


@pytest.mark.parametrize("field", [rs.QR_FIELD, rs.DM_FIELD])
def test_reed_solomon_corrects_errors_and_erasures_up_to_the_bound(field) -> None:
    rng = random.Random(19)
    for _ in range(300):
        data = [rng.randrange(256) for _ in range(rng.randint(3, 40))]
        nsym = rng.randint(4, 28)
        word = rs.encode(data, nsym, *field)
        erasures = rng.randint(0, nsym)
        errors = rng.randint(0, (nsym - erasures) // 2)
        places = rng.sample(range(len(word)), erasures + errors)
        damaged = list(word)
        for p in places:
            damaged[p] ^= rng.randrange(1, 256)
        result = rs.decode(damaged, nsym, places[:erasures], *field)
        assert result is not None and result[0] == word


def test_reed_solomon_refuses_more_erasures_than_check_words() -> None:
    word = rs.encode([1, 2, 3, 4], 6, *rs.DM_FIELD)
    assert rs.decode(word, 6, list(range(7)), *rs.DM_FIELD) is None


@pytest.mark.parametrize("version", range(1, 11))
def test_qr_layout_matches_segno_for_every_level_and_mask(version: int) -> None:
    for level in "LMQH":
        for mask in range(8):
            qr = segno.make_qr(
                "DOT" * version, version=version, error=level, mask=mask, boost_error=False
            )
            matrix = numpy.array(qr.matrix, bool)
            n = matrix.shape[0]
            bits = qr_format_bits(level, mask)
            for places in qr_format_places(n):
                assert all(matrix[r, c] == bool(bits >> i & 1) for i, (r, c) in enumerate(places))
            if version >= 7:
                info = qr_version_bits(version)
                assert all(matrix[r, c] == bool(info >> i & 1) for r, c, i in qr_version_places(n))
            data = matrix ^ (qr_mask(n, mask) & ~qr_function(n))
            assert _blocks_clean(
                _words(data, qr_layout(n, level)), qr_layout(n, level), rs.QR_FIELD
            )


def test_dm_layout_matches_ppf_datamatrix_for_every_size_it_makes() -> None:
    seen = set()
    for length in range(1, 150):
        for rect in (False, True):
            text = "7" * length if length % 2 else "A" * length  # digit pairs or letters
            matrix = numpy.array(DataMatrix(text, rect=rect).matrix, bool)
            shape = matrix.shape
            if shape in seen or min(shape) > 44:  # one block up to 44×44
                continue
            seen.add(shape)
            layout = dm_layout(*shape)
            assert _blocks_clean(_words(matrix, layout), layout, rs.DM_FIELD), shape
            assert all(matrix[r, c] == dark for r, c, dark in dm_corner(*shape)), shape
    assert {(8, 18), (8, 32), (12, 26), (12, 36), (16, 36), (16, 48), (10, 10)} <= seen
    assert len(seen) >= 18


def _read(matrix: numpy.ndarray) -> list[str]:
    image = numpy.pad(numpy.where(matrix, 0, 255).astype(numpy.uint8), 4, constant_values=255)
    image = numpy.kron(image, numpy.ones((4, 4), numpy.uint8))
    return [b.text for b in zxingcpp.read_barcodes(image, is_pure=True)]


@pytest.mark.parametrize("kind", KINDS)
def test_glare_beyond_errors_only_is_corrected_when_its_modules_are_known_doubtful(
    kind: str,
) -> None:
    rng = numpy.random.default_rng(19)
    symbol = random_symbol(rng, kind)
    rows, cols = symbol.dark.shape
    fixed = qr_fixed(rows)[1] if symbol.symbology == "QRCode" else dm_fixed(rows, cols)[1]
    if symbol.symbology == "QRCode":
        places = qr_format_places(rows)[0]
        layout = next(
            qr_layout(rows, level)
            for level in "LMQH"
            for m in range(8)
            if all(
                symbol.dark[r, c] == bool(qr_format_bits(level, m) >> i & 1)
                for i, (r, c) in enumerate(places)
            )
        )
    else:
        layout = dm_layout(rows, cols)
    members, ec = layout.blocks[0]
    # Glare wipes whole codewords light: more than errors-only corrects (ec // 2), but known.
    lost = members[: ec // 2 + 2]
    seen = symbol.dark.copy()
    sure = numpy.full(seen.shape, 0.5)
    for word in lost:
        for r, c in layout.modules[word]:
            if not fixed[r, c]:
                seen[r, c] = False
                sure[r, c] = 0.0
    assert symbol.text not in _read(seen)  # zxing-cpp alone gives up (errors only)
    fixed_symbols = correct(seen, sure, symbol.symbology)
    assert any((f == symbol.dark).all() for f in fixed_symbols)
    assert symbol.text in [t for f in fixed_symbols for t in _read(f)]


def test_noise_with_valid_fixed_patterns_is_never_corrected_into_a_read() -> None:
    rng = numpy.random.default_rng(7)
    read = 0
    for _ in range(150):
        symbol = random_symbol(rng)
        rows, cols = symbol.dark.shape
        value, mask = qr_fixed(rows) if symbol.symbology == "QRCode" else dm_fixed(rows, cols)
        noise = numpy.where(mask, value, rng.random((rows, cols)) < 0.5)
        sure = rng.uniform(0.0, 0.5, noise.shape) * (rng.random(noise.shape) < 0.3)
        for fixed in correct(noise, sure, symbol.symbology):
            read += len(_read(fixed))
    assert read == 0
