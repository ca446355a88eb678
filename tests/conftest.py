"""Shared fixtures: a station in a temp folder, the CLI in-process, a real PostgreSQL server."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"
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


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _pg_bin() -> Path | None:
    base = Path("/usr/lib/postgresql")
    if not base.exists():
        return None
    versions = sorted(base.iterdir(), key=lambda p: int(p.name) if p.name.isdigit() else 0)
    return versions[-1] / "bin" if versions else None


@pytest.fixture(scope="session")
def pg_server(tmp_path_factory: pytest.TempPathFactory):
    """A real PostgreSQL server on a free local port for this test session; yields its base URL."""
    bindir = _pg_bin()
    if bindir is None or not (bindir / "initdb").exists():
        pytest.fail(
            "PostgreSQL server binaries missing: `make test` installs the postgresql package"
        )
    # Its own folder, not pytest's basetemp: parallel pytest runs prune each other's basetemps.
    base = Path(tempfile.mkdtemp(prefix="linestation-pg-"))
    data = base / "data"
    port = _free_port()
    as_user: list[str] = []
    if os.geteuid() == 0:  # the server refuses to run as root
        as_user = ["runuser", "-u", "postgres", "--"]
        shutil.chown(data.parent, "postgres")
        data.parent.chmod(0o777)
        for p in data.parents:
            if str(p) in ("/", "/tmp"):
                break
            p.chmod(p.stat().st_mode | 0o711)
    subprocess.run(
        [
            *as_user,
            str(bindir / "initdb"),
            "-D",
            str(data),
            "-U",
            "station",
            "--auth=trust",
            "-E",
            "UTF8",
            "--locale=C.UTF-8",
        ],
        check=True,
        capture_output=True,
    )
    log = data.parent / "pg.log"
    subprocess.run(
        [
            *as_user,
            str(bindir / "pg_ctl"),
            "-D",
            str(data),
            "-l",
            str(log),
            "-w",
            "-o",
            f"-p {port} -k {data.parent} -c listen_addresses=127.0.0.1 "
            "-c fsync=off -c max_connections=200",
            "start",
        ],
        check=True,
        capture_output=True,
    )
    url = f"postgresql://station@127.0.0.1:{port}"
    try:
        yield url
    finally:
        subprocess.run(
            [*as_user, str(bindir / "pg_ctl"), "-D", str(data), "-m", "immediate", "stop"],
            capture_output=True,
        )
        shutil.rmtree(base, ignore_errors=True)


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
