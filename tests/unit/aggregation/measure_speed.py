"""Micro-measure of the per-item paths; not a test (not collected), run by hand.

`.venv/bin/python tests/unit/aggregation/measure_speed.py` from the repository root.
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Callable

from aggregation.layer import check_layer
from aggregation.levels import Hierarchy
from aggregation.packer import Packer
from aggregation.rework import plan_unpack
from aggregation.rules import CodeInfo, check_link

H = Hierarchy.of("inner", "outer", ("case", 24), ("pallet", 20))


def per_call_us(fn: Callable[[], object], n: int, repeats: int = 5) -> float:
    """Best of `repeats` runs of n calls, in microseconds per call."""
    best = float("inf")
    for _ in range(repeats):
        t0 = time.perf_counter()
        for _ in range(n):
            fn()
        best = min(best, time.perf_counter() - t0)
    return best / n * 1e6


def main() -> None:
    counter = itertools.count()
    packer = Packer(H, lambda level: f"{level}-{next(counter)}", "B1", "P1")
    items = (f"0{i:019d}" for i in itertools.count())
    add = lambda: packer.add(next(items))  # noqa: E731

    codes = {
        f"0{i:019d}": CodeInfo(f"0{i:019d}", "outer", "verified", "B1", "P1") for i in range(24)
    }
    codes["CASE"] = CodeInfo("CASE", "case", "printed", "B1", "P1")
    frame = list(codes)[:24]

    def layer() -> object:
        return check_layer(
            frame, "CASE", expected=24, case_level="case", batch_id="B1", product="P1",
            lookup=codes.get, hierarchy=H,
        )  # fmt: skip

    assert layer().ok
    parent, child = codes["CASE"], codes[frame[0]]

    def link() -> object:
        return check_link(parent, child, hierarchy=H, lookup=codes.get, children_count=3)

    linked = {c: CodeInfo(c, "outer", "linked", "B1", "P1", "CASE") for c in frame}
    linked["CASE"] = codes["CASE"]
    unpack = lambda: plan_unpack("CASE", linked.get, lambda _: frame)  # noqa: E731

    print(f"Packer.add                    {per_call_us(add, 200_000):7.2f} µs/call")
    print(f"check_link                    {per_call_us(link, 100_000):7.2f} µs/call")
    print(f"check_layer (24 codes)        {per_call_us(layer, 20_000):7.2f} µs/call")
    print(f"plan_unpack (case of 24)      {per_call_us(unpack, 20_000):7.2f} µs/call")


if __name__ == "__main__":
    main()
