"""Shared helpers of the plant tests: a plant pool filled in one statement."""

from __future__ import annotations

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
