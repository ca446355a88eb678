"""Shared fixtures: a station in a temp folder, the CLI in-process, a real PostgreSQL server."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

# --import-mode=importlib does not put tests/ on sys.path; pgserver (shared with test modules)
# lives in tests/support. Never put tests/ itself on sys.path: tests/drivers and tests/ui would
# then shadow the drivers and ui packages for a plain `pytest tests/drivers/...` run.
sys.path.insert(0, str(Path(__file__).parent / "support"))
from pgserver import PgServer

ROOT = Path(__file__).resolve().parents[1]
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")


@pytest.fixture
def station_dir(tmp_path: Path) -> Path:
    """A copy of the sample config.toml in a fresh folder: a separate station."""
    shutil.copy(ROOT / "config.toml", tmp_path / "config.toml")
    return tmp_path


class CliResult:
    """What one `station …` call printed and returned."""

    def __init__(self, rc: int, out: str, err: str) -> None:
        self.rc, self.out, self.err = rc, out, err

    @property
    def json(self) -> dict:
        """The JSON object on the last line of stdout."""
        import json

        return json.loads(self.out.strip().splitlines()[-1])


@pytest.fixture
def cli(station_dir: Path, capsys: pytest.CaptureFixture[str]):
    """Run `station --config <station_dir>/config.toml ARGS…` in-process."""
    from station.cli import main

    def run(*args: str, env: dict[str, str] | None = None) -> CliResult:
        old = {k: os.environ.get(k) for k in (env or {})}
        os.environ.update(env or {})
        try:
            rc = main(["--config", str(station_dir / "config.toml"), *args])
        finally:
            for k, v in old.items():
                if v is None:
                    os.environ.pop(k, None)
                else:
                    os.environ[k] = v
        cap = capsys.readouterr()
        return CliResult(rc, cap.out, cap.err)

    return run


def station_cmd(
    *args: str, cwd: Path | None = None, timeout: float = 600, **kw
) -> subprocess.CompletedProcess:
    """Run the installed `station` console script as a separate process."""
    exe = Path(sys.executable).with_name("station")
    return subprocess.run(
        [str(exe), *args], cwd=cwd, capture_output=True, text=True, timeout=timeout, **kw
    )


@pytest.fixture(scope="session")
def pg_server():
    """A real PostgreSQL server on a free local port for this test session; yields its base URL."""
    try:
        srv = PgServer(max_connections=200)
    except FileNotFoundError as exc:
        pytest.fail(str(exc))
    try:
        yield srv.url
    finally:
        srv.close()


@pytest.fixture
def pg_url(pg_server: str) -> str:
    """A fresh, empty database on the session's PostgreSQL server."""
    import psycopg

    name = f"t{time.monotonic_ns()}"
    with psycopg.connect(f"{pg_server}/postgres", autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    return f"{pg_server}/{name}"


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """The store URL, once on SQLite and once on a real PostgreSQL server."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'station.db'}"
    return request.getfixturevalue("pg_url")
