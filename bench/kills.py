"""A kill campaign on the production path: `station run` SIGKILLed at random moments, restarted.

Two processes as on a line: `station sim --world` (every simulator and the simulated world) and
`station run --headless`. The run is killed N times at random moments (the moment it is killed
in is noted: items in flight, a case at the case camera, a pallet or batch closing, an outbox
send), and restarted each time; it must resume the batch where it stopped. Between batches the
simulators' process is killed too now and then (`--sim-kills`) and started again, as a power
cycle of the machines. A `station receiver` takes the closed batches.

At the end, per batch: 0 duplicates, 0 links that differ from the world's journal, voids within
the printer's queue depth per kill, the batch closed and delivered once; `station check` and
`station audit verify` pass. Prints one JSON line with the figures.

    python bench/kills.py --kills 20          # the acceptance run (a few minutes)
    python bench/kills.py --kills 100         # the campaign reported in the README
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

from _common import ROOT, finish, load, parser, say, temp_station
from _procs import STATION, Sim, delivered_batches, free_port, last_json, station


def moment(text: str) -> str:
    """What the run was doing when it was killed, from the last lines it printed."""
    for key in ("batch closed", "pallet", "case", "outbox", "deliver"):
        if key in text[-400:].lower():
            return key
    return "items"


def run_batch(cfg: Path, batch: str, kills: int, rng: random.Random, depth: int) -> dict:
    """Run one batch to its close, killing `station run` `kills` times at random moments."""
    done, killed, moments, restarts = None, 0, [], 0
    while done is None:
        proc = subprocess.Popen(
            [STATION, "--config", str(cfg), "run", "--headless", "--batch", batch, "--json"],
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        )  # fmt: skip
        if killed < kills:
            try:
                out, _ = proc.communicate(timeout=rng.uniform(1.5, 6.0))
                done = last_json(out)  # it finished before the kill came
            except subprocess.TimeoutExpired:
                proc.send_signal(signal.SIGKILL)
                out, _ = proc.communicate(timeout=30)
                killed += 1
                moments.append(moment(out or ""))
                restarts += 1
                continue
        else:
            out, _ = proc.communicate(timeout=900)
            done = last_json(out)
            if proc.returncode != 0:
                raise RuntimeError(f"station run failed after {killed} kills: {out[-2000:]}")
    return {"run": done, "kills": killed, "moments": moments, "restarts": restarts,
            "void_bound": depth * (killed + 1)}  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    """Set up a station, run batches with kills, check everything, print the JSON line."""
    ap = parser(__doc__)
    ap.add_argument("--kills", type=int, default=20, help="SIGKILLs of station run in all")
    ap.add_argument("--batches", type=int, default=0, help="batches (default: one per 10 kills)")
    ap.add_argument("--items", type=int, default=600, help="items per batch")
    ap.add_argument("--rate", type=int, default=1200, help="items per minute")
    ap.add_argument(
        "--sim-kills", type=int, default=-1, help="simulator kills (default: batches//3)"
    )
    ap.add_argument("--seed", type=int, default=7)
    args = ap.parse_args(argv)
    rng = random.Random(args.seed)
    batches = args.batches or max(1, (args.kills + 9) // 10)
    sim_kills = args.sim_kills if args.sim_kills >= 0 else batches // 3
    per_batch = [args.kills // batches + (1 if i < args.kills % batches else 0)
                 for i in range(batches)]  # fmt: skip
    from station.build import on_free_ports
    from station.config import load_settings
    from station.sim.demo import summarize
    from station.store.db import make_engine

    t0 = time.monotonic()
    results, problems = [], []
    with temp_station("ls-kills-") as tmp:
        cfg = tmp / "config.toml"
        text = on_free_ports(cfg.read_text(encoding="utf-8"))
        # The PLC program's watchdog on the station's heartbeat (the simulated PLC trips after
        # 5 × heartbeat_timeout_ms: 1 s here) stops the conveyor when the station dies; the
        # printer's queue (depth) covers what passes before it trips, so no item goes unseen.
        text = text.replace("heartbeat_timeout_ms = 2000", "heartbeat_timeout_ms = 200")
        text = text.replace("depth = 8", "depth = 16")
        receiver_store = tmp / "received"
        port = free_port()
        text = text.split("[upstream]")[0] + (
            f'[upstream]\nurl = "http://127.0.0.1:{port}"\ntransport = "epcis-capture"\n'
            'formats = ["epcis-jsonld", "csv"]\n'
        )
        cfg.write_text(text, encoding="utf-8")
        receiver = subprocess.Popen(
            [STATION, "--config", str(cfg), "receiver", "--port", str(port),
             "--store", str(receiver_store)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        s = load_settings(cfg)
        depth = s.devices.inkjet.depth if s.devices.inkjet else 0
        n = args.items * batches
        for level, count, scheme in (("inner", n + 500, "random"), ("outer", n + 500, "random"),
                                     ("case", n // 20 + 50, "random"),
                                     ("pallet", n // 200 + 20, "sscc")):  # fmt: skip
            r = station(cfg, "codes", "generate", "--level", level, "--count", str(count),
                        "--scheme", scheme)  # fmt: skip
            if r.returncode:
                raise RuntimeError(r.stderr)
        caps = tmp / "caps.txt"
        station(cfg, "codes", "export", "--level", "inner", "--out", str(caps))
        sim_killed = 0
        try:
            for b in range(batches):
                r = station(cfg, "batch", "create", "--product", s.products[0].sku, "--lot",
                            f"K{b:03d}", "--quantity", str(args.items), "--json")  # fmt: skip
                batch = last_json(r.stdout)["id"]
                journal = tmp / f"world-{b}.jsonl"
                sim = Sim(cfg, args.items, args.rate, caps, journal, seed=args.seed + b)
                try:
                    got = run_batch(cfg, batch, per_batch[b], rng, depth)
                finally:
                    if sim_killed < sim_kills and b % 3 == 2:
                        sim.kill()  # a power cycle of the machines between two batches
                        sim_killed += 1
                    else:
                        sim.stop()
                summary = summarize(make_engine(s.database_url), batch, journal)
                voids = sum(summary.get("voids", {}).values())
                row = {"batch": batch, "kills": got["kills"], "moments": got["moments"],
                       "closed": bool(got["run"].get("closed")),
                       "world_mismatches": summary["world_mismatches"],
                       "duplicates": summary["duplicates"], "voids": voids,
                       "void_bound": got["void_bound"]}  # fmt: skip
                chk = station(cfg, "check", "--batch", batch, "--json")
                row["check_ok"] = chk.returncode == 0
                results.append(row)
                ok = "ok" if row["check_ok"] else "FAILED"
                say(f"batch {batch}: {got['kills']} kills {got['moments']}, mismatches "
                    f"{row['world_mismatches']}, duplicates {row['duplicates']}, voids {voids} "
                    f"(bound {row['void_bound']}), check {ok}")  # fmt: skip
                if voids > row["void_bound"] or not row["closed"] or not row["check_ok"]:
                    problems.append(row)
            push = station(cfg, "sync", "push", "--wait", "--timeout", "300", "--json")
            delivered = delivered_batches(receiver_store)
            audit = station(cfg, "audit", "verify", "--json",
                            env={**os.environ, "LINESTATION_USER": ""})  # fmt: skip
        finally:
            receiver.terminate()
            receiver.wait(30)
    ids = [r["batch"] for r in results]
    once = all(delivered.get(i, 0) == 1 for i in ids)
    result = {
        "bench": "kills",
        "kills": sum(r["kills"] for r in results),
        "sim_kills": sim_killed,
        "batches": len(results),
        "duplicates": sum(r["duplicates"] for r in results),
        "world_mismatches": sum(r["world_mismatches"] for r in results),
        "voids": sum(r["voids"] for r in results),
        "void_bound": sum(r["void_bound"] for r in results),
        "every_batch_closed": all(r["closed"] for r in results),
        "every_batch_delivered_once": once,
        "check_ok": all(r["check_ok"] for r in results),
        "audit_ok": audit.returncode == 0,
        "push_rc": push.returncode,
        "moments": sorted({m for r in results for m in r["moments"]}),
        "seconds": round(time.monotonic() - t0, 1),
        "load": load(),
        "per_batch": results,
    }
    result["targets"] = {
        "0_duplicates": result["duplicates"] == 0,
        "0_world_mismatches": result["world_mismatches"] == 0,
        "voids_within_depth_per_kill": not any(r["voids"] > r["void_bound"] for r in results),
        "every_batch_closed_and_delivered_once": result["every_batch_closed"] and once,
        "check_and_audit_pass": result["check_ok"] and result["audit_ok"],
    }
    return finish(result)


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    sys.exit(main())
