"""`station backup`: a consistent, checked copy of the store taken while the store is being
written; never overwrites; PostgreSQL is pointed at pg_dump; only IT and admin may take one."""

from __future__ import annotations

import shutil
import sqlite3
import threading
from pathlib import Path

from station.config import load_settings
from station.store.db import make_engine

ADMIN = {"LINESTATION_PIN": "1357"}


def _admin(cli) -> None:
    r = cli("users", "add", "boss", "--role", "admin", env={"LINESTATION_NEW_PIN": "1357"})
    assert r.rc == 0, r.err


def test_backup_while_the_store_is_written_is_consistent_and_restores(
    cli, station_dir: Path
) -> None:
    _admin(cli)
    assert cli("codes", "generate", "--level", "outer", "--count", "50000", "--user", "boss",
               env=ADMIN).rc == 0  # fmt: skip
    s = load_settings(station_dir / "config.toml")
    engine = make_engine(s.database_url)
    store = station_dir / "var" / "station.db"
    stop = threading.Event()
    writes = [0]

    def writer() -> None:  # the line's group commits, as fast as they come
        conn = sqlite3.connect(store, timeout=30, isolation_level=None)
        while not stop.is_set():
            conn.execute("BEGIN IMMEDIATE")
            conn.execute(
                "UPDATE codes SET state = 'reserved' WHERE id IN (SELECT id FROM codes "
                "WHERE state = 'available' LIMIT 7)"
            )
            conn.execute("COMMIT")
            writes[0] += 1
            stop.wait(0.002)
        conn.close()

    t = threading.Thread(target=writer)
    t.start()
    try:
        while writes[0] < 20:  # the writer is busy before the copy starts
            stop.wait(0.005)
        r = cli("backup", "--json", "--user", "boss", env=ADMIN)
        during = writes[0]
        while writes[0] < during + 20:  # and it went on committing while the copy was made
            stop.wait(0.005)
    finally:
        stop.set()
        t.join()
    assert r.rc == 0, r.err
    got = r.json
    copy = Path(got["backup"])
    assert copy.parent == (station_dir / "var" / "backups").resolve()
    assert not copy.with_name(copy.name + ".part").exists()
    assert not Path(str(copy) + "-wal").exists()  # one self-contained file
    # The copy is the store at one instant: every 7-code commit whole, none torn.
    with sqlite3.connect(copy) as c:
        assert c.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        assert c.execute("PRAGMA journal_mode").fetchone()[0] == "delete"
        by_state = dict(c.execute("SELECT state, count(*) FROM codes GROUP BY state"))
    assert by_state == got["codes_by_state"] and got["codes"] == 50000
    assert by_state["available"] > 0 and by_state["reserved"] > 0
    assert by_state["reserved"] % 7 == 0
    # The backup is recorded in the audit trail with its checksum.
    trail = cli("audit", "verify", "--json", "--user", "boss", env=ADMIN)
    assert trail.rc == 0, trail.out
    with sqlite3.connect(store) as c:
        row = c.execute("SELECT subject, new FROM audit WHERE action = 'store.backup'").fetchone()
    assert row == (str(copy), got["sha256"])

    # Restore: the copy in place of the store is a working store.
    engine.dispose()
    for suffix in ("", "-wal", "-shm"):
        Path(str(store) + suffix).unlink(missing_ok=True)
    shutil.copy(copy, store)
    r = cli("codes", "stats", "--json", "--user", "boss", env=ADMIN)
    assert r.rc == 0, r.err
    assert r.json["levels"]["outer"] == by_state  # the store as the copy had it
    assert cli("check", "--json", "--user", "boss", env=ADMIN).rc == 0


