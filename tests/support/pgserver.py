"""A real PostgreSQL server in its own temp folder on a free local port (tests only).

The session's shared server (tests/conftest.py `pg_server`) and the plant-link tests' own server,
which they stop and start to take the plant database away, are both one of these.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path


def pg_bin() -> Path | None:
    """The newest installed PostgreSQL's bin folder, or None."""
    base = Path("/usr/lib/postgresql")
    if not base.exists():
        return None
    versions = sorted(base.iterdir(), key=lambda p: int(p.name) if p.name.isdigit() else 0)
    return versions[-1] / "bin" if versions else None


class PgServer:
    """initdb + pg_ctl start; `url` is the server's base URL (append /dbname)."""

    def __init__(self, *, max_connections: int = 100, prefix: str = "linestation-pg-") -> None:
        bindir = pg_bin()
        if bindir is None or not (bindir / "initdb").exists():
            raise FileNotFoundError(
                "PostgreSQL server binaries missing: `make test` installs the postgresql package"
            )
        self.bin = bindir
        self.max_connections = max_connections
        # Its own folder, not pytest's basetemp: parallel pytest runs prune each other's basetemps.
        self.base = Path(tempfile.mkdtemp(prefix=prefix))
        self.data = self.base / "data"
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = s.getsockname()[1]
        self.as_user: list[str] = []
        if os.geteuid() == 0:  # the server refuses to run as root
            self.as_user = ["runuser", "-u", "postgres", "--"]
            shutil.chown(self.base, "postgres")
            for p in [self.base, *self.base.parents]:
                if str(p) in ("/", "/tmp"):
                    break
                p.chmod(p.stat().st_mode | 0o711)
        self._pg("initdb", "-D", str(self.data), "-U", "station", "--auth=trust", "-E", "UTF8",
                 "--locale=C.UTF-8")  # fmt: skip
        self.start()
        self.url = f"postgresql://station@127.0.0.1:{self.port}"

    def _pg(self, tool: str, *args: str, check: bool = True) -> None:
        subprocess.run([*self.as_user, str(self.bin / tool), *args], check=check,
                       capture_output=True, timeout=60)  # fmt: skip

    def start(self) -> None:
        """Start (or restart) the server and wait until it accepts connections."""
        opts = (
            f"-p {self.port} -k {self.base} -c listen_addresses=127.0.0.1 -c fsync=off "
            f"-c max_connections={self.max_connections}"
        )
        self._pg("pg_ctl", "-D", str(self.data), "-l", str(self.base / "pg.log"), "-w", "-o",
                 opts, "start")  # fmt: skip

    def stop(self) -> None:
        """Stop the server now (connections cut): the database is gone."""
        self._pg("pg_ctl", "-D", str(self.data), "-m", "fast", "-w", "stop")

    def new_db(self) -> str:
        """A fresh, empty database on this server."""
        import psycopg

        name = f"t{time.monotonic_ns()}"
        with psycopg.connect(f"{self.url}/postgres", autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        return f"{self.url}/{name}"

    def close(self) -> None:
        """Stop the server and remove its folder."""
        self._pg("pg_ctl", "-D", str(self.data), "-m", "immediate", "stop", check=False)
        shutil.rmtree(self.base, ignore_errors=True)
