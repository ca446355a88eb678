"""What durability costs the line: SQLite synchronous=FULL against synchronous=OFF in one run.

Each setting runs the same batch (items, rate, seed) on the simulated line (station.sim.demo,
on a fresh temporary station, item frames rendered beforehand as bench/line_rate.py does. Figures:
items/min achieved and late decisions, and the group commit's cost — the time spent in
LineStore.flush() (every queued change in one transaction) and LineStore.reserve() (write-ahead
reservations, committed at once), per item. Target: durability costs ≤ 20 %, on the rate
achieved with 0 late decisions and on the extra commit time per item as a share of the item's
time budget at that rate (60,000 ms / rate).
"""

from __future__ import annotations

import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import finish, load, parser, say, temp_station

TARGET = 0.20
# High, yet one this shared 2-core machine keeps with 0 late decisions while others run tests;
# bench/line_rate.py finds the ceiling.
RATE = 3000


class Timed:
    """Wraps a LineStore method in place and records each call's wall time (ms)."""

    def __init__(self, cls: type, name: str) -> None:
        self.cls, self.name = cls, name
        self.original = getattr(cls, name)
        self.ms: list[float] = []  # calls that wrote something
        self.first = self.last = 0.0  # perf_counter at the first call's start, the last's end

    def __enter__(self) -> Timed:
        original, ms = self.original, self.ms

        def timed(*args, **kwargs):
            t0 = time.perf_counter()
            out = original(*args, **kwargs)
            if out:  # flush() returns how many changes it wrote, reserve() the rows
                t1 = time.perf_counter()
                ms.append((t1 - t0) * 1e3)
                self.first = self.first or t0
                self.last = t1
            return out

        setattr(self.cls, self.name, timed)
        return self

    def __exit__(self, *exc: object) -> None:
        setattr(self.cls, self.name, self.original)


def run(sync: str, items: int, rate: int) -> dict:
    """One batch with PRAGMA synchronous=`sync`; its figures."""
    from line_rate import prerender

    from station.config import load_settings
    from station.line.store import LineStore
    from station.sim import demo
    from station.store import batches
    from station.store.db import make_engine

    with temp_station() as st:
        settings = load_settings(st / "config.toml")
        engine = make_engine(settings.database_url, synchronous=sync)
        plan = demo.DemoPlan(
            items=items,
            batches=1,
            rate=rate,
            defects=0.01,
            seed=3,
            product=settings.products[0].sku,
        )
        demo.ensure_pools(engine, settings, plan, "bench")
        frames = prerender(engine, items + 50)
        b = batches.create(
            engine, settings, product=plan.product, lot="BENCH", quantity=items, user="bench"
        )
        with Timed(LineStore, "flush") as fl, Timed(LineStore, "reserve") as rs:
            t0 = time.monotonic()
            summary = demo.run_batch(engine, settings, plan, b.id, user="bench", prerender=frames)
            wall = time.monotonic() - t0
        engine.dispose()
    produced = summary["items"]
    commit_ms = sum(fl.ms) + sum(rs.ms)
    # Achieved rate over the line's active window: first reservation to last write.
    active_s = max(fl.last, rs.last) - min(t for t in (fl.first, rs.first) if t)
    return {
        "synchronous": sync,
        "items": produced,
        "rate_set_per_min": rate,
        "items_per_min": round(produced * 60 / active_s),
        "late": summary["late"],
        "world_mismatches": summary["world_mismatches"],
        "p99_ms": summary.get("latency_ms", {}).get("p99"),
        "flushes": len(fl.ms),
        "flush_ms_p50": round(statistics.median(fl.ms), 2) if fl.ms else None,
        "flush_ms_max": round(max(fl.ms), 1) if fl.ms else None,
        "reserves": len(rs.ms),
        "reserve_ms_p50": round(statistics.median(rs.ms), 2) if rs.ms else None,
        "commit_ms_per_item": round(commit_ms / max(produced, 1), 3),
        "wall_s": round(wall, 1),
        "load": load(),
    }


def show(r: dict) -> None:
    """One printed line per setting."""
    say(
        f"synchronous={r['synchronous']:<4}  {r['items']} items  {r['items_per_min']}/min "
        f"(set {r['rate_set_per_min']})  late {r['late']}  mismatches {r['world_mismatches']}  "
        f"p99 {r['p99_ms']} ms  flush p50 {r['flush_ms_p50']} ms x{r['flushes']}  "
        f"reserve p50 {r['reserve_ms_p50']} ms x{r['reserves']}  "
        f"commit {r['commit_ms_per_item']} ms/item  load {r['load']}"
    )


def main(argv: list[str] | None = None) -> int:
    """FULL then OFF; the cost of durability and one JSON line."""
    ap = parser(__doc__)
    ap.add_argument("--rate", type=int, default=RATE, help=f"items/min (default {RATE})")
    args = ap.parse_args(argv)
    items = 400 if args.quick else 1500
    full = run("FULL", items, args.rate)
    show(full)
    off = run("OFF", items, args.rate)
    show(off)

    def achieved(r: dict) -> int:
        return r["items_per_min"] if r["late"] == 0 else 0

    if achieved(off):
        rate_cost: float | None = 1 - achieved(full) / achieved(off)
    elif achieved(full):
        rate_cost = 0.0  # OFF was late and FULL was not: durability cost nothing measurable
    else:
        rate_cost = None  # both late: the rate was beyond this machine, the comparison says nothing
    budget_ms = 60_000 / args.rate
    extra = full["commit_ms_per_item"] - off["commit_ms_per_item"]
    budget_cost = extra / budget_ms
    shown = "n/a (both runs late)" if rate_cost is None else f"{rate_cost:.1%}"
    say(
        f"durability costs {shown} of the rate achieved with 0 late decisions and "
        f"{extra:.3f} ms of commit time per item = {budget_cost:.1%} of the {budget_ms:.0f} ms "
        f"an item has at {args.rate}/min"
    )
    return finish(
        {
            "bench": "durability",
            "quick": args.quick,
            "runs": [full, off],
            "rate_cost": None if rate_cost is None else round(rate_cost, 3),
            "commit_extra_ms_per_item": round(extra, 3),
            "budget_cost": round(budget_cost, 3),
            "targets": {
                "rate_cost<=20%": rate_cost is not None and rate_cost <= TARGET,
                "commit_cost<=20%_of_item_budget": budget_cost <= TARGET,
                "full_0_late": full["late"] == 0,
            },
        }
    )


if __name__ == "__main__":
    sys.exit(main())
