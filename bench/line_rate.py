"""The simulated line at rising rates: the highest with 0 mismatches, 0 late, 0 unprinted items.

As on a real line, the station and its devices are separate processes: the station runs
`station run`'s path (station.line.run.run_production) and a second process serves every simulator
and the simulated world (`station sim --world`'s path), so the simulators' Python does not share
the station's interpreter lock. Item frames are rendered before the run (the simulator's own
cost is not counted); case-layer frames and labels are still rendered live. `--in-process` runs
the old way, world and simulators inside the station's process (`station demo`'s path). Each
rate runs a fresh temporary station. Prints one JSON line at the end with the figures and
whether the targets were met.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
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
    from station.store.models import Code

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


def _devices(cfg: str, items: int, rate: int, caps: list[str], outers: list[str], journal: str,
             ready, stop) -> None:  # fmt: skip
    """The second process: every simulator and the world, heard only through the devices."""
    import threading

    from drivers.camera.decode import make_decoder
    from station.build import start_simulators
    from station.config import load_settings
    from station.line.runner import raise_priority
    from station.sim.demo import preprinted_codes
    from station.sim.world import World
    from station.store.db import make_engine

    s = load_settings(cfg)
    # The devices stand for hardware beside the PC: the hog (other programs on the line PC)
    # must not starve them; the station raises its own line threads the same way.
    raise_priority(s.line.nice)
    frames = _render(caps, outers)
    engine = make_engine(s.database_url)
    pre = preprinted_codes(engine, s, items)  # the supplier's codes, on a pre-printed line
    engine.dispose()
    sims = start_simulators(s, fixed_ports=True)
    try:
        world = World(s, sims, items=items, rate_per_min=rate, defects=0.01, seed=3,
                      journal=Path(journal), caps=caps, decoder=make_decoder(),
                      prerender=frames, remote=True, preprinted=pre)  # fmt: skip
        t = threading.Thread(target=world.run, name="world", daemon=True)
        t.start()
        ready.set()
        stop.wait(600)
        world.close()
    finally:
        sims.stop()


def _render(caps: list[str], outers: list[str]) -> dict:
    from drivers.camera.sim import render_code, render_layer

    if not caps:  # a line without inner caps: the item shows its one code
        return {
            (None, out): render_code(out, module_px=3, size=(200, 320), seed=i)
            for i, out in enumerate(outers)
        }
    return {
        (cap, out): render_layer([cap, out], rows=1, cols=2, module_px=3, seed=i)
        for i, (cap, out) in enumerate(zip(caps, outers, strict=False))
    }


class Hog:
    """N other processes each keeping one core busy (a virus scan, an update, the touchscreen)."""

    def __init__(self, n: int) -> None:
        import subprocess

        self.procs = [
            subprocess.Popen([sys.executable, "-c", "while True: pass"]) for _ in range(n)
        ]

    def __enter__(self) -> Hog:
        return self

    def __exit__(self, *exc: object) -> None:
        for p in self.procs:
            p.kill()
        for p in self.procs:
            p.wait(10)


def run_split(rate: int, items: int, config: Path = ROOT / "config.toml") -> dict:
    """One batch at `rate` items/min: the station here, devices and world in another process."""
    import multiprocessing as mp

    from sqlalchemy import select

    from station.build import on_free_ports
    from station.config import load_settings
    from station.line.run import run_production
    from station.sim import demo
    from station.store import batches
    from station.store.db import make_engine
    from station.store.models import Code

    tmp = Path(tempfile.mkdtemp(prefix="ls-bench-"))
    ctx = mp.get_context("spawn")
    stop, ready = ctx.Event(), ctx.Event()
    child = None
    try:
        text = on_free_ports(config.read_text(encoding="utf-8"))
        # The printer's queue sized from the rate: 160 ms of codes (8 at 3,000/min, 32 at
        # 12,000/min) rides out a slow commit or a late tick; a kill voids at most that many.
        depth = min(64, max(8, -(-rate * 16 // 6000)))
        text = re.sub(r"(\[devices\.inkjet\][^\[]*?depth = )\d+", rf"\g<1>{depth}", text)
        text = re.sub(r'(database = "sqlite:///)[^"]*"', r'\1var/station.db"', text)
        text = re.sub(r'data_dir = "[^"]*"', 'data_dir = "var"', text)  # its own, in tmp
        (tmp / "config.toml").write_text(text, encoding="utf-8")
        s = load_settings(tmp / "config.toml")
        engine = make_engine(s.database_url)
        plan = demo.DemoPlan(
            items=items, batches=1, rate=rate, defects=0.01, seed=3, product=s.products[0].sku
        )
        demo.ensure_pools(engine, s, plan, "bench")
        c = Code.__table__
        with engine.connect() as conn:
            caps, outers = (
                list(conn.execute(select(c.c.code).where(c.c.level == lv, c.c.state == "available")
                                  .order_by(c.c.id).limit(items + 50)).scalars())
                for lv in ("inner", "outer")
            )  # fmt: skip
        summary_extra = {"shape": s.shape.ratio(), "item_station": s.shape.item.kind,
                         "printer_depth": depth}  # fmt: skip
        b = batches.create(
            engine, s, product=plan.product, lot="BENCH", quantity=items, user="bench"
        )
        journal = tmp / "world.jsonl"
        proc = ctx.Process(
            target=_devices,
            args=(str(tmp / "config.toml"), items, rate, caps, outers, str(journal), ready, stop),
            daemon=True,
        )
        proc.start()
        child = proc
        if not ready.wait(120):
            raise RuntimeError("the device process did not start")
        t0 = time.monotonic()
        run = run_production(engine, s, b.id, user="bench", finish_idle_s=1.0)
        wall = time.monotonic() - t0
        summary = demo.summarize(engine, b.id, journal)
        summary.update(late=run["late"], latency_ms=run["latency_ms"], wall_s=round(wall, 1))
        summary.update(summary_extra)
        if "fault" in run:
            summary["fault"] = run["fault"]
        return summary
    finally:
        stop.set()
        if child is not None:
            child.join(30)
            if child.is_alive():
                child.kill()
        shutil.rmtree(tmp, ignore_errors=True)


def run_rate(rate: int, items: int, config: Path = ROOT / "config.toml") -> dict:
    """One batch at `rate` items/min on a fresh station, all in this process; its summary."""
    from station.config import load_settings
    from station.sim import demo
    from station.store import batches
    from station.store.db import make_engine

    tmp = Path(tempfile.mkdtemp(prefix="ls-bench-"))
    try:
        shutil.copy(config, tmp / "config.toml")
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
    ap.add_argument(
        "--in-process", action="store_true", help="world and simulators in the station's process"
    )
    ap.add_argument(
        "--hog",
        type=int,
        default=0,
        metavar="N",
        help="keep N cores busy with other processes during the run (a busy line PC)",
    )
    ap.add_argument(
        "--config", type=Path, default=ROOT / "config.toml", help="the line's config (its shape)"
    )
    args = ap.parse_args(argv)
    rates = [int(r) for r in args.rates.split(",") if r] or (
        [1200, 3000, 6000]
        if args.quick
        else [1200, 3000, 4800, 6000, 7200, 8400, 9600, 10800, 12000, 13200]
    )
    rows: list[dict] = []
    with Hog(args.hog):
        best = _climb(args, rates, rows)
    _report(args, best, rows)
    return 0


def _climb(args, rates: list[int], rows: list[dict]) -> int:
    best = 0
    for rate in rates:
        items = max(300 if args.quick else 600, int(rate * (0.1 if args.quick else 0.25)))
        run = run_rate if args.in_process else run_split
        s = run(rate, items, args.config)
        ok = s["world_mismatches"] == 0 and s["late"] == 0 and s["duplicates"] == 0
        # An item that passed a starved printer carries no code: kicked, so no mismatch, but the
        # line did not keep up. Every item must have been printed.
        starved = items - s["printed"] if s.get("item_station", "mark") == "mark" else 0
        ok = ok and "fault" not in s and starved == 0
        lat = s.get("latency_ms", {})
        row = {
            "rate_per_min": rate,
            "items": items,
            "ok": ok,
            "late": s["late"],
            "starved": starved,
            "printer_depth": s.get("printer_depth"),
            "world_mismatches": s["world_mismatches"],
            "p50_ms": lat.get("p50"),
            "p99_ms": lat.get("p99"),
            "max_ms": lat.get("max"),
            "load": round(os.getloadavg()[0], 2),
        }
        rows.append(row)
        print(
            f"{rate:>6}/min  items {items:>5}  late {s['late']:>3}  starved {starved}  mismatches "
            f"{s['world_mismatches']}  p50 {lat.get('p50')} ms  p99 {lat.get('p99')} ms  "
            f"max {lat.get('max')} ms  load {row['load']}  {'OK' if ok else 'FAIL'}",
            flush=True,
        )
        if not ok:
            break
        best = rate
    return best


def _report(args, best: int, rows: list[dict]) -> None:
    at_best = next((r for r in rows if r["rate_per_min"] == best), {})
    result = {
        "bench": "line_rate",
        "quick": args.quick,
        "processes": 1 if args.in_process else 2,
        "best_rate_per_min": best,
        "best_rate_0_late_0_starved": best,
        "hog_cores": args.hog,
        "config": str(
            args.config.relative_to(ROOT) if args.config.is_relative_to(ROOT) else args.config
        ),
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


if __name__ == "__main__":
    sys.exit(main())
