"""`station backup`: a consistent copy of the SQLite store, taken while the line runs.

SQLite's online backup copies the store in one read transaction. In WAL mode a reader blocks no
writer, so the line keeps committing while the copy is made, and the copy is the store as of one
instant. The copy is a self-contained file (rollback journal, no -wal beside it), checked with
`PRAGMA quick_check`, synced to disk and only then given its name: a half-written backup never
looks like a finished one. A plant's PostgreSQL database is backed up with pg_dump instead.
"""

from __future__ import annotations

import hashlib
import os
import sqlite3
import time
from datetime import datetime
from pathlib import Path

from sqlalchemy import Engine

from station.config import Settings
from station.errors import InputError, StationError
from station.store import audit
from sync.durable import fsync_dir


def default_path(settings: Settings) -> Path:
    """<data_dir>/backups/station-YYYYmmdd-HHMMSS.db (-2, -3, … for more in one second)."""
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    folder = settings.data_dir / "backups"
    path, n = folder / f"station-{stamp}.db", 1
    while path.exists() or path.with_name(path.name + ".part").exists():  # two in one second
        n += 1
        path = folder / f"station-{stamp}-{n}.db"
    return path


def backups(settings: Settings) -> list[Path]:
    """The finished backups in <data_dir>/backups, oldest first (half-written .part files never)."""
    folder = settings.data_dir / "backups"
    if not folder.is_dir():
        return []
    return sorted(folder.glob("station-*.db"), key=lambda p: (p.stat().st_mtime, p.name))


def last_backup(settings: Settings) -> dict | None:
    """The newest backup: its path, size and when it was made (for the IT screen); None if none."""
    found = backups(settings)
    if not found:
        return None
    newest = found[-1]
    st = newest.stat()
    made = datetime.fromtimestamp(st.st_mtime).astimezone()
    return {"backup": str(newest), "bytes": st.st_size, "at": made.isoformat(timespec="seconds")}


def due(settings: Settings, now: float | None = None) -> bool:
    """True when the newest backup is older than station.backup_every_hours (or there is none)."""
    every = settings.station.backup_every_hours
    if every <= 0:
        return False
    found = backups(settings)
    if not found:
        return True
    now = time.time() if now is None else now
    return now - found[-1].stat().st_mtime >= every * 3600


def prune(settings: Settings, now: float | None = None) -> list[str]:
    """Delete backups older than station.backup_keep_days; the newest one is always kept."""
    keep_s = settings.station.backup_keep_days * 86400
    now = time.time() if now is None else now
    found = backups(settings)
    gone = []
    for old in found[:-1]:
        if now - old.stat().st_mtime > keep_s:
            old.unlink(missing_ok=True)
            gone.append(str(old))
    return gone


def auto_backup(engine: Engine, settings: Settings, *, user: str, now: float | None = None) -> dict:
    """The daily backup: a new copy when one is due, then the retention applied.

    Returns {"made": summary or None, "pruned": [paths], "last": last_backup()}. Run by
    `station backup --auto` (a systemd timer or the Windows Task Scheduler) and by the long-running
    processes (the touchscreen, `station serve`) once an hour.
    """
    made = backup(engine, settings, None, user=user) if due(settings, now) else None
    pruned = prune(settings, now)
    if pruned:
        with engine.begin() as conn:
            audit.record(
                conn, user, [audit.Change("store.backup_pruned", p, None, None) for p in pruned]
            )
    return {"made": made, "pruned": pruned, "last": last_backup(settings)}


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def _fsync_file(path: Path) -> None:
    with path.open("rb+") as fh:
        os.fsync(fh.fileno())


def backup(engine: Engine, settings: Settings, out: Path | None, *, user: str) -> dict:
    """Copy the store to `out` (a new file); what was copied, its size, checksum and time."""
    if engine.dialect.name != "sqlite":
        where = engine.url.render_as_string(hide_password=True)
        raise InputError(
            f"the store is PostgreSQL ({where}): back it up on the server with pg_dump, e.g. "
            "`pg_dump -Fc -f plant.dump <url>`; station backup copies a line's SQLite store"
        )
    src_path = Path(engine.url.database or "")
    if not src_path.is_file():
        raise InputError(f"no store at {src_path}: nothing to back up")
    out = (out or default_path(settings)).resolve()
    if out == src_path.resolve():
        raise InputError(f"{out} is the store itself; give another file with --out")
    if out.exists():
        raise InputError(f"{out} already exists; give a new file with --out (never overwritten)")
    out.parent.mkdir(parents=True, exist_ok=True)
    part = out.with_name(out.name + ".part")
    t0 = time.perf_counter()
    try:
        src = sqlite3.connect(src_path, timeout=30)
        try:
            src.execute("PRAGMA query_only=1")
            part.unlink(missing_ok=True)  # left by a backup that died: never a finished one
            dst = sqlite3.connect(part)
            try:
                src.backup(dst)  # one step: one read snapshot, the line's writes go on
                dst.execute("PRAGMA journal_mode=DELETE")  # one self-contained file
                check = dst.execute("PRAGMA quick_check").fetchone()[0]
                version = dst.execute("SELECT version_num FROM alembic_version").fetchone()[0]
                codes = dict(dst.execute("SELECT state, count(*) FROM codes GROUP BY state"))
                batches = dst.execute("SELECT count(*) FROM batches").fetchone()[0]
            finally:
                dst.close()
        finally:
            src.close()
        if check != "ok":
            raise StationError(
                f"the copy of {src_path} failed its check ({check}); nothing was kept. Run "
                "`station check`, and copy the store by hand with the station stopped"
            )
        _fsync_file(part)
        os.replace(part, out)
        fsync_dir(out.parent)  # a USB stick's FAT refuses this: the copy is there all the same
    finally:
        part.unlink(missing_ok=True)
    seconds = time.perf_counter() - t0
    digest = _sha256(out)
    with engine.begin() as conn:
        audit.record(conn, user, [audit.Change("store.backup", str(out), None, digest)])
    return {
        "ok": True,
        "store": str(src_path.resolve()),
        "backup": str(out),
        "bytes": out.stat().st_size,
        "sha256": digest,
        "schema": version,
        "codes": sum(codes.values()),
        "codes_by_state": codes,
        "batches": batches,
        "seconds": round(seconds, 2),
    }