def test_backup_never_overwrites_and_says_where(cli, station_dir: Path) -> None:
    assert cli("codes", "generate", "--level", "outer", "--count", "10").rc == 0
    first = cli("backup", "--json")
    second = cli("backup", "--json")  # the same second: a new name, not the same file
    assert first.rc == 0 and second.rc == 0
    assert first.json["backup"] != second.json["backup"]
    target = station_dir / "keep.db"
    target.write_bytes(b"precious")
    r = cli("backup", "--out", str(target))
    assert r.rc == 2 and "already exists" in r.err and str(target) in r.err
    assert target.read_bytes() == b"precious"
    store = station_dir / "var" / "station.db"
    r = cli("backup", "--out", str(store))
    assert r.rc == 2 and "store itself" in r.err


def test_only_it_and_admin_may_take_a_backup(cli) -> None:
    _admin(cli)
    r = cli("users", "add", "op1", "--role", "operator", "--user", "boss",
            env={**ADMIN, "LINESTATION_NEW_PIN": "1111"})  # fmt: skip
    assert r.rc == 0, r.err
    r = cli("backup", "--user", "op1", env={"LINESTATION_PIN": "1111"})
    assert r.rc == 2 and "store.backup" in r.err


def test_a_postgresql_store_is_pointed_at_pg_dump(cli, station_dir: Path, pg_url: str) -> None:
    r = cli("backup", "--json", env={"LINESTATION_DATABASE": pg_url})
    assert r.rc == 2, r.out + r.err
    assert "pg_dump" in r.err and "PostgreSQL" in r.err
    assert pg_url.split("@")[0] not in r.err or "@" not in pg_url


def test_a_folder_that_refuses_fsync_still_gets_its_backup(
    cli, station_dir: Path, monkeypatch
) -> None:
    """FAT on a USB stick (and SMB) refuse fsync on a folder: the backup is made all the same."""
    import errno
    import os
    import stat

    real = os.fsync

    def fat_fsync(fd: int) -> None:
        if stat.S_ISDIR(os.fstat(fd).st_mode):
            raise OSError(errno.EINVAL, "Invalid argument")
        real(fd)

    monkeypatch.setattr(os, "fsync", fat_fsync)
    assert cli("codes", "generate", "--level", "outer", "--count", "10").rc == 0
    stick = station_dir / "stick" / "line1.db"
    r = cli("backup", "--out", str(stick), "--json")
    assert r.rc == 0, r.err
    assert stick.is_file() and r.json["codes"] == 10


def test_daily_backup_is_made_when_due_and_old_copies_are_pruned(cli, station_dir: Path) -> None:
    import os
    import time

    _admin(cli)
    r = cli("backup", "--auto", "--json", "--user", "boss", env=ADMIN)
    assert r.rc == 0, r.err
    first = r.json["made"]["backup"]
    assert r.json["last"]["backup"] == first and r.json["pruned"] == []
    # Within the day: nothing is due, nothing copied again.
    r = cli("backup", "--auto", "--json", "--user", "boss", env=ADMIN)
    assert r.rc == 0 and r.json["made"] is None and r.json["last"]["backup"] == first
    # A day and more later (the copy's age is its file time): a new copy, the old one kept.
    day = time.time() - 25 * 3600
    os.utime(first, (day, day))
    r = cli("backup", "--auto", "--json", "--user", "boss", env=ADMIN)
    second = r.json["made"]["backup"]
    assert second != first and Path(first).exists()
    # Past the 30-day retention: the old copy goes, the newest always stays.
    month = time.time() - 31 * 86400
    os.utime(first, (month, month))
    os.utime(second, (month + 60, month + 60))
    r = cli("backup", "--auto", "--json", "--user", "boss", env=ADMIN)
    third = r.json["made"]["backup"]
    assert sorted(r.json["pruned"]) == sorted([first, second])
    assert not Path(first).exists() and not Path(second).exists() and Path(third).exists()
    assert cli("audit", "verify", "--user", "boss", env=ADMIN).rc == 0
    assert cli("backup", "--auto", "--out", "x.db", "--user", "boss", env=ADMIN).rc == 2
