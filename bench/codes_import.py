"""Importing a 1,000,000-line code file with `station codes import`, against SQLite's own floor.

The floor is the sqlite3 shell's `.import` of the same file into a one-column table with a unique
index, with the station's journal settings (WAL, synchronous=FULL); without the sqlite3 shell
(Debian package sqlite3) the floor is Python's sqlite3 executemany, and the output says so.
The station runs as a subprocess on a fresh temporary store (migrated beforehand, so the timed
command is the import alone). Also: a file with line 1 repeated at line 500,000 must import
nothing and name line 500000; `station codes generate --count 1000000` on the same insert path.
"""

from __future__ import annotations

import json
import resource
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import finish, load, parser, say, temp_station

from station.codes.generate import random_serials

ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
TARGET_S = 10.0
TARGET_X_FLOOR = 3.0
STATION = Path(sys.executable).with_name("station")


def child_cpu() -> float:
    """CPU seconds (user + system) used so far by finished child processes."""
    ru = resource.getrusage(resource.RUSAGE_CHILDREN)
    return ru.ru_utime + ru.ru_stime


def station(cfg: Path, *args: str) -> tuple[subprocess.CompletedProcess, float]:
    """Run `station --config cfg ...`; the result and its wall time."""
    t0 = time.perf_counter()
    r = subprocess.run(
        [str(STATION), "--config", str(cfg), *args], capture_output=True, text=True, timeout=600
    )
    return r, time.perf_counter() - t0


def floor(path: Path, work: Path) -> tuple[float, str]:
    """Seconds for SQLite alone to load `path` under a unique index; and how it was measured."""
    db = work / "floor.db"
    setup = (
        "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;"
        "CREATE TABLE codes (code TEXT NOT NULL); CREATE UNIQUE INDEX ux_code ON codes (code);"
    )
    cli = shutil.which("sqlite3")
    if cli:
        t0 = time.perf_counter()
        r = subprocess.run(
            [cli, str(db), setup, f".import {path} codes"], capture_output=True, text=True
        )
        dt = time.perf_counter() - t0
        if r.returncode != 0:
            raise RuntimeError(f"sqlite3 .import failed: {r.stderr.strip()}")
        return dt, "sqlite3 shell .import"
    with path.open() as fh:
        rows = [(line.rstrip("\n"),) for line in fh]
    t0 = time.perf_counter()
    conn = sqlite3.connect(db, isolation_level=None)
    conn.executescript(setup)
    conn.execute("BEGIN")
    conn.executemany("INSERT INTO codes VALUES (?)", rows)
    conn.execute("COMMIT")
    conn.close()
    return time.perf_counter() - t0, "python sqlite3 executemany (no sqlite3 shell)"


def total_codes(cfg: Path) -> int:
    """Codes in the store of station `cfg`."""
    r, _ = station(cfg, "codes", "stats", "--json")
    return json.loads(r.stdout.strip().splitlines()[-1])["total"]


def main(argv: list[str] | None = None) -> int:
    """Floor, import, duplicate case, generate; figures as they come and one JSON line."""
    args = parser(__doc__).parse_args(argv)
    n = 200_000 if args.quick else 1_000_000
    dup_line = n // 2
    out: dict = {"bench": "codes_import", "quick": args.quick, "lines": n}
    work = Path(tempfile.mkdtemp(prefix="ls-bench-import-"))
    try:
        codes = random_serials(ALPHABET, 16, n)
        path = work / "codes.txt"
        path.write_text("\n".join(codes) + "\n", encoding="ascii")
        say(f"file         {n:,} random 16-character codes, {path.stat().st_size / 2**20:.1f} MB")

        c0 = child_cpu()
        floor_s, how = floor(path, work)
        floor_cpu = child_cpu() - c0
        out.update(
            floor_s=round(floor_s, 2),
            floor_cpu_s=round(floor_cpu, 2),
            floor_how=how,
            floor_load=load(),
        )
        say(
            f"floor        {floor_s:6.2f} s  cpu {floor_cpu:5.2f} s  "
            f"({how}, WAL, synchronous=FULL)  load {load()}"
        )

        with temp_station() as st:
            cfg = st / "config.toml"
            station(cfg, "codes", "stats")  # creates and migrates the store
            _, startup = station(cfg, "codes", "stats")  # a command's fixed cost (imports, checks)
            c0 = child_cpu()
            r, wall = station(cfg, "codes", "import", str(path), "--level", "outer", "--json")
            cpu = child_cpu() - c0
            if r.returncode != 0:
                raise RuntimeError(f"import failed: {r.stderr.strip()}")
            inner = json.loads(r.stdout.strip().splitlines()[-1])["seconds"]
            stored = total_codes(cfg)
        out.update(
            import_s=round(wall, 2),
            import_command_s=inner,
            import_cpu_s=round(cpu, 2),
            import_load=load(),
            startup_s=round(startup, 2),
            x_floor=round(wall / floor_s, 2),
            stored=stored,
        )
        say(
            f"import       {wall:6.2f} s  cpu {cpu:5.2f} s  "
            f"(command's own {inner:.2f} s: parse + insert + commit; {wall / floor_s:.2f}x floor;"
            f" {stored:,} stored; a bare command {startup:.2f} s)  "
            f"load {load()}"
        )

        codes[dup_line - 1] = codes[0]
        dpath = work / "dup.txt"
        dpath.write_text("\n".join(codes) + "\n", encoding="ascii")
        with temp_station() as st:
            cfg = st / "config.toml"
            station(cfg, "codes", "stats")
            r, dwall = station(cfg, "codes", "import", str(dpath), "--level", "outer")
            left = total_codes(cfg)
        message = r.stderr.strip()
        named = f"line {dup_line}: duplicate of line 1" in message
        out.update(
            duplicate_s=round(dwall, 2),
            duplicate_rc=r.returncode,
            duplicate_stored=left,
            duplicate_named=named,
        )
        say(f"duplicate    {dwall:6.2f} s  exit {r.returncode}, {left} codes stored; it said:")
        for line in message.splitlines()[:3]:
            say(f"               {line}")

        with temp_station() as st:
            cfg = st / "config.toml"
            station(cfg, "codes", "stats")
            r, gwall = station(cfg, "codes", "generate", "--level", "outer", "--count", str(n))
            if r.returncode != 0:
                raise RuntimeError(f"generate failed: {r.stderr.strip()}")
        out.update(generate_s=round(gwall, 2), generate_load=load())
        say(f"generate     {gwall:6.2f} s  ({n:,} random codes)  load {load()}")
    finally:
        shutil.rmtree(work, ignore_errors=True)
    if args.quick:  # a fifth of the file: targets scaled, the command's fixed start-up left out
        net = out["import_s"] - out["startup_s"]
        speed = {
            f"seconds<={TARGET_S * n / 1e6:g}+startup": net <= TARGET_S * n / 1e6,
            "<=3x_floor": net / out["floor_s"] <= TARGET_X_FLOOR,
        }
    else:
        speed = {
            f"seconds<={TARGET_S:g}": out["import_s"] <= TARGET_S,
            "<=3x_floor": out["x_floor"] <= TARGET_X_FLOOR,
        }
    out["targets"] = {
        **speed,
        "all_stored": out["stored"] == n,
        "duplicate_imports_nothing_and_names_line": named
        and left == 0
        and out["duplicate_rc"] != 0,
    }
    return finish(out)


if __name__ == "__main__":
    sys.exit(main())
