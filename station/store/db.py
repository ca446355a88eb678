"""Engine and sessions: SQLite (WAL, synchronous=FULL) or PostgreSQL; migrations on start."""

from __future__ import annotations

import errno
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import Engine, create_engine, event, inspect
from sqlalchemy.engine import Connection
from sqlalchemy.exc import ArgumentError, DatabaseError, OperationalError

from station.errors import ConfigError, StationError, StoreWriteError

MIGRATIONS = Path(__file__).with_name("migrations")


def _sqlite_pragmas(dbapi_conn, _record) -> None:
    # isolation_level=None: we issue BEGIN IMMEDIATE ourselves so a writer takes the lock up front
    # and two processes never deadlock upgrading a read lock (pysqlite's deferred default).
    dbapi_conn.isolation_level = None
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA synchronous=FULL")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA busy_timeout=30000")
    cur.close()


def _sqlite_begin(conn: Connection) -> None:
    conn.exec_driver_sql("BEGIN IMMEDIATE")


_readers: dict[str, Engine] = {}


def raw_sqlite(conn: Connection):
    """The sqlite3 connection under `conn` (same transaction), or None on other databases.

    The hot paths (the line's group commits) write through it: SQLAlchemy Core spends ~10x the
    time of the write itself building and caching statements, per statement, per item.
    """
    if conn.dialect.name != "sqlite":
        return None
    return conn.connection.driver_connection


def sqlite_time(value) -> str | None:
    """A datetime as SQLAlchemy stores it in SQLite (so reads and the audit hashes agree)."""
    return None if value is None else value.strftime("%Y-%m-%d %H:%M:%S.%f")


def read_engine(engine: Engine) -> Engine:
    """An engine for read-only work that never holds SQLite's write lock.

    make_engine starts every SQLite transaction with BEGIN IMMEDIATE, reads included, so a read
    (the line's lookups, a code's trail, a report, the audit walk, `station check`) would queue
    behind the writer and stall it in turn. Here reads use a plain (deferred) BEGIN: in WAL mode a
    reader keeps a consistent snapshot and blocks no writer. Other databases use the engine as is.
    """
    if engine.dialect.name != "sqlite":
        return engine
    url = engine.url.render_as_string(hide_password=False)
    if url not in _readers:
        eng = create_engine(url, connect_args={"timeout": 30})
        event.listen(eng, "connect", _sqlite_pragmas)
        event.listen(eng, "begin", lambda conn: conn.exec_driver_sql("BEGIN"))
        _readers[url] = eng
    return _readers[url]


PG_CONNECT_TIMEOUT_S = 10  # unless the URL says otherwise (?connect_timeout=N)


def make_engine(url: str, *, migrate: bool = True, synchronous: str = "FULL") -> Engine:
    """An engine for `url` with the station's settings, schema migrated to the newest version."""
    if not url.startswith(("sqlite", "postgresql")):
        raise ConfigError(
            f"station.database {url!r}: not a database URL this station uses; write "
            "sqlite:///path/station.db or postgresql://user@host/db"
        )
    if url.startswith("sqlite"):
        path = url.split("///", 1)[-1]
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        try:
            engine = create_engine(url, connect_args={"timeout": 30})
        except ArgumentError as exc:
            raise ConfigError(
                f"station.database: cannot use {url!r}: {exc}; write sqlite:///path/station.db"
            ) from None
        event.listen(engine, "connect", _sqlite_pragmas)
        if synchronous != "FULL":
            event.listen(
                engine,
                "connect",
                lambda c, r: c.execute(f"PRAGMA synchronous={synchronous}"),
            )
        event.listen(engine, "begin", _sqlite_begin)
    else:
        url = url.replace("postgresql://", "postgresql+psycopg://", 1)
        try:
            # A plant server that accepts and never answers must not hang a command or the line.
            args = {} if "connect_timeout=" in url else {"connect_timeout": PG_CONNECT_TIMEOUT_S}
            engine = create_engine(url, pool_pre_ping=True, connect_args=args)
        except (ArgumentError, ImportError) as exc:  # a malformed URL, an unknown driver
            raise ConfigError(
                f"station.database: cannot use {url!r}: {exc}; write postgresql://user@host:port/db"
            ) from None
    if migrate:
        upgrade(engine)
    return engine


def head_revision() -> str:
    """The newest migration: revision ids are the files' four-digit prefixes (0001, 0002, …)."""
    return max(p.name[:4] for p in (MIGRATIONS / "versions").glob("[0-9][0-9][0-9][0-9]_*.py"))


