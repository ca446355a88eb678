"""A small released-for-nothing station for the shipping tests, built once and copied per test.

Two demo batches of 16 items on a line with cases of 4 and pallets of 2 cases, so each batch
has 2 pallets, 4 cases (one partial) and void codes; users admin, wh1 (warehouse, badge
BADGE-WH1), qa1 (qa) and op1 (operator). No batch is released: tests release what they ship.
"""

from __future__ import annotations

import shutil
import sqlite3
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

# --import-mode=importlib does not put this folder on sys.path; the helpers module needs it.
sys.path.insert(0, str(Path(__file__).parent))

from ship_helpers import build_station, run


@pytest.fixture(scope="session")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The demo station, built once per session (a folder to copy)."""
    folder = tmp_path_factory.mktemp("ship-template")
    build_station(folder)
    return folder


@dataclass
class Station:
    """A copied station: its config, a CLI runner and a look into its store."""

    dir: Path
    config: Path
    capsys: pytest.CaptureFixture

    def cli(self, user: str | None, *args: str, env: dict | None = None):
        """(rc, stdout, stderr) of one command as `user`."""
        self.capsys.readouterr()
        rc = run(self.config, *args, user=user, env=env)
        cap = self.capsys.readouterr()
        return rc, cap.out, cap.err

    def json(self, user: str | None, *args: str) -> tuple[int, dict]:
        """(rc, the JSON object on stdout's last line) of a command run with --json."""
        import json

        rc, out, err = self.cli(user, *args, "--json")
        assert out.strip(), err
        return rc, json.loads(out.strip().splitlines()[-1])

    def sql(self, query: str, *params) -> list:
        """Rows of one statement on the station's SQLite store (committed)."""
        with sqlite3.connect(self.dir / "var" / "station.db") as db:
            return db.execute(query, params).fetchall()

    def batches(self) -> list[str]:
        """The batch ids, oldest first."""
        return [r[0] for r in self.sql("SELECT id FROM batches ORDER BY created_at, id")]

    def codes(self, batch: str, level: str, state: str | None = None) -> list[str]:
        """Codes of a batch at a level (in the station's order)."""
        q = "SELECT code FROM codes WHERE batch_id = ? AND level = ?"
        args: tuple = (batch, level)
        if state:
            q, args = q + " AND state = ?", (*args, state)
        return [r[0] for r in self.sql(q + " ORDER BY id", *args)]

    def children(self, code: str) -> list[str]:
        """Codes directly inside `code`."""
        return [r[0] for r in self.sql(
            "SELECT c.code FROM codes c JOIN codes p ON c.parent_id = p.id WHERE p.code = ? "
            "ORDER BY c.id", code)]  # fmt: skip

    def release(self, batch: str) -> None:
        """QA releases `batch` for shipping."""
        rc, out, err = self.cli("qa1", "ship", "release-batch", batch)
        assert rc == 0, out + err


@pytest.fixture
def st(template: Path, tmp_path: Path, capsys: pytest.CaptureFixture) -> Station:
    """A fresh copy of the demo station."""
    folder = tmp_path / "station"
    shutil.copytree(template, folder)
    return Station(folder, folder / "config.toml", capsys)
