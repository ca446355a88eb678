"""`station demo --config plant-config.toml`: two lines on one real PostgreSQL; check, status."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest
from plant_helpers import ROOT, last_json, run_station
from sqlalchemy import text

from station.store.db import make_engine


def _station(*args: str, db: str, timeout: float = 300) -> subprocess.CompletedProcess:
    env = {**os.environ, "LINESTATION_DATABASE": db}
    env.pop("LINESTATION_USER", None)
    return run_station(*args, env=env, timeout=timeout)


@pytest.mark.slow
def test_two_lines_run_on_one_postgresql_and_check(pg_url: str, tmp_path: Path) -> None:
    shutil.copy(ROOT / "plant-config.toml", tmp_path / "plant-config.toml")
    shutil.copytree(ROOT / "examples", tmp_path / "examples")
    plant_cfg = str(tmp_path / "plant-config.toml")
    r = _station(
        "demo", "--config", plant_cfg, "--database", pg_url, "--items", "120",
        "--rate", "600", "--defects", "0.1", "--json", db="", timeout=240,
    )  # fmt: skip
    assert r.returncode == 0, r.stderr[-3000:] + r.stdout[-3000:]
    summary = last_json(r.stdout)
    assert [ln["station_id"] for ln in summary["lines"]] == ["LS-PLANT-A", "LS-PLANT-B"]
    for ln in summary["lines"]:
        s = ln["summary"]
        assert ln["rc"] == 0 and s["items"] == 120 and s["printed"] >= 100, ln
        assert s["world_mismatches"] == 0 and s["duplicates"] == 0, ln
    for line in ("line-a", "line-b"):
        r = _station("check", "--config", str(tmp_path / "examples" / f"{line}.toml"), db=pg_url)
        assert r.returncode == 0, r.stdout + r.stderr
        assert r.stdout.count(": OK") == 2  # both lines' batches, on the one plant database
    r = _station("check", "--config", plant_cfg, "--json", db=pg_url)
    assert r.returncode == 0 and last_json(r.stdout)["ok"]
    r = _station(
        "audit", "verify", "--config", str(tmp_path / "examples" / "line-a.toml"), db=pg_url
    )
    assert r.returncode == 0, r.stdout + r.stderr
    r = _station("plant", "status", "--config", plant_cfg, "--json", db=pg_url)
    assert r.returncode == 0, r.stderr
    status = last_json(r.stdout)
    lines = {ln["station_id"]: ln for ln in status["lines"]}
    assert set(lines) == {"LS-PLANT-A", "LS-PLANT-B"}
    for ln in lines.values():
        assert ln["batch_states"] == {"completed": 1} and ln["state"] == "stopped"
        assert ln["rate_per_min"] >= 100 and ln["blocks"] >= 1 and ln["held"]["outer"] > 0
        assert sum(ln["outbox"].values()) == 1
    text_out = _station("plant", "status", "--config", plant_cfg, db=pg_url).stdout
    assert "line LA (LS-PLANT-A)" in text_out and "line LB (LS-PLANT-B)" in text_out
    # No code was used by a line that did not hold it; no code was used by two lines.
    engine = make_engine(pg_url)
    with engine.connect() as conn:
        foreign = conn.execute(
            text(
                "SELECT count(*) FROM codes c JOIN batches b ON b.id = c.batch_id "
                "WHERE c.holder IS DISTINCT FROM b.station_id"
            )
        ).scalar_one()
        assert foreign == 0
        # Items rejected with nothing read name the code the printer used (PostgreSQL path).
        no_read = conn.execute(
            text("SELECT count(code_id), count(*) FROM rejects WHERE reason = 'no_read'")
        ).one()
        assert no_read[1] > 0 and no_read[0] == no_read[1], no_read
        two = conn.execute(
            text(
                "SELECT count(*) FROM (SELECT a.subject FROM audit a JOIN batches b "
                "ON b.id = a.batch_id GROUP BY a.subject "
                "HAVING count(DISTINCT b.station_id) > 1) x"
            )
        ).scalar_one()
        assert two == 0
    engine.dispose()
