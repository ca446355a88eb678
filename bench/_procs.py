"""Processes the line benchmarks start: `station …` commands, the simulators' process, a port."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

STATION = str(Path(sys.executable).with_name("station"))


def station(cfg: Path, *args: str, timeout: float = 300, env: dict | None = None):
    """One `station …` command to completion."""
    return subprocess.run(
        [STATION, "--config", str(cfg), *args],
        capture_output=True, text=True, timeout=timeout, env=env,
    )  # fmt: skip


def last_json(text: str) -> dict:
    """The JSON object on the last line of stdout."""
    lines = [ln for ln in text.strip().splitlines() if ln.startswith("{")]
    return json.loads(lines[-1]) if lines else {}


class SimStartFailed(RuntimeError):
    """`station sim` ended before it said its simulators were up (what it said is the text)."""


def start_sim(cfg: Path, items: int, rate: int, caps: Path, journal: Path, seed: int) -> Sim:
    """A Sim; when another program took one of its ports meanwhile (the machine is shared),
    the devices move to other free ports and it starts again (at most three times)."""
    for attempt in range(3):
        try:
            return Sim(cfg, items, rate, caps, journal, seed)
        except SimStartFailed as exc:
            if "in use" not in str(exc) or attempt == 2:
                raise
            repick_ports(cfg)
    raise AssertionError("unreachable")


def repick_ports(cfg: Path) -> None:
    """Every loopback port of the devices (above [upstream], whose receiver keeps running) moved
    to a port free now."""
    import re

    text = cfg.read_text(encoding="utf-8")
    head, sep, tail = text.partition("[upstream]")
    ports = sorted(set(re.findall(r"127\.0\.0\.1:(\d+)", head)))
    new = {old: str(free_port()) for old in ports}
    head = re.sub(r"127\.0\.0\.1:(\d+)", lambda m: "127.0.0.1:" + new[m.group(1)], head)
    cfg.write_text(head + sep + tail, encoding="utf-8")


class Sim:
    """`station sim --world` in its own process, logging to a file nobody has to read."""

    def __init__(self, cfg: Path, items: int, rate: int, caps: Path, journal: Path, seed: int):
        self.log = (cfg.parent / f"sim-{seed}.log").open("w")
        self.proc = subprocess.Popen(
            [STATION, "--config", str(cfg), "sim", "--world", str(items), "--rate", str(rate),
             "--defects", "0.03", "--seed", str(seed), "--caps", str(caps),
             "--journal", str(journal)],
            stdout=subprocess.PIPE, stderr=self.log, text=True,
        )  # fmt: skip
        deadline = time.monotonic() + 60
        up = False
        while time.monotonic() < deadline:
            line = self.proc.stdout.readline() if self.proc.stdout else ""
            up = "simulators up" in line
            if up or not line:
                break
        if not up:  # it ended (a port taken by another program), or never said it was up
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
            self.close()
            said = Path(self.log.name).read_text(errors="replace").strip().splitlines()
            raise SimStartFailed(f"station sim did not start: {said[-1] if said else '?'}")

    def kill(self) -> None:
        """SIGKILL, as a power cut of the machines would."""
        self.proc.kill()
        self.close()

    def stop(self) -> None:
        """SIGTERM and wait."""
        self.proc.terminate()
        try:
            self.proc.wait(30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
        self.close()

    def close(self) -> None:
        self.proc.wait(30)
        if self.proc.stdout:
            self.proc.stdout.close()
        self.log.close()


def caps_for(caps: Path, batch_no: int, items: int) -> Path:
    """The cap maker's file for one batch: its own slice of the exported inner codes (every
    batch's world put the file's first caps on its items, so the second batch's items all came
    with caps the first had used: 3,306 of 9,000 rejected as duplicates in a soak)."""
    lines = caps.read_text(encoding="utf-8").splitlines()
    take = lines[batch_no * (items + 50) : (batch_no + 1) * (items + 50)]
    if len(take) < items:
        raise RuntimeError(f"{caps}: too few inner codes for batch {batch_no + 1}")
    out = caps.with_name(f"caps-{batch_no}.txt")
    out.write_text("\n".join(take) + "\n", encoding="utf-8")
    return out


def free_port() -> int:
    """A loopback TCP port free right now."""
    import socket

    with socket.socket() as sk:
        sk.bind(("127.0.0.1", 0))
        return sk.getsockname()[1]


def delivered_batches(store: Path) -> dict[str, int]:
    """Batch id → how many times the receiver committed it (its folders, hidden ones aside)."""
    counts: dict[str, int] = {}
    if store.is_dir():
        for p in store.iterdir():
            if p.is_dir() and not p.name.startswith("."):
                counts[p.name] = counts.get(p.name, 0) + 1
    return counts


def deliveries(db: Path, received: Path, batches: list[str]) -> dict[str, dict]:
    """Per batch, what went upstream: its units (the pallets' and the close, each an outbox
    entry), how many are acknowledged, the most acknowledgements the station recorded for one
    unit (audit `sync.ack`), and the most copies the receiver committed of one unit; `once` when
    every unit went exactly once."""
    import sqlite3

    got = delivered_batches(received)
    out: dict[str, dict] = {}
    with sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=30) as conn:
        for b in batches:
            units = dict(conn.execute(
                "SELECT batch_id, state FROM outbox WHERE batch_id = ? OR chain = ?", (b, b)
            ).fetchall())  # fmt: skip
            acks = dict(conn.execute(
                "SELECT subject, count(*) FROM audit WHERE action = 'sync.ack' AND batch_id = ? "
                "GROUP BY subject", (b,)
            ).fetchall())  # fmt: skip
            row = {
                "units": len(units),
                "acknowledged": sum(s == "acknowledged" for s in units.values()),
                "acks_per_unit_max": max(acks.values(), default=0),
                "received_per_unit_max": max((got.get(u, 0) for u in units), default=0),
            }
            row["once"] = bool(units) and all(
                s == "acknowledged" and acks.get(u) == 1 and got.get(u) == 1
                for u, s in units.items()
            )  # fmt: skip
            out[b] = row
    return out
