"""Acceptance of issue 16 point 3, every step its own process (as on a line PC):

`station demo` runs a batch; `station pallet hold` parks the open pallet (the running line's
runner does it); the demo is killed (a power cut) and `station demo --resume` carries on, the
held pallet staying held; a NEW process `station pallet resume CASE` brings it back by one of
its cases, and the batch completes with that pallet filled to its capacity. `station check`
passes, the world agrees with every link, and no pallet number appears twice in the store.
Pallet numbers come from `[line] pallet_number`; pallets hold 5 cases of 6 items.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

from sqlalchemy import func, select

from station.config import load_settings
from station.qa import pallets
from station.store.db import make_engine, read_engine
from station.store.models import AuditEntry, Code

ROOT = Path(__file__).resolve().parents[3]
STATION = str(Path(sys.executable).with_name("station"))
ENV = {**os.environ, "PYTHONPATH": str(ROOT)}  # this checkout's station, not the installed one
PATTERN = "V{date:%Y%m%d}{seq:04d}{line}"
NUMBER = re.compile(r"V\d{8}\d{4}A")
CAP = 5
_codes, _audit = Code.__table__, AuditEntry.__table__


def _station(cfg: Path, *args: str, timeout: float = 120) -> subprocess.CompletedProcess:
    return subprocess.run([STATION, "--config", str(cfg), *args], capture_output=True,
                          text=True, timeout=timeout, env=ENV)  # fmt: skip


def _demo(cfg: Path, log, *extra: str) -> subprocess.Popen:
    return subprocess.Popen(
        [STATION, "--config", str(cfg), "demo", "--items", "180", "--rate", "300",
         "--defects", "0", "--seed", "5", "--json", *extra],
        stdout=subprocess.PIPE, stderr=log, text=True, env=ENV,
    )  # fmt: skip


def _last_json(text: str) -> dict:
    return json.loads(text.strip().splitlines()[-1])


class Store:
    """The test's read-only look at the store the processes share."""

    def __init__(self, cfg: Path) -> None:
        self.settings = load_settings(cfg)
        self.engine = make_engine(self.settings.database_url)
        self.read = read_engine(self.engine)

    def pallets(self, status: str) -> list[pallets.PalletView]:
        with self.read.connect() as conn:
            return pallets.listing(conn, self.settings, statuses=(status,))

    def wait_open(self, cases: int, not_: set[str], proc: subprocess.Popen) -> str:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            assert proc.poll() is None, "the demo ended early"
            for p in self.pallets("open"):
                if p.cases >= cases and p.code not in not_:
                    return p.code
            time.sleep(0.05)
        raise AssertionError(f"no open pallet with {cases} cases")

    def links(self) -> int:
        with self.read.connect() as conn:
            return conn.execute(
                select(func.count()).where(
                    _codes.c.level == "case", _codes.c.parent_id.is_not(None)
                )
            ).scalar_one()

    def cases_of(self, pallet: str) -> list[str]:
        with self.read.connect() as conn:
            pid = conn.execute(select(_codes.c.id).where(_codes.c.code == pallet)).scalar_one()
            return list(
                conn.execute(select(_codes.c.code).where(_codes.c.parent_id == pid)).scalars()
            )

    def row(self, code: str):
        with self.read.connect() as conn:
            return conn.execute(select(_codes).where(_codes.c.code == code)).one()


def test_hold_power_cut_resume_by_a_case_from_a_new_process(station_dir: Path) -> None:
    cfg = station_dir / "config.toml"
    text = cfg.read_text(encoding="utf-8").replace('line = "L1"', 'line = "A"')
    text = text.replace("capacity = 24", "capacity = 6").replace(
        "capacity = 20", f"capacity = {CAP}"
    )
    cfg.write_text(text.replace("[line]\n", f'[line]\npallet_number = "{PATTERN}"\n'))
    logs = [(station_dir / f"demo{i}.log").open("w") for i in (1, 2)]
    store = None
    demo = _demo(cfg, logs[0])
    again = None
    try:
        assert _station(cfg, "config", "check").returncode == 0
        store = Store(cfg)
        held = store.wait_open(2, set(), demo)
        r = _station(cfg, "pallet", "hold", "--json")
        assert r.returncode == 0, r.stdout[-2000:] + r.stderr[-2000:]
        assert (_last_json(r.stdout)["pallet"], _last_json(r.stdout)["via"]) == (held, "line")
        store.wait_open(1, {held}, demo)  # the line went on with another pallet
        demo.send_signal(signal.SIGKILL)  # the power cut
        demo.communicate(timeout=30)
        again = _demo(cfg, logs[1], "--resume")
        # The restarted line packs on; the held pallet stays held (only open ones reopen).
        before = store.links()
        deadline = time.monotonic() + 120
        while store.links() <= before:
            assert again.poll() is None and time.monotonic() < deadline, "the line did not restart"
            time.sleep(0.05)
        assert [p.code for p in store.pallets("held")] == [held]
        case = store.cases_of(held)[0]
        r = _station(cfg, "pallet", "resume", case, "--json")  # a NEW process, by a case code
        assert r.returncode == 0, r.stdout[-2000:] + r.stderr[-2000:]
        got = _last_json(r.stdout)
        assert (got["pallet"], got["via"], got["status"]) == (held, "line", "open")
        # the pallet open at that moment (`other`, or one after it) is held in its place
        out, _ = again.communicate(timeout=300)
    finally:
        for p in (demo, again):
            if p is not None and p.poll() is None:
                p.kill()
                p.communicate(timeout=30)
        for log in logs:
            log.close()
    assert again.returncode == 0, out[-3000:] + (station_dir / "demo2.log").read_text()[-3000:]
    summary = _last_json(out)
    assert summary["world_mismatches"] == 0, summary["mismatch_examples"]
    assert summary["duplicates"] == 0
    assert summary["items"] == 180
    p = store.row(held)
    assert (p.container_status, p.child_count) == ("normal", CAP)  # filled to its capacity
    assert len(store.cases_of(held)) == CAP
    check = _station(cfg, "check", "--json")
    assert check.returncode == 0 and _last_json(check.stdout)["ok"] is True, check.stdout[-2000:]
    with store.read.connect() as conn:
        mine = select(_codes.c.code).where(
            _codes.c.level == "pallet", _codes.c.batch_id.is_not(None)
        )
        codes = list(conn.execute(mine).scalars())
        issued = list(
            conn.execute(
                select(_audit.c.subject).where(_audit.c.action == "pallet.number")
            ).scalars()
        )
    numbered = [c for c in codes if NUMBER.fullmatch(c)]
    assert numbered and len(numbered) == len(set(numbered)) == len(codes)
    assert sorted(issued) == sorted(numbered)  # each number issued once, every one in the store
    store.engine.dispose()
