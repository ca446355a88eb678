"""Shared fixtures: a station in a temp folder, the CLI in-process, a real PostgreSQL server.

Also the suite's one guard against leaks: a test that leaves a thread running or a socket or
serial port (pty) open fails; and the markers: `postgres` on every test that uses the server,
`hardware` tests skipped unless LINESTATION_HARDWARE is set.
"""

from __future__ import annotations

import gc
import os
import shutil
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Connection, Engine, event

# --import-mode=importlib does not put tests/ on sys.path; pgserver (shared with test modules)
# lives in tests/support. Never put tests/ itself on sys.path: tests/drivers and tests/ui would
# then shadow the drivers and ui packages for a plain `pytest tests/drivers/...` run.
sys.path.insert(0, str(Path(__file__).parent / "support"))
from pgserver import PgServer

ROOT = Path(__file__).resolve().parents[1]
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
# How long a test's threads and ports get to wind down after it before they count as leaked:
# generous, because stop() of a busy simulator on a loaded 2-core machine can take a while.
LEAK_GRACE_S = 5.0


def _process_wide(thread: threading.Thread) -> bool:
    """A thread that is not the test's to end: it lives as long as the process, or as Qt wants.

    The dot-matrix path keeps its worker pool for the process (drivers/camera/dotmatrix/path.py,
    shut down at exit); its manager and queue-feeder threads start in whichever test uses it first.
    A _DummyThread is a native thread that once ran Python code (Qt's global thread pool, whose idle
    threads Qt ends after 30 s): Python cannot see when it ends, nor join it.
    """
    kind = type(thread).__name__
    return kind in ("_ExecutorManagerThread", "_DummyThread") or thread.name == "QueueFeederThread"


def _threads(lasting: tuple[str, ...] = ()) -> set[threading.Thread]:
    return {
        t
        for t in threading.enumerate()
        if t.is_alive() and not _process_wide(t) and not t.name.startswith(lasting)
    }


@pytest.fixture
def lasting_threads() -> tuple[str, ...]:
    """Name prefixes of threads that a module-scoped fixture starts lazily, during some test.

    Empty here; a folder's conftest overrides it and says whose threads they are and what ends them.
    """
    return ()


def _ports() -> set[str]:
    """Open sockets and terminals (pty pairs, serial devices) of this process, as fd → target."""
    out: set[str] = set()
    try:
        fds = os.listdir("/proc/self/fd")
    except OSError:  # no /proc (not Linux): threads are still checked
        return out
    for fd in fds:
        try:
            target = os.readlink(f"/proc/self/fd/{fd}")
        except OSError:  # the listing's own fd, or one closed meanwhile
            continue
        if target.startswith(("socket:", "/dev/pts/", "/dev/tty")) or target == "/dev/ptmx":
            out.add(f"{fd} -> {target}")
    return out


@pytest.fixture(autouse=True)
def no_leaks(lasting_threads: tuple[str, ...]) -> Iterator[None]:
    """Every thread a test starts has ended, and every socket and pty it opens is closed, after it.

    Threads and ports opened by session- or module-scoped fixtures were opened before the snapshot
    and are not counted; a lazily started process-wide pool would be: see _process_wide.
    """
    threads, ports = _threads(lasting_threads), _ports()
    yield
    deadline = time.monotonic() + LEAK_GRACE_S
    collected = False
    while True:
        left_threads = _threads(lasting_threads) - threads
        left_ports = _ports() - ports
        if not left_threads and not left_ports:
            return
        if not collected:  # a socket in a reference cycle closes only when the cycle is collected
            gc.collect()
            collected = True
        elif time.monotonic() > deadline:
            break
        time.sleep(0.01)
    assert not left_threads, f"threads left running: {sorted(t.name for t in left_threads)}"
    assert not left_ports, f"sockets or ptys left open: {sorted(left_ports)}"


_engines: dict[int, Engine] = {}


@event.listens_for(Engine, "engine_connect")
def _remember_engine(connection: Connection) -> None:
    _engines[id(connection.engine)] = connection.engine


@pytest.fixture(autouse=True)
def engines_disposed(no_leaks: None) -> Iterator[None]:
    """Dispose every SQLAlchemy engine a test connected, once it is done with it.

    It depends on no_leaks so that it is set up after it and torn down before it: no_leaks then
    sees the engines' sockets closed.
    Many tests drop their engine on the floor; its pooled psycopg connections then warn
    ResourceWarning at some later garbage collection, in whichever test runs then. Holding the
    engines until the test ends and disposing them closes those connections in the right test.
    """
    yield
    engines = list(_engines.values())
    _engines.clear()
    for engine in engines:
        engine.dispose()


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Mark PostgreSQL users `postgres`; skip `hardware` tests without LINESTATION_HARDWARE."""
    no_hardware = pytest.mark.skip(reason="set LINESTATION_HARDWARE to run tests on real devices")
    for item in items:
        # The session's server (pg_server, pg_url, db_url's postgresql case), or a module that
        # starts a PgServer of its own (the plant-link tests stop and start theirs).
        if "pg_server" in getattr(item, "fixturenames", ()) or hasattr(
            getattr(item, "module", None), "PgServer"
        ):
            item.add_marker(pytest.mark.postgres)
        if item.get_closest_marker("hardware") and not os.environ.get("LINESTATION_HARDWARE"):
            item.add_marker(no_hardware)


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


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """The store URL, once on SQLite and once on a real PostgreSQL server."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'station.db'}"
    return request.getfixturevalue("pg_url")