def upgrade(engine: Engine) -> None:
    """Apply alembic migrations up to head (idempotent; a store already at head costs one read)."""
    try:
        if schema_version(engine) == head_revision():
            return  # every command starts here: skip alembic's ~0.5 s start-up when up to date
    except OperationalError:
        pass  # unreadable: let alembic report it below
    except DatabaseError as exc:  # e.g. "file is not a database": never overwrite it
        raise StationError(
            f"database {engine.url.render_as_string(hide_password=True)}: {exc.orig}; it is "
            "not a LineStation store: point station.database in config.toml at the right file "
            "(or a new one); nothing was changed"
        ) from None
    from alembic import command
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    try:
        with engine.begin() as conn:
            cfg.attributes["connection"] = conn
            command.upgrade(cfg, "head")
    except OperationalError as exc:
        raise StationError(
            f"database {engine.url.render_as_string(hide_password=True)}: {exc.orig}; "
            "check station.database in config.toml and that the disk is writable"
        ) from None


def hidden_url(url: str) -> str:
    """The URL without its password, for messages (user and host stay: they say where)."""
    from sqlalchemy.engine import make_url

    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:  # not a URL at all: nothing in it to hide
        return url


_OS_KINDS = {errno.ENOSPC: "store_full", errno.EROFS: "store_read_only", errno.EIO: "store_io"}
_SQLITE_KINDS = (  # sqlite3's extended error names, by the kind the user must act on
    ("SQLITE_FULL", "store_full"),
    ("SQLITE_READONLY", "store_read_only"),
    ("SQLITE_IOERR", "store_io"),
    ("SQLITE_CANTOPEN", "store_io"),
)
_PG_KINDS = {"53100": "store_full", "25006": "store_read_only", "58030": "store_io"}


def _mb_free(folder: Path) -> str:
    try:
        return f"{shutil.disk_usage(folder).free / 1e6:.1f} MB free"
    except OSError:
        return "free space unknown"


def store_failure(exc: BaseException, url: str) -> StoreWriteError | None:
    """What a failed write to the store means for the user, or None if it is not one of those.

    A full disk, a read-only file or a disk I/O error reach us as the driver's error (sqlite3's
    SQLITE_FULL, PostgreSQL's 53100 disk_full) or as an OSError. The transaction was rolled back,
    so nothing is half-written; the message says which file or server, and what to do.
    """
    orig = getattr(exc, "orig", None) or exc
    kind = None
    if isinstance(orig, OSError) and not hasattr(orig, "sqlite_errorname"):
        kind = _OS_KINDS.get(orig.errno or -1)
    name = getattr(orig, "sqlite_errorname", None)
    if name:
        kind = next((k for prefix, k in _SQLITE_KINDS if name.startswith(prefix)), None)
    state = getattr(orig, "sqlstate", None) or getattr(
        getattr(orig, "diag", None), "sqlstate", None
    )
    if state:
        kind = _PG_KINDS.get(state)
    if kind is None:
        return None
    if url.startswith("sqlite"):
        path = Path(url.split("///", 1)[-1]).resolve()
        where = str(path)
        full = f"the disk holding the station's store is full ({where}: {_mb_free(path.parent)})"
        free = "free space on that disk (old exports, logs, copies)"
    else:
        where = hidden_url(url)
        full = f"the database server's disk is full ({where})"
        free = "ask IT to free space on the database server"
    again = "then start again: what was written before is kept and nothing is half-written"
    if kind == "store_full":
        return StoreWriteError(kind, full, f"{free}, {again}", where)
    if kind == "store_read_only":
        return StoreWriteError(
            kind,
            f"the station's store is read-only ({where}: {orig})",
            f"make the file and its folder writable for the station's user, {again}",
            where,
        )
    return StoreWriteError(
        kind,
        f"the station's store could not be written ({where}: {orig})",
        f"check the disk (its cable, `dmesg`), {again}",
        where,
    )


def schema_version(engine: Engine) -> str | None:
    """The alembic revision the database is at, or None for an empty database."""
    with engine.connect() as conn:
        if not inspect(conn).has_table("alembic_version"):
            return None
        return conn.exec_driver_sql("SELECT version_num FROM alembic_version").scalar()


@contextmanager
def transaction(engine: Engine) -> Iterator[Connection]:
    """One write transaction: committed on success, rolled back on any error."""
    with engine.begin() as conn:
        yield conn
