"""Benchmark: a 1,000,000-item batch with full aggregation exported to EPCIS 2.0 JSON-LD.

Items are outer codes paired 1:1 with inner cap codes, packed 10 to a box, 5 boxes to a case and
20 cases to a pallet (2.24 M codes, 1 M pairs, 1.12 M links). The records are generated on the
fly as `sync.model` dataclasses, as the station's database reader would yield them, so the time
includes producing them. Prints the figures and, last, one JSON line.

    .venv/bin/python bench/export.py            # 1,000,000 items (~0.7 GB written, then deleted)
    .venv/bin/python bench/export.py --quick    # 100,000 items
"""

from __future__ import annotations

import argparse
import json
import resource
import sys
import tempfile
import time
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sync.epcis import write_jsonld
from sync.model import (
    BatchData,
    BatchInfo,
    CodeRecord,
    ContainerRecord,
    LinkRecord,
    PairRecord,
)

BOX, CASE, PALLET = 10, 5, 20
LEVELS = ("inner", "outer", "box", "case", "pallet")
T0 = datetime(2026, 11, 24, 0, 0, tzinfo=UTC)
TARGET_S, TARGET_MB = 30.0, 300.0


def make_batch(n: int) -> BatchData:
    """n items, each paired with a cap, boxed, cased and palletised; every factory streams."""
    n_box = -(-n // BOX)
    n_case = -(-n_box // CASE)
    n_pallet = -(-n_case // PALLET)
    # 100 items/s, the line's top speed; one datetime per second keeps generation cheap
    seconds = [T0 + timedelta(seconds=k) for k in range(n // 100 + 2)]

    def code(level: int, i: int) -> str:
        return f"8{level}{i:018d}"

    def codes() -> Iterator[CodeRecord]:
        for i in range(n):
            t = seconds[i // 100]
            yield CodeRecord(code(1, i), "inner", "verified", t)
            yield CodeRecord(code(2, i), "outer", "linked", t)
        end = seconds[-1]
        for b in range(n_box):
            yield CodeRecord(code(3, b), "box", "linked", seconds[min(n, (b + 1) * BOX) // 100])
        for c in range(n_case):
            yield CodeRecord(code(4, c), "case", "linked", end)
        for p in range(n_pallet):
            yield CodeRecord(code(5, p), "pallet", "verified", end)

    def links() -> Iterator[LinkRecord]:
        end = seconds[-1]
        for b in range(n_box):
            parent = code(3, b)
            for i in range(b * BOX, min(n, (b + 1) * BOX)):
                yield LinkRecord(parent, code(2, i), "box", "outer", seconds[i // 100])
        for c in range(n_case):
            parent = code(4, c)
            for b in range(c * CASE, min(n_box, (c + 1) * CASE)):
                yield LinkRecord(parent, code(3, b), "case", "box", end)
        for p in range(n_pallet):
            parent = code(5, p)
            for c in range(p * PALLET, min(n_case, (p + 1) * PALLET)):
                yield LinkRecord(parent, code(4, c), "pallet", "case", end)

    def pairs() -> Iterator[PairRecord]:
        for i in range(n):
            yield PairRecord(code(1, i), code(2, i), seconds[i // 100])

    def containers() -> Iterator[ContainerRecord]:
        for level, digit, count, size, total in (
            ("box", 3, n_box, BOX, n),
            ("case", 4, n_case, CASE, n_box),
            ("pallet", 5, n_pallet, PALLET, n_case),
        ):
            for k in range(count):
                held = min(total, (k + 1) * size) - k * size
                status = "normal" if held == size else "partial"
                yield ContainerRecord(code(digit, k), level, held, status)

    info = BatchInfo(
        batch_id="BENCH-1M",
        station_id="LS-BENCH",
        line="L1",
        product_gtin="06901234000016",
        product_sku="WATER-550",
        product_name="Mineral water 550 ml",
        lot="B2611",
        produced=date(2026, 11, 24),
        expires=date(2028, 11, 23),
        closed_at=T0 + timedelta(hours=3),
    )
    return BatchData(info, codes, links, pairs, containers, LEVELS)


def peak_rss_mb() -> float:
    """Peak resident set size of this process (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark; exit 1 when a target is missed."""
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--quick", action="store_true", help="100,000 items instead of 1,000,000")
    p.add_argument("--items", type=int, help="any other number of items")
    p.add_argument("--keep", type=Path, help="write the document here and keep it")
    args = p.parse_args(argv)
    items = args.items or (100_000 if args.quick else 1_000_000)
    data = make_batch(items)
    rss_before = peak_rss_mb()
    with tempfile.TemporaryDirectory(prefix="bench-export-") as tmp:
        path = args.keep or Path(tmp) / "batch.epcis.jsonld"
        t0 = time.perf_counter()
        with open(path, "w", encoding="utf-8", newline="", buffering=1 << 20) as out:
            write_jsonld(data, out)
        seconds = time.perf_counter() - t0
        size = path.stat().st_size
    peak = peak_rss_mb()
    ok_time, ok_rss = seconds <= TARGET_S, peak <= TARGET_MB
    print(f"items            {items:,}")
    print(f"document         {size / 2**20:,.0f} MB EPCIS 2.0 JSON-LD")
    print(f"export           {seconds:.1f} s (records generated on the fly, included)")
    print(f"peak RSS         {peak:.0f} MB (before export {rss_before:.0f} MB)")
    print(f"targets          ≤ {TARGET_S:.0f} s: {ok_time}, ≤ {TARGET_MB:.0f} MB: {ok_rss}")
    print(
        json.dumps(
            {
                "bench": "export",
                "items": items,
                "seconds": round(seconds, 2),
                "peak_rss_mb": round(peak, 1),
                "document_mb": round(size / 2**20, 1),
                "targets": {"seconds<=30": ok_time, "rss<=300MB": ok_rss},
            }
        )
    )
    return 0 if ok_time and ok_rss else 1


if __name__ == "__main__":
    sys.exit(main())
