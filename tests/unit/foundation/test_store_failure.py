"""store_failure: a failed store write said as what it means (disk full, read-only, I/O), with
the file or server it happened on; any other database error is not mistaken for one."""

from __future__ import annotations

import errno
import sqlite3
from pathlib import Path

import psycopg
import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.exc import DBAPIError, IntegrityError

from station.store.db import store_failure


def _sqlite_error(db: Path, setup: str, write: str, uri: str | None = None) -> DBAPIError:
    """The error SQLAlchemy raises for `write` on a real SQLite file."""
    engine = create_engine(uri or f"sqlite:///{db}")
    with engine.begin() as c:
        c.exec_driver_sql("CREATE TABLE IF NOT EXISTS t (x BLOB UNIQUE)")
    try:
        with engine.begin() as c:
            if setup:
                c.exec_driver_sql(setup)
            c.execute(text(write))
    except DBAPIError as exc:
        return exc
    finally:
        engine.dispose()
    raise AssertionError("the write succeeded")


def test_sqlite_disk_full_names_the_file_and_the_free_space(tmp_path: Path) -> None:
    db = tmp_path / "station.db"
    exc = _sqlite_error(
        db, "PRAGMA max_page_count = 3", "INSERT INTO t VALUES (randomblob(100000))"
    )
    f = store_failure(exc, f"sqlite:///{db}")
    assert f is not None and f.key == "store_full"
    assert f.where == str(db.resolve())
    assert "disk holding the station's store is full" in f.message and "MB free" in f.message
    assert "free space" in f.action and "nothing is half-written" in f.action


def test_sqlite_read_only_file(tmp_path: Path) -> None:
    db = tmp_path / "station.db"
    sqlite3.connect(db).execute("CREATE TABLE t (x BLOB UNIQUE)").connection.close()
    engine = create_engine(
        "sqlite://", creator=lambda: sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    )
    with pytest.raises(DBAPIError) as caught:
        with engine.begin() as c:
            c.execute(text("INSERT INTO t VALUES (1)"))
    f = store_failure(caught.value, f"sqlite:///{db}")
    assert f is not None and f.key == "store_read_only" and str(db.resolve()) in f.message
    assert "writable" in f.action


def test_postgresql_disk_full_names_the_server_never_the_password() -> None:
    orig = psycopg.errors.DiskFull("could not extend file: No space left on device")
    exc = DBAPIError("INSERT", {}, orig)
    f = store_failure(exc, "postgresql+psycopg://line1:s3cret@plantdb:5432/plant")
    assert f is not None and f.key == "store_full"
    assert f.where.endswith("line1:***@plantdb:5432/plant") and "s3cret" not in str(f)
    assert "database server" in f.action


def test_os_error_no_space() -> None:
    f = store_failure(OSError(errno.ENOSPC, "No space left on device"), "sqlite:////var/s.db")
    assert f is not None and f.key == "store_full"


def test_other_database_errors_are_not_store_failures(tmp_path: Path) -> None:
    db = tmp_path / "station.db"
    exc = _sqlite_error(db, "INSERT INTO t VALUES (1)", "INSERT INTO t VALUES (1)")
    assert isinstance(exc, IntegrityError)
    assert store_failure(exc, f"sqlite:///{db}") is None
    assert store_failure(ValueError("no"), f"sqlite:///{db}") is None
    lock = DBAPIError("x", {}, psycopg.errors.LockNotAvailable("busy"))
    assert store_failure(lock, "postgresql://u@h/db") is None
