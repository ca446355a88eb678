"""10 line processes draw 200,000 codes from one PostgreSQL plant pool while being SIGKILLed.

Afterwards no code was held, reserved or used by two lines (structurally, by the claim blocks
and by the audit trail), and every code is accounted for: verified or void, none left behind.
"""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from plant_helpers import ROOT, fill_pool
from sqlalchemy import text

from station.store import audit
from station.store.db import make_engine

LINES = 10
CODES = 200_000
KILLS = 20
WORKER = Path(__file__).with_name("plant_worker.py")


def _config(tmp_path: Path, sid: str) -> Path:
    path = tmp_path / f"{sid}.toml"
    path.write_text(
        (ROOT / "config.toml").read_text().replace('id = "LS-DEMO-01"', f'id = "{sid}"')
    )
    return path


def _start(url: str, cfg: Path, sid: str, seed: int) -> subprocess.Popen:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.Popen(
        [sys.executable, str(WORKER), url, str(cfg), sid, str(seed)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )


def _one(conn, sql: str) -> int:
    return conn.execute(text(sql)).scalar_one()


@pytest.mark.slow
def test_ten_lines_share_one_pool_under_sigkill(pg_url: str, tmp_path: Path) -> None:
    engine = make_engine(pg_url)
    fill_pool(engine, CODES)
    rng = random.Random(9)
    sids = [f"PL{i:02d}" for i in range(LINES)]
    cfgs = {sid: _config(tmp_path, sid) for sid in sids}
    procs = {sid: _start(pg_url, cfgs[sid], sid, rng.randrange(10**6)) for sid in sids}
    kills, starts, summaries = 0, LINES, []
    deadline = time.monotonic() + 150
    try:
        while procs:
            assert time.monotonic() < deadline, f"lines still running: {sorted(procs)}"
            time.sleep(0.05)
            for sid, p in list(procs.items()):
                if p.poll() is not None:
                    out, err = p.communicate()
                    if p.returncode == -signal.SIGKILL:
                        continue  # restarted below
                    assert p.returncode == 0, f"{sid} failed: {err[-2000:]}"
                    summaries.append(json.loads(out.strip().splitlines()[-1]))
                    del procs[sid]
            # About one kill a second while the pool lasts, each line restarted at once.
            if kills < KILLS and procs and rng.random() < 0.05:
                sid = rng.choice(sorted(procs))
                procs[sid].send_signal(signal.SIGKILL)
                procs[sid].wait(10)
                procs[sid].communicate()
                procs[sid] = _start(pg_url, cfgs[sid], sid, rng.randrange(10**6))
                kills += 1
                starts += 1
    finally:
        for p in procs.values():
            p.kill()
            p.wait(10)
    t_lines = time.monotonic() - (deadline - 150)
    assert kills >= KILLS // 2, "the run ended before the lines were killed often enough"
    with engine.connect() as conn:
        # Every code accounted for: claimed once, then verified or void; nothing left between.
        states = dict(conn.execute(text("SELECT state, count(*) FROM codes GROUP BY state")).all())
        assert sum(states.values()) == CODES
        assert set(states) <= {"verified", "void"}, states
        assert _one(conn, "SELECT count(*) FROM codes WHERE holder IS NULL") == 0
        assert _one(conn, "SELECT coalesce(sum(count), 0) FROM code_blocks") == CODES
        # Structurally: the block a code came from, the line holding it and the batch that used
        # it name the same line.
        assert not _one(
            conn,
            "SELECT count(*) FROM codes c JOIN code_blocks k ON k.id = c.block_id "
            "JOIN batches b ON b.id = c.batch_id "
            "WHERE k.holder <> c.holder OR b.station_id <> c.holder",
        )
        # By the audit: each code reserved exactly once, and only ever touched by one line.
        reserved = _one(
            conn,
            "SELECT count(*) || ' ' || count(DISTINCT subject) FROM audit "
            "WHERE action = 'state' AND new = 'reserved'",
        )
        assert reserved == f"{CODES} {CODES}"
        assert not _one(
            conn,
            "SELECT count(*) FROM (SELECT a.subject FROM audit a JOIN batches b "
            "ON b.id = a.batch_id WHERE a.action = 'state' GROUP BY a.subject "
            "HAVING count(DISTINCT b.station_id) > 1) x",
        )
        assert _one(conn, "SELECT count(*) FROM audit WHERE action = 'block.claim'") == _one(
            conn, "SELECT count(*) FROM code_blocks"
        )
    with engine.connect() as conn:
        checked, brk = audit.verify(conn)  # one chain per line, every chain intact
        assert brk is None and checked > 2 * CODES, (checked, brk)
        assert _one(conn, "SELECT count(DISTINCT chain) FROM audit") == LINES
    # What the lines said they did adds up with what the restarts voided.
    assert len(summaries) == LINES
    print(f"plant test: lines {t_lines:.1f} s, {kills} kills, {starts} starts")
    engine.dispose()
