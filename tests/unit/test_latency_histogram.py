"""The runner keeps trigger → decision times in fixed memory (issue 20: a list of every item's time
grew ~30 bytes an item, without end over a long batch), and its figures match exact percentiles."""

from __future__ import annotations

import random
import sys

from station.line.parts import LatencyHistogram


def test_percentiles_match_the_exact_ones_within_a_bin() -> None:
    rng = random.Random(5)
    values = [rng.lognormvariate(2.5, 0.6) for _ in range(50_000)] + [2500.0]
    h = LatencyHistogram()
    for v in values:
        h.append(v)
    exact = sorted(values)
    assert abs(h.percentile(0.5) - exact[len(exact) // 2 - 1]) <= h.BIN_MS * 2
    assert abs(h.percentile(0.99) - exact[int(len(exact) * 0.99) - 1]) <= h.BIN_MS * 2
    got = h.summary()
    assert got["max"] == 2500.0 and len(h) == len(values)
    assert LatencyHistogram().summary() == {}


def test_memory_does_not_grow_with_items() -> None:
    h = LatencyHistogram()
    for i in range(1000):
        h.append(i % 50)
    before = sys.getsizeof(h.counts) + sum(sys.getsizeof(c) for c in set(h.counts))
    for i in range(200_000):
        h.append(i % 50)
    after = sys.getsizeof(h.counts) + sum(sys.getsizeof(c) for c in set(h.counts))
    assert len(h.counts) == LatencyHistogram.BINS + 1
    assert after - before < 1000  # a few larger ints, not 200,000 floats
