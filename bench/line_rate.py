"""The simulated line at rising rates: the highest rate with 0 mismatches and 0 late decisions.

Item frames are rendered before the run (the simulator's own cost is not counted); case-layer
frames and labels are still rendered live. Each rate runs a fresh temporary station.
Prints one JSON line at the end with the figures and whether the targets were met.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def machine() -> dict:
    """CPU model, cores, Python."""
    model = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {"cpu": model, "cores": os.cpu_count(), "python": platform.python_version()}


def prerender(engine, n: int) -> dict:
    """Frames of the next n items (cap inner code + printed outer code), keyed as the world asks."""
    from sqlalchemy import select

    from drivers.camera.sim import render_layer
    from station.models import Code

    c = Code.__table__

    def first(level: str) -> list[str]:
        with engine.connect() as conn:
            return list(
                conn.execute(
                    select(c.c.code)
                    .where(c.c.level == level, c.c.state == "available")
                    .order_by(c.c.id)
                    .limit(n)
                ).scalars()
            )

    caps, outers = first("inner"), first("outer")
    return {
        (cap, out): render_layer([cap, out], rows=1, cols=2, module_px=3, seed=i)
        for i, (cap, out) in enumerate(zip(caps, outers, strict=False))
    }


def run_rate(rate: int, items: int) -> dict:
    """One batch at `rate` items/min on a fresh station; its summary."""
    from station import batches, demo
    from station.config import load_settings
    from station.db import make_engine

    tmp = Path(tempfile.mkdtemp(prefix="ls-bench-"))
    try:
        shutil.copy(ROOT / "config.toml", tmp / "config.toml")
        s = load_settings(tmp / "config.toml")
        engine = make_engine(s.database_url)
        plan = demo.DemoPlan(
            items=items, batches=1, rate=rate, defects=0.01, seed=3, product=s.products[0].sku
        )
        demo.ensure_pools(engine, s, plan, "bench")
        frames = prerender(engine, items + 50)
        b = batches.create(
            engine, s, product=plan.product, lot="BENCH", quantity=items, user="bench"
        )
        t0 = time.monotonic()
        summary = demo.run_batch(engine, s, plan, b.id, user="bench", prerender=frames)
        summary["wall_s"] = round(time.monotonic() - t0, 1)
        return summary
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def main(argv: list[str] | None = None) -> int:
    """Rising rates until one fails; prints each and a final JSON line."""
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--quick", action="store_true", help="fewer rates and items (< 60 s)")
    ap.add_argument("--rates", default="", help="comma-separated items/min to try")
    args = ap.parse_args(argv)
    rates = [int(r) for r in args.rates.split(",") if r] or (
        [1200, 3000, 6000] if args.quick else [1200, 2400, 3600, 4800, 6000, 7200]
    )
    best, rows = 0, []
    for rate in rates:
        items = max(300 if args.quick else 600, int(rate * (0.1 if args.quick else 0.25)))
        s = run_rate(rate, items)
        ok = s["world_mismatches"] == 0 and s["late"] == 0 and s["duplicates"] == 0
        lat = s.get("latency_ms", {})
        row = {
            "rate_per_min": rate,
            "items": items,
            "ok": ok,
            "late": s["late"],
            "world_mismatches": s["world_mismatches"],
            "p50_ms": lat.get("p50"),
            "p99_ms": lat.get("p99"),
            "max_ms": lat.get("max"),
            "load": round(os.getloadavg()[0], 2),
        }
        rows.append(row)
        print(
            f"{rate:>6}/min  items {items:>5}  late {s['late']:>3}  mismatches "
            f"{s['world_mismatches']}  p50 {lat.get('p50')} ms  p99 {lat.get('p99')} ms  "
            f"max {lat.get('max')} ms  load {row['load']}  {'OK' if ok else 'FAIL'}",
            flush=True,
        )
        if not ok:
            break
        best = rate
    at_best = next((r for r in rows if r["rate_per_min"] == best), {})
    result = {
        "bench": "line_rate",
        "quick": args.quick,
        "best_rate_per_min": best,
        "runs": rows,
        "p99_ms_at_best": at_best.get("p99_ms"),
        "machine": machine(),
        "targets": {
            ">=1200/min": best >= 1200,
            ">=6000/min": best >= 6000,
            "p99<=50ms": (at_best.get("p99_ms") or 1e9) <= 50,
        },
    }
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
