"""A shift compressed: many batches back to back through the production path, watched for growth.

`station run` against `station sim --world` (two processes, as on a line), batch after batch, the
outbox delivering to a `station receiver` while the next batch runs, QA looking codes up and the
store backed up on a schedule, and the touchscreen open (under Xvfb, when it is installed: the
last `--ui-batches` batches run through `_ui_run.py`) for some of the batches. A run that crashes
is started again, as the service manager would, and the crash is counted with what it said; one
that stopped on a device fault (a trigger ring overrun on a loaded machine) is started again as
an operator would once it is cleared, the fault counted.
Every interval it records, for the station and the simulators' process: RSS, open files and
threads; the store and WAL sizes; the outbox backlog; and the line over the last 10 s as
`station run` notes it (station/line/runnotes.py): decisions, late, starved, trigger → decision
p50/p99/max. Each finished batch adds its own latency, late and starved (items that passed the
printer unprinted, by the world's journal). It ends with `station check`, the comparison of
every link with the world's journal, and a verdict:

- memory flat: while it runs the line, after warm-up (the first quarter of those samples), each
  station process's RSS grows by no more than `--rss-bound-mb` (default 16 MB) plus 5 %; what
  the batch's close adds (sealing its file sets) is reported beside it (`close_growth_mb`);
- latency flat: the last batches' p99 within twice the first ones' plus 20 ms;
- 0 world mismatches, 0 duplicates, 0 crashes, every batch closed and delivered once.

    python bench/soak.py --minutes 10            # the acceptance run
    python bench/soak.py --minutes 96 --rate 6000  # 576,000 items: 8 hours at 1,200/min
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path

from _common import ROOT, finish, load, parser, say, temp_station
from _moments import JournalTail, world_counts
from _procs import STATION, caps_for, deliveries, free_port, last_json, start_sim, station


def _rss(pid: int) -> dict:
    """RSS (MB), open files and threads of a process, or {} when it is gone."""
    import psutil

    try:
        p = psutil.Process(pid)
        with p.oneshot():
            return {"rss_mb": round(p.memory_info().rss / 2**20, 1),
                    "open_files": p.num_fds() if hasattr(p, "num_fds") else len(p.open_files()),
                    "threads": p.num_threads()}  # fmt: skip
    except (psutil.NoSuchProcess, psutil.AccessDenied):
        return {}


def _outbox_backlog(db: Path) -> int:
    import sqlite3

    try:
        with sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=5) as conn:
            return conn.execute(
                "SELECT count(*) FROM outbox WHERE state != 'acknowledged'"
            ).fetchone()[0]
    except sqlite3.Error:
        return -1


def _live(db: Path, batch: str) -> dict:
    """The running batch's figures over its last 10 s window, as `station run` notes them each
    second (station/line/runnotes.py): decisions, late, starved, trigger → decision p50/p99/max."""
    from _moments import store_state

    live = store_state(db, batch).live if batch else None
    if not live:
        return {}
    w = live.get("window") or {}
    return {"state": live.get("state"), "decided": w.get("decided"), "late": w.get("late"),
            "starved": w.get("starved"), "latency_ms": w.get("latency_ms"),
            "run_late": live.get("late"), "run_starved": live.get("starved"),
            "plc_items": live.get("plc_items"), "pid": live.get("pid")}  # fmt: skip


class Watch:
    """Samples the processes and the store every `interval` seconds in a thread."""

    def __init__(self, db: Path, interval: float) -> None:
        self.db, self.interval = db, interval
        self.rows: list[dict] = []
        self.run_pid: int | None = None
        self.sim_pid: int | None = None
        self.batch = ""
        self.life: dict[int, list[float]] = {}  # station pid → its RSS while it runs the line
        self.closing: dict[int, list[float]] = {}  # … while it starts, or closes the batch
        self._stop = threading.Event()
        self._t0 = time.monotonic()
        self._thread = threading.Thread(target=self._loop, name="watch", daemon=True)
        self._thread.start()

    def _loop(self) -> None:
        while not self._stop.wait(self.interval):
            self.sample()

    def sample(self) -> dict:
        """One row of figures now."""
        wal = self.db.with_name(self.db.name + "-wal")
        row = {"t_s": round(time.monotonic() - self._t0), "batch": self.batch,
               "station": _rss(self.run_pid) if self.run_pid else {},
               "sim": _rss(self.sim_pid) if self.sim_pid else {},
               "store_mb": round(self.db.stat().st_size / 2**20, 2) if self.db.exists() else 0,
               "wal_mb": round(wal.stat().st_size / 2**20, 2) if wal.exists() else 0,
               "outbox_backlog": _outbox_backlog(self.db), "line": _live(self.db, self.batch),
               "load": load()}  # fmt: skip
        if self.run_pid and row["station"]:
            line = row["line"]
            running = line.get("state") == "running" and line.get("pid") == self.run_pid
            into = self.life if running else self.closing
            into.setdefault(self.run_pid, []).append(row["station"]["rss_mb"])
        self.rows.append(row)
        line = row["line"]
        say(f"t={row['t_s']:>5}s {self.batch} station {row['station']} sim {row['sim']} "
            f"store {row['store_mb']} MB wal {row['wal_mb']} MB "
            f"backlog {row['outbox_backlog']} last 10 s: {line.get('decided')} decided, "
            f"late {line.get('late')}, starved {line.get('starved')}, "
            f"ms {line.get('latency_ms')}")  # fmt: skip
        return row

    def stop(self) -> None:
        """Stop sampling."""
        self._stop.set()
        self._thread.join(5)


def memory_flat(
    life: dict[int, list[float]], closing: dict[int, list[float]], bound_mb: float
) -> tuple[bool, list[dict]]:
    """Per station process: RSS growth while it runs the line, after warm-up (its first quarter
    of those samples), within the bound. What the batch's close adds (sealing its file sets, a
    one-off at the end of a `station run`) is reported beside it, not judged: 16-27 MB for
    12,000 items in a soak, the sample falling in the close or not."""
    out, ok = [], True
    for pid, samples in life.items():
        if len(samples) < 4:
            continue
        warm = samples[len(samples) // 4]
        grew = max(samples[len(samples) // 4 :]) - warm
        fine = grew <= bound_mb + 0.05 * warm
        ok = ok and fine
        close = max(closing.get(pid, []), default=warm) - warm
        out.append({"pid": pid, "warm_mb": warm, "peak_growth_mb": round(grew, 1), "flat": fine,
                    "close_growth_mb": round(max(close, 0.0), 1)})  # fmt: skip
    return ok, out


def _xvfb() -> tuple[subprocess.Popen | None, str | None]:
    """A private X display for the touchscreen's batches, when Xvfb is installed."""
    exe = shutil.which("Xvfb")
    if exe is None:
        return None, None
    read, write = os.pipe()
    proc = subprocess.Popen([exe, "-displayfd", str(write), "-screen", "0", "1280x800x24"],
                            pass_fds=(write,), stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)  # fmt: skip
    os.close(write)
    with os.fdopen(read) as f:
        number = f.readline().strip()
    return proc, f":{number}" if number else None


