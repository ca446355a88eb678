"""Pallet numbers from `[line] pallet_number` (issue 16 point 3): the pattern is checked at load,
the counter starts again each day, a number already in the store is skipped, and a power cut
between the counter's commit and the number's use skips that number for good."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
from datetime import datetime
from pathlib import Path

import pytest
from sqlalchemy import insert, select

from station.codes import pallet_number
from station.config import load_settings
from station.errors import ConfigError
from station.store import batches
from station.store.db import make_engine
from station.store.models import AuditEntry, Code, Link

ROOT = Path(__file__).resolve().parents[3]
_codes, _audit, _links = Code.__table__, AuditEntry.__table__, Link.__table__
DAY1, DAY2 = datetime(2026, 12, 7, 23, 59), datetime(2026, 12, 8, 0, 1)


def _configure(station_dir: Path, pattern: str, line: str = "A") -> Path:
    cfg = station_dir / "config.toml"
    text = cfg.read_text(encoding="utf-8").replace('line = "L1"', f'line = "{line}"')
    text = text.replace("capacity = 24", "capacity = 6").replace("capacity = 20", "capacity = 4")
    text = text.replace("[line]\n", f'[line]\npallet_number = "{pattern}"\n')
    cfg.write_text(text, encoding="utf-8")
    return cfg


@pytest.mark.parametrize(
    ("pattern", "said"),
    [
        ("V{date:%Y%m%d}", "needs {seq} exactly once"),
        ("V{seq}{seq}", "needs {seq} exactly once"),
        ("V{lot}{seq}", "unknown field {lot}"),
        ("V {seq:04d}", "cannot be in a code"),
        ("V{seq:%Y}", "V{seq:%Y}"),
    ],
)
def test_a_bad_pattern_is_refused_at_load_naming_the_key(station_dir, pattern, said) -> None:
    cfg = _configure(station_dir, pattern)
    with pytest.raises(ConfigError) as err:
        load_settings(cfg)
    assert "line.pallet_number" in str(err.value) and said in str(err.value)


def test_numbers_count_per_day_and_skip_one_already_in_the_store(station_dir: Path) -> None:
    s = load_settings(_configure(station_dir, "V{date:%Y%m%d}{seq:04d}{line}"))
    engine = make_engine(s.database_url)
    b = batches.create(engine, s, product="WATER-550", lot="N1", quantity=10, user="t")
    with engine.begin() as conn:  # a number the counter does not know of (an old backup's)
        conn.execute(insert(_codes).values(code="V202612070003A", level="pallet", state="void"))
    got = [pallet_number.issue(engine, s, b.id, user="t", when=DAY1)[1] for _ in range(3)]
    got += [pallet_number.issue(engine, s, b.id, user="t", when=DAY2)[1] for _ in range(2)]
    assert got == [
        "V202612070001A",
        "V202612070002A",
        "V202612070004A",  # 0003 is taken: skipped, never issued twice
        "V202612080001A",  # a new day counts from 1
        "V202612080002A",
    ]
    with engine.connect() as conn:
        rows = conn.execute(
            select(_codes.c.code, _codes.c.state, _codes.c.batch_id).where(_codes.c.code.in_(got))
        ).all()
        trail = conn.execute(
            select(_audit.c.subject, _audit.c.new).where(_audit.c.action == "pallet.number")
        ).all()
    assert {(c, st, bid) for c, st, bid in rows} == {(c, "reserved", b.id) for c in got}
    assert [t.subject for t in trail] == got
    engine.dispose()


ISSUE_AND_DIE = """
import os, signal, sys
from station.codes.pallet_number import issue
from station.config import load_settings
from station.store.db import make_engine
s = load_settings(sys.argv[1])
print(issue(make_engine(s.database_url), s, sys.argv[2], user="t")[1], flush=True)
os.kill(os.getpid(), signal.SIGKILL)  # the power cut: after the commit, before any label
"""


def test_a_power_cut_after_the_counter_commit_skips_that_number_for_good(
    station_dir: Path, demo_batch
) -> None:
    _configure(station_dir, "P{seq:05d}{line}")
    line = demo_batch(items=60, rate=1200, defects=0.0, seed=2, lot="CUT1")
    cut = subprocess.run(
        [sys.executable, "-c", ISSUE_AND_DIE, str(station_dir / "config.toml"), line.batch_id],
        capture_output=True, text=True, timeout=120, env={**os.environ, "PYTHONPATH": str(ROOT)},
    )  # fmt: skip
    assert cut.returncode == -signal.SIGKILL, cut.stderr[-2000:]
    assert cut.stdout.strip() == "P00001A"
    summary = line.run()  # the line starts again: the number that may have left is void
    assert summary["world_mismatches"] == 0, summary.get("mismatch_examples")
    with line.engine.connect() as conn:
        pallets = dict(
            conn.execute(
                select(_codes.c.code, _codes.c.state).where(_codes.c.level == "pallet",
                                                            _codes.c.batch_id == line.batch_id)
            ).all()
        )  # fmt: skip
        linked = set(
            conn.execute(
                select(_codes.c.code).join(_links, _links.c.parent_id == _codes.c.id)
            ).scalars()
        )
        numbers = list(
            conn.execute(
                select(_audit.c.subject).where(_audit.c.action == "pallet.number")
            ).scalars()
        )
    assert pallets.pop("P00001A") == "void"
    assert "P00001A" not in linked
    used = sorted(pallets)
    assert used == [f"P{n:05d}A" for n in range(2, 2 + len(used))]  # never P00001A again
    assert set(used) <= linked and len(used) == 3  # 10 cases of 6: 4 + 4 + 2
    assert len(numbers) == len(set(numbers)) == len(used) + 1
    assert all(re.fullmatch(r"P\d{5}A", n) for n in numbers)
