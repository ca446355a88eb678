"""A kill campaign on the production path: `station run` SIGKILLed in real moments, restarted.

Two processes as on a line: `station sim --world` (every simulator and the simulated world) and
`station run --headless`. Each kill is aimed at a moment watched for in the world's journal and
the store (`_moments.py`): the run starting, items on the conveyor, a case inspection in
progress, a pallet closing, the batch close (the batch's last kill); every other batch one kill
is `station sync push` while the batch's entry is sending. Each is named by what was really
going on at the instant of the SIGKILL. The run is restarted each time and must resume the
batch; the items that went by while it was dead are the PLC's count (station/line/runnotes.py),
and those in flight when the PLC's watchdog tripped are kicked by its fail safe. Between batches
the simulators' process is killed too now and then (`--sim-kills`), as a power cycle of the
machines. A `station receiver` takes the closed batches.

At the end, per batch: 0 duplicates, 0 links that differ from the world's journal, voids within
the printer's queue depth per kill (and the case labels printed ahead, and a pallet code), the
batch closed and delivered once (each unit, its pallets' and its close, received once and
acknowledged once);
`station check` and `station audit verify` pass. Prints one JSON line with the figures.

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
from collections import Counter
from pathlib import Path

from _common import ROOT, finish, load, parser, say, temp_station
from _moments import (
    CASE,
    CLOSE,
    ITEMS,
    OUTBOX,
    PALLET,
    START,
    JournalTail,
    store_state,
    world_counts,
)
from _procs import STATION, caps_for, deliveries, free_port, last_json, start_sim, station


def _phase(db: Path, batch: str, pid: int) -> str:
    """Where the run `pid` is by its own notes: `start` (not yet running the line: imports,
    restore, connect), `running`, or `ended` (its loop finished: closing the batch)."""
    live = store_state(db, batch).live
    if not live or live.get("pid") != pid or live.get("state") == "starting":
        return START
    return "ended" if live.get("state") in ("idle", "stopping") else "running"


def _moment(proc: subprocess.Popen, tail: JournalTail, db: Path, batch: str) -> str:
    """The moment the run is in now: its own phase, then what the world is doing."""
    phase = _phase(db, batch, proc.pid)
    if phase == START:
        return START
    if phase == "ended":
        return CLOSE
    return tail.read().moment()


def kill_at(proc: subprocess.Popen, tail: JournalTail, target: str, dwell: float, db: Path,
            batch: str) -> str | None:  # fmt: skip
    """SIGKILL the run `dwell` seconds into the moment `target` (or after 10 s of waiting for
    it, the batch close 3 min, in whatever moment it is then); the moment it was really killed
    in, or None when it ended by itself first."""
    t0 = time.monotonic()
    seen_at = t0 if target == START else None
    up = None
    while proc.poll() is None:
        now = time.monotonic()
        if up is None and target != START and _phase(db, batch, proc.pid) != START:
            up = now
        if up is not None and seen_at is None:
            tail.read()
            if target == ITEMS or (tail.ready(target) and (target != CASE or tail.gate_since > up)):
                seen_at = now
        late = up is not None and now - up > (180 if target == CLOSE else 10)
        if (seen_at is not None and now - seen_at >= dwell) or late or now - t0 > 240:
            was = _moment(proc, tail, db, batch)
            proc.send_signal(signal.SIGKILL)
            proc.communicate(timeout=30)
            if was == CLOSE:
                got = store_state(db, batch)
                was += " (closed)" if got.batch == "completed" else ""
                was += " (sealed)" if got.outbox else ""
            return was
        time.sleep(0.003)
    return None


def _target(tail: JournalTail, last: bool, rng: random.Random) -> tuple[str, float]:
    """The moment to kill in next and how far into it: the batch's last kill, and any once every
    item is made, in the batch close (while the run drains; the last one while it closes the
    batch, 3 s quiet after the last item); else items, a case inspection, the run's start, or a
    pallet closing when the pallet is nearly full."""
    tail.read()
    if last or tail.items >= tail.total:
        return CLOSE, rng.uniform(2.6, 4.0) if last else rng.uniform(0.0, 2.5)
    kinds = [ITEMS, CASE, CASE, START]
    if tail.stacked + tail.entry >= tail.pallet_cap - 2:
        kinds += [PALLET, PALLET]
    kind = rng.choice(kinds)
    dwell = {ITEMS: rng.uniform(0.2, 2.5), CASE: rng.uniform(0.0, 0.15), START:
             rng.uniform(0.2, 2.5), PALLET: rng.uniform(0.0, 0.2)}[kind]  # fmt: skip
    return kind, dwell


def run_batch(cfg: Path, batch: str, kills: int, rng: random.Random, tail: JournalTail,
              db: Path) -> dict:  # fmt: skip
    """Run one batch to its close, killing `station run` `kills` times, each in a moment drawn
    by _target; a restart refused because the batch closed ends it too."""
    done, killed, moments = None, 0, []
    while True:
        if store_state(db, batch).batch == "completed":  # closed by a run killed after that
            break
        proc = subprocess.Popen(
            [STATION, "--config", str(cfg), "run", "--headless", "--batch", batch, "--json"],
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        )  # fmt: skip
        if killed < kills:
            target, dwell = _target(tail, killed == kills - 1, rng)
            was = kill_at(proc, tail, target, dwell, db, batch)
            if was is not None:
                killed += 1
                moments.append(was)
                continue
        out, _ = proc.communicate(timeout=900)
        done = last_json(out)
        if proc.returncode != 0:
            raise RuntimeError(f"station run failed after {killed} kills: {out[-2000:]}")
        break
    closed = store_state(db, batch).batch == "completed"
    return {"run": done or {}, "kills": killed, "moments": moments, "closed": closed}


def push_killed(cfg: Path, db: Path, batch: str, rng: random.Random) -> str | None:
    """`station sync push BATCH` killed while the batch's entry is sending (or, when the send
    was quicker than the watch, at a random instant); the moment, or None if it ended first."""
    proc = subprocess.Popen([STATION, "--config", str(cfg), "sync", "push", batch, "--json"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip
    give_up = time.monotonic() + rng.uniform(5.0, 15.0)
    while proc.poll() is None:
        entry = store_state(db, batch).outbox
        if entry == "sending" or time.monotonic() > give_up:
            proc.kill()
            proc.wait(30)
            return OUTBOX if entry == "sending" else f"{OUTBOX} ({entry or 'not queued'})"
        time.sleep(0.001)
    return None


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
    ap.add_argument("--keep", action="store_true", help="keep the station folder (store, logs)")
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
    results = []
    with temp_station("ls-kills-", keep=args.keep) as tmp:
        cfg = tmp / "config.toml"
        text = on_free_ports(cfg.read_text(encoding="utf-8"))
        # The PLC program's watchdog on the station's heartbeat (the simulated PLC trips after
        # 5 × heartbeat_timeout_ms: 1 s here) stops the conveyor when the station dies. The
        # items that pass before it trips (20 at 1,200/min) carry the codes left in the
        # printer's queue (voided by the restart) or none: the PLC counts them (the restarted
        # run ends by its count), and the case station refuses them when they reach a case.
        text = text.replace("heartbeat_timeout_ms = 2000", "heartbeat_timeout_ms = 200")
        text = text.replace("depth = 8", "depth = 16")
        # Pallets of 4 cases: several close in each batch, so a kill can land in one closing.
        head, sep, rest = text.partition('label_en = "Pallet code"\ncapacity = 20')
        text = head + (sep.replace("capacity = 20", "capacity = 4") + rest if sep else "")
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
        db = Path(s.database_url.removeprefix("sqlite:///"))
        pallet_cap = s.level("pallet").capacity
        n = args.items * batches
        for level, count, scheme in (("inner", n + 60 * batches, "random"),
                                     ("outer", n + 500, "random"),
                                     ("case", n // 20 + 50, "random"),
                                     ("pallet", n // 40 + 20, "sscc")):  # fmt: skip
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
                sim = start_sim(
                    cfg,
                    args.items,
                    args.rate,
                    caps_for(caps, b, args.items),
                    journal,
                    seed=args.seed + b,
                )
                tail = JournalTail(journal, pallet_cap, args.items)
                # Every other batch, one of its kills is `station sync push` mid-send.
                push_kill = per_batch[b] >= 2 and b % 2 == 1
                try:
                    got = run_batch(cfg, batch, per_batch[b] - push_kill, rng, tail, db)
                    left = tail.settle()  # the world hears the last pallet's label
                finally:
                    if sim_killed < sim_kills and b % 3 == 2:
                        sim.kill()  # a power cycle of the machines between two batches
                        sim_killed += 1
                    else:
                        sim.stop()
                pushed = push_killed(cfg, db, batch, rng) if push_kill else None
                if pushed is not None:
                    got["moments"].append(pushed)
                engine = make_engine(s.database_url)
                summary = summarize(engine, batch, journal)
                engine.dispose()
                k = got["kills"]
                by_level = summary.get("voids", {})
                # A kill voids at most the printer's queue of item codes, the case labels
                # printed ahead (LineRunner.LABELS_AHEAD, 2) and a pallet code reserved for
                # the next pallet; the batch end once more (labels printed ahead).
                bound = {s.line.printed_level: depth * (k + 1), "case": 2 * (k + 1),
                         "pallet": k + 1}  # fmt: skip
                row = {"batch": batch, "kills": k + (pushed is not None),
                       "moments": got["moments"], "closed": got["closed"],
                       "plc_items": got["run"].get("plc_items"), "items": summary["items"],
                       "world_mismatches": summary["world_mismatches"],
                       "mismatch_examples": summary["mismatch_examples"],
                       "duplicates": summary["duplicates"], "voids": by_level,
                       "void_bound": bound,
                       "voids_ok": all(n <= bound.get(lv, 0) for lv, n in by_level.items()),
                       "rejected_by_reason": summary["rejected_by_reason"],
                       "world": world_counts(journal), "left_on_line": left}  # fmt: skip
                chk = station(cfg, "check", "--batch", batch, "--json")
                row["check_ok"] = chk.returncode == 0
                results.append(row)
                ok = "ok" if row["check_ok"] else "FAILED"
                say(f"batch {batch}: {row['kills']} kills {got['moments']}, mismatches "
                    f"{row['world_mismatches']}, duplicates {row['duplicates']}, voids "
                    f"{by_level} (bound {bound}), check {ok}")  # fmt: skip
            push = station(cfg, "sync", "push", "--wait", "--timeout", "300", "--json")
            delivered = deliveries(db, receiver_store, [r["batch"] for r in results])
            audit = station(cfg, "audit", "verify", "--json",
                            env={**os.environ, "LINESTATION_USER": ""})  # fmt: skip
        finally:
            receiver.terminate()
            receiver.wait(30)
    ids = [r["batch"] for r in results]
    # Once: each unit (pallet, close) committed once by the receiver, acknowledged once here.
    once = all(delivered[i]["once"] for i in ids)
    result = {
        "bench": "kills",
        "kills": sum(r["kills"] for r in results),
        "sim_kills": sim_killed,
        "batches": len(results),
        "duplicates": sum(r["duplicates"] for r in results),
        "world_mismatches": sum(r["world_mismatches"] for r in results),
        "voids": dict(sum((Counter(r["voids"]) for r in results), Counter())),
        "void_bound": dict(sum((Counter(r["void_bound"]) for r in results), Counter())),
        "every_batch_closed": all(r["closed"] for r in results),
        "every_batch_delivered_once": once,
        "check_ok": all(r["check_ok"] for r in results),
        "audit_ok": audit.returncode == 0,
        "push_rc": push.returncode,
        "moments": dict(Counter(m for r in results for m in r["moments"]).most_common()),
        "delivered": delivered,
        "seconds": round(time.monotonic() - t0, 1),
        "load": load(),
        "per_batch": results,
    }
    result["targets"] = {
        "0_duplicates": result["duplicates"] == 0,
        "0_world_mismatches": result["world_mismatches"] == 0,
        "voids_within_bound_per_kill": all(r["voids_ok"] for r in results),
        "every_batch_closed_and_delivered_once": result["every_batch_closed"] and once,
        "check_and_audit_pass": result["check_ok"] and result["audit_ok"],
    }
    return finish(result)


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    sys.exit(main())