def main(argv: list[str] | None = None) -> int:
    """Run the soak and print its JSON line."""
    ap = parser(__doc__)
    ap.add_argument("--minutes", type=float, default=10.0, help="length of the run")
    ap.add_argument("--rate", type=int, default=6000, help="items per minute")
    ap.add_argument("--batches", type=int, default=0, help="batches (default: one per 2 min)")
    ap.add_argument("--interval", type=float, default=0, help="seconds between samples")
    ap.add_argument("--ui-batches", type=int, default=1, help="batches run with the touchscreen")
    ap.add_argument("--rss-bound-mb", type=float, default=16.0)
    ap.add_argument("--keep", action="store_true", help="keep the station folder (store, logs)")
    args = ap.parse_args(argv)
    if args.quick:
        args.minutes = min(args.minutes, 3)
    total = int(args.minutes * args.rate)
    batches = args.batches or max(2, int(args.minutes // 2))
    per = total // batches
    interval = args.interval or max(10.0, args.minutes * 60 / 60)
    from station.build import on_free_ports
    from station.config import load_settings
    from station.sim.demo import summarize
    from station.store.db import make_engine

    results: list[dict] = []
    t0 = time.monotonic()
    with temp_station("ls-soak-", keep=args.keep) as tmp:
        cfg = tmp / "config.toml"
        port = free_port()
        text = on_free_ports(cfg.read_text(encoding="utf-8")).split("[upstream]")[0]
        text += (f'[upstream]\nurl = "http://127.0.0.1:{port}"\ntransport = "epcis-capture"\n'
                 'formats = ["epcis-jsonld", "csv"]\n')  # fmt: skip
        cfg.write_text(text, encoding="utf-8")
        s = load_settings(cfg)
        db = Path(s.database_url.removeprefix("sqlite:///"))
        receiver = subprocess.Popen(
            [STATION, "--config", str(cfg), "receiver", "--port", str(port),
             "--store", str(tmp / "received")],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        for level, count, scheme in (("inner", total + 60 * batches, "random"),
                                     ("outer", total + 500, "random"),
                                     ("case", total // 20 + 100, "random"),
                                     ("pallet", total // 400 + 40, "sscc")):  # fmt: skip
            r = station(cfg, "codes", "generate", "--level", level, "--count", str(count),
                        "--scheme", scheme, timeout=1800)  # fmt: skip
            if r.returncode:
                raise RuntimeError(r.stderr)
        caps = tmp / "caps.txt"
        station(cfg, "codes", "export", "--level", "inner", "--out", str(caps), timeout=600)
        xvfb, display = _xvfb() if args.ui_batches else (None, None)
        watch = Watch(db, interval)
        senders: list[subprocess.Popen] = []
        try:
            for b in range(batches):
                r = station(cfg, "batch", "create", "--product", s.products[0].sku, "--lot",
                            f"S{b:03d}", "--quantity", str(per), "--json")  # fmt: skip
                batch = last_json(r.stdout)["id"]
                journal = tmp / f"world-{b}.jsonl"
                sim = start_sim(cfg, per, args.rate, caps_for(caps, b, per), journal, seed=100 + b)
                ui = display is not None and b >= batches - args.ui_batches
                env = {**os.environ}
                env.pop("QT_QPA_PLATFORM", None)
                if ui:
                    env["DISPLAY"] = display
                cmd = [STATION, "--config", str(cfg), "run", "--headless", "--batch", batch,
                       "--json"]  # fmt: skip
                if ui:  # `station run` with the touchscreen, the batch started as Start does
                    cmd = [sys.executable, str(Path(__file__).with_name("_ui_run.py")), str(cfg),
                           batch]  # fmt: skip
                busy = threading.Event()
                busy.set()
                # QA and IT on a schedule while the line runs: a code looked up, a backup taken.
                qa = threading.Thread(target=_office, args=(cfg, busy, interval), daemon=True)
                qa.start()
                out, crashes, faults, exits = "", [], [], []
                # A run that crashed is started again, as systemd would; one that stopped on a
                # fault too, as the operator (or `station serve`) would once it is cleared.
                for attempt in range(10):
                    err_path = tmp / f"run-{b}-{attempt}.err"
                    with err_path.open("w") as err:
                        run = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=err, text=True,
                                               env=env)  # fmt: skip
                        watch.batch, watch.run_pid, watch.sim_pid = batch, run.pid, sim.proc.pid
                        try:
                            out, _ = run.communicate(timeout=max(600, per / args.rate * 60 * 4))
                        except subprocess.TimeoutExpired:  # recorded as not closed
                            run.kill()
                            out, _ = run.communicate()
                    exits.append(run.returncode)
                    said = last_json(out)
                    if said.get("fault"):  # a device fault ended it (exit 1): said, resumable
                        faults.append(str(said["fault"])[:300])
                        continue
                    if said:
                        break  # its summary: closed, or stopped
                    crashes.append(_crash_said(err_path.read_text(errors="replace")))
                busy.clear()
                left = JournalTail(journal, s.level("pallet").capacity, per).settle()
                sim.stop()
                got = last_json(out)
                summary = summarize(make_engine(s.database_url), batch, journal)
                chk = station(cfg, "check", "--batch", batch, "--json", timeout=600)
                row = {"batch": batch, "ui": ui, "items": per, "closed": bool(got.get("closed")),
                       "latency_ms": got.get("latency_ms", {}), "late": got.get("late"),
                       "starved": world_counts(journal)["unprinted"],
                       "world_mismatches": summary["world_mismatches"],
                       "duplicates": summary["duplicates"],
                       "plc_items": got.get("plc_items"), "left_on_line": left,
                       "exits": exits, "crashes": crashes, "faults": faults,
                       "check_ok": chk.returncode == 0}  # fmt: skip
                results.append(row)
                say(f"batch {batch}: {row}")
                # The outbox delivers while the next batch runs, as `station serve`'s sender does.
                senders.append(
                    subprocess.Popen(
                        [
                            STATION,
                            "--config",
                            str(cfg),
                            "sync",
                            "push",
                            batch,
                            "--wait",
                            "--timeout",
                            "600",
                            "--json",
                        ],
                        stdout=subprocess.DEVNULL,
                        stderr=subprocess.DEVNULL,
                    )
                )
            for sender in senders:
                sender.wait(900)
            push = station(cfg, "sync", "push", "--wait", "--timeout", "600", "--json",
                           timeout=900)  # fmt: skip
            watch.sample()
        finally:
            for sender in senders:
                if sender.poll() is None:
                    sender.kill()
                    sender.wait(30)
            watch.stop()
            receiver.terminate()
            receiver.wait(30)
            if xvfb is not None:
                xvfb.terminate()
        delivered = deliveries(db, tmp / "received", [r["batch"] for r in results])
    flat, per_process = memory_flat(watch.life, watch.closing, args.rss_bound_mb)
    p99 = [r["latency_ms"].get("p99") or 0 for r in results]
    head, tail = p99[: max(1, len(p99) // 3)], p99[-max(1, len(p99) // 3) :]
    latency_flat = max(tail) <= 2 * max(head) + 20
    once = all(delivered[r["batch"]]["once"] for r in results)
    result = {
        "bench": "soak", "minutes": args.minutes, "rate_per_min": args.rate,
        "items": per * len(results), "batches": len(results), "intervals": watch.rows,
        "per_batch": results, "station_processes": per_process,
        "memory_flat": flat, "latency_flat": latency_flat,
        "world_mismatches": sum(r["world_mismatches"] for r in results),
        "duplicates": sum(r["duplicates"] for r in results),
        "late": sum(r["late"] or 0 for r in results),
        "starved": sum(r["starved"] for r in results),
        "every_batch_delivered_once": once and push.returncode == 0, "delivered": delivered,
        "check_ok": all(r["check_ok"] for r in results),
        "crashes": sum(len(r["crashes"]) for r in results),
        "faults": sum(len(r["faults"]) for r in results),
        "seconds": round(time.monotonic() - t0, 1),
    }  # fmt: skip
    result["targets"] = {
        "memory_flat": flat, "latency_flat": latency_flat,
        "0_world_mismatches": result["world_mismatches"] == 0,
        "0_duplicates": result["duplicates"] == 0,
        "every_batch_closed_and_delivered_once": all(r["closed"] for r in results) and once,
        "check_ok": result["check_ok"], "0_crashes": result["crashes"] == 0,
    }  # fmt: skip
    return finish(result)


def _office(cfg: Path, busy: threading.Event, interval: float) -> None:
    """QA and IT while the line runs: look a code up, take a backup; every few intervals."""
    while busy.is_set():
        time.sleep(interval * 3)
        if not busy.is_set():
            return
        station(cfg, "qa", "rejects", "--json", timeout=120)
        station(cfg, "backup", "--json", timeout=600)


def _crash_said(stderr: str) -> str:
    """The line a crashed run's stderr names its end by (a fatal error, the last exception)."""
    lines = [ln.strip() for ln in stderr.splitlines() if ln.strip()]
    said = [ln for ln in lines if ln.startswith("Fatal Python error") or "Error" in ln[:40]]
    return (said or lines or ["(nothing on stderr)"])[0][:300]


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    sys.exit(main())
