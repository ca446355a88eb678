"""Pallet operations on a running line, carried out by the runner's own thread (issue 16 point 3),
with the simulated world doing by hand what the line lead does (journalled, compared at the end):

hold the open pallet, resume it by a case code (the pallet opened meanwhile is held in its place),
fill it to capacity, close the next one now, merge the held one into it, clear the one after,
and leave one held at batch end, which then closes as partial with its label.
Pallets of 6 cases of 6 items here; the batch has 150 items (25 cases).
"""

from __future__ import annotations

import threading
import time
from pathlib import Path

from sqlalchemy import select

from station.batch.check import check_batches
from station.qa import pallets
from station.store.db import read_engine
from station.store.models import AuditEntry, Code

_codes, _audit = Code.__table__, AuditEntry.__table__
CAP = 6


def _small(station_dir: Path) -> None:
    cfg = station_dir / "config.toml"
    text = cfg.read_text(encoding="utf-8")
    cfg.write_text(
        text.replace("capacity = 24", "capacity = 6").replace("capacity = 20", "capacity = 6")
    )


class Lead:
    """The line lead at the screen: each step waits for the line, then asks the runner."""

    def __init__(self, line, runner) -> None:
        self.line, self.runner = line, runner
        self.read = read_engine(line.engine)
        self.done: list[dict] = []
        self.error: BaseException | None = None

    def listing(self, status: str) -> list[pallets.PalletView]:
        with self.read.connect() as conn:
            return pallets.listing(conn, self.line.settings, batch_id=self.line.batch_id,
                                   statuses=(status,))  # fmt: skip

    def open_with(self, n: int, other_than: set[str], timeout: float = 60) -> str:
        """The open pallet once it holds at least `n` cases and is none of `other_than`."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for p in self.listing("open"):
                if p.cases >= n and p.code not in other_than:
                    return p.code
            time.sleep(0.02)
        raise AssertionError(f"no new open pallet with {n} cases in {timeout} s")

    def cases_of(self, pallet: str) -> list[str]:
        with self.read.connect() as conn:
            pid = conn.execute(select(_codes.c.id).where(_codes.c.code == pallet)).scalar_one()
            return list(
                conn.execute(select(_codes.c.code).where(_codes.c.parent_id == pid)).scalars()
            )

    def do(self, op: str, **args) -> dict:
        r = self.runner.pallet_command(op, args, "lead").result(30)
        self.done.append(r)
        return r

    def run(self) -> None:
        try:
            self._steps()
        except BaseException as exc:  # the test asserts on it
            self.error = exc

    def _steps(self) -> None:
        seen: set[str] = set()
        p1 = self.open_with(2, seen)
        seen.add(p1)
        assert self.do("hold")["pallet"] == p1
        # A case of the held pallet read at the palletizer is not stacked: a warning says why.
        self.runner._reads.put(self.cases_of(p1)[0])
        self.wait(lambda: any(a.key == "case_on_held_pallet" for a in self.runner.status().alarms))
        p2 = self.open_with(1, seen)
        seen.add(p2)
        r = self.do("resume", code=self.cases_of(p1)[-1])  # 提取: a case of the held pallet
        assert (r["pallet"], r["held"]) == (p1, p2), r
        self.wait_closed(p1)
        p3 = self.open_with(1, seen)
        seen.add(p3)
        r = self.do("close")  # 强制满垛
        assert r["pallet"] == p3 and r["status"] == "partial" and r["printed"], r
        r = self.do("merge", a=p3, b=p2)  # 合垛: the held one onto the closed-short one
        assert r["into"] == p3 and r["printed"], r
        p4 = self.open_with(1, seen)
        seen.add(p4)
        r = self.do("clear", code=p4)  # 清空垛: its cases go round again
        assert r["pallet"] == p4 and r["cases"], r
        p5 = self.open_with(1, seen)
        seen.add(p5)
        assert self.do("hold")["pallet"] == p5  # left held: the batch end closes it

    def wait_closed(self, pallet: str) -> None:
        self.wait(lambda: not any(p.code == pallet for p in self.listing("open")))

    def wait(self, cond, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while not cond():
            assert time.monotonic() < deadline, "timed out"
            time.sleep(0.02)


def test_pallet_operations_on_a_running_line_match_the_world(station_dir: Path, demo_batch):
    _small(station_dir)
    line = demo_batch(items=150, rate=600, defects=0.0, seed=4, lot="PALLETOPS")
    leads: list[Lead] = []
    threads: list[threading.Thread] = []

    def on_start(_sims, runner, _world) -> None:
        lead = Lead(line, runner)
        leads.append(lead)
        threads.append(threading.Thread(target=lead.run, name="lead", daemon=True))
        threads[0].start()

    summary = line.run(on_start=on_start)
    threads[0].join(30)
    lead = leads[0]
    assert lead.error is None, repr(lead.error)
    assert summary["world_mismatches"] == 0, summary.get("mismatch_examples")
    assert summary["duplicates"] == 0
    p1 = lead.done[0]["pallet"]
    p2, p3 = lead.done[1]["held"], lead.done[2]["pallet"]
    p4, p5 = lead.done[4]["pallet"], lead.done[5]["pallet"]
    with line.engine.connect() as conn:
        rows = {r.code: r for r in conn.execute(select(_codes).where(_codes.c.level == "pallet"))}
        ops = conn.execute(
            select(_audit.c.action, _audit.c.subject, _audit.c.user)
            .where(_audit.c.action.like("pallet.%"))
            .order_by(_audit.c.id)
        ).all()
    assert (rows[p1].container_status, rows[p1].child_count) == ("normal", CAP)  # filled up
    assert (rows[p2].state, rows[p2].container_status) == ("decommissioned", "retired")
    assert rows[p3].child_count == lead.done[3]["cases"]
    assert (rows[p4].state, rows[p4].container_status) == ("decommissioned", "retired")
    assert rows[p5].container_status == "partial"  # held at the end: closed with the batch
    assert [(a, s) for a, s, u in ops if u == "lead"] == [
        ("pallet.hold", p1),
        ("pallet.hold", p2),  # swapped out by the resume
        ("pallet.resume", p1),
        ("pallet.close", p3),
        ("pallet.merge", p3),
        ("pallet.clear", p4),
        ("pallet.hold", p5),
    ]
    assert ("pallet.close", p5) in [(a, s) for a, s, _u in ops]
    # Every case of the batch is on a pallet, the cleared ones too (read and stacked again).
    with line.engine.connect() as conn:
        loose = conn.execute(
            select(_codes.c.code).where(
                _codes.c.batch_id == line.batch_id,
                _codes.c.level == "case",
                _codes.c.state == "verified",
            )
        ).all()
    assert loose == []
    assert check_batches(line.engine, line.batch_id)["ok"]
