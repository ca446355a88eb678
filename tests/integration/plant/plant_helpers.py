"""Shared helpers of the plant tests: a plant pool filled in one statement, `station` runs."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

from sqlalchemy import Engine, text

ROOT = Path(__file__).resolve().parents[3]


def fill_pool(engine: Engine, n: int, level: str = "outer", prefix: str = "P") -> int:
    """Insert `n` available codes of `level` as one generated pool; returns the pool id."""
    with engine.begin() as conn:
        pool = conn.execute(
            text(
                "INSERT INTO pools (level, source, scheme, count, pairs, created_at, created_by) "
                "VALUES (:lv, 'generated', 'random', :n, false, now(), 'test') RETURNING id"
            ),
            {"lv": level, "n": n},
        ).scalar_one()
        conn.execute(
            text(
                "INSERT INTO codes (code, level, state, pool_id) "
                "SELECT :p || lpad(g::text, 9, '0'), :lv, 'available', :pool "
                "FROM generate_series(1, :n) g"
            ),
            {"p": prefix, "lv": level, "pool": pool, "n": n},
        )
    return pool


def run_station(*args: str, env: dict[str, str], timeout: float) -> subprocess.CompletedProcess:
    """`station ARGS` in its own session: on a timeout its line processes die with it."""
    p = subprocess.Popen(
        [str(Path(sys.executable).with_name("station")), *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
        start_new_session=True,
    )
    try:
        out, err = p.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(p.pid, signal.SIGKILL)
        out, err = p.communicate()
    return subprocess.CompletedProcess(p.args, p.returncode, out, err)


def last_json(out: str) -> dict:
    """The JSON object on the last line of a command's output."""
    return json.loads(out.strip().splitlines()[-1])
