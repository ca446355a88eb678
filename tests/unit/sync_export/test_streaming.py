"""Streaming: a 200,000-item batch with full aggregation exports in flat memory."""

from __future__ import annotations

import tracemalloc

from sync.epcis import write_jsonld

PEAK_LIMIT = 16 * 2**20  # the document itself is ~48 MB


class CountingSink:
    """A text sink that keeps only the size, the line count and the tail of what it got."""

    def __init__(self) -> None:
        self.chars = 0
        self.lines = 0
        self.tail = ""

    def write(self, text: str) -> int:
        self.chars += len(text)
        self.lines += text.count("\n")
        self.tail = (self.tail + text)[-16:]
        return len(text)


def test_200k_items_export_in_flat_memory(batch_factory) -> None:
    # Pairs left out to keep the traced run short (tracemalloc makes each allocation ~10x dearer):
    # a pair is one tiny event and cannot raise the peak; the 1M-item measurement includes them.
    batch = batch_factory(200_000, box=10, case=5, special=False, precompute=True, paired=False)
    sink = CountingSink()
    tracemalloc.start()
    try:
        write_jsonld(batch, sink)  # type: ignore[arg-type]
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert sink.lines == 2 + 43 + 20_000 + 4_000  # 424,000 codes in chunks, boxes, cases
    assert sink.chars > 40 * 2**20
    assert sink.tail.endswith("\n]}}\n")
    assert peak < PEAK_LIMIT, f"peak {peak / 2**20:.1f} MB"
