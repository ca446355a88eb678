"""What every command shares: settings, the store, the acting user, output; errors told once."""

from __future__ import annotations

import errno
import json
import logging
import sqlite3
import sys
from functools import cached_property
from typing import Any

from rich.console import Console
from sqlalchemy import Engine
from sqlalchemy.exc import DBAPIError, OperationalError

from drivers.errors import DriverError
from station.config import Settings, load_settings
from station.errors import StationError
from station.store.db import hidden_url, store_failure


class App:
    """Lazily loaded context of one command."""

    def __init__(self, config: str | None, user: str | None) -> None:
        self.config_path = config
        self.user_name = user
        self.console = Console(stderr=True, highlight=False)

    @cached_property
    def settings(self) -> Settings:
        """config.toml, validated; the station's log file is opened beside its data."""
        settings = load_settings(self.config_path)
        setup_logging(settings)
        return settings

    @cached_property
    def engine(self) -> Engine:
        """The store, migrated."""
        from station.store.db import make_engine

        return make_engine(self.settings.database_url)

    @property
    def user(self) -> str:
        """Who acts: the authenticated user, or `setup` while the station has no users."""
        from station import users

        return users.authenticate_cli(self)

    def require(self, action: str) -> str:
        """The acting user, checked for the role `action` needs."""
        from station import users

        return users.require(self, action)

    def out(self, text: str = "") -> None:
        """A line to stdout."""
        print(text, flush=True)

    def json(self, obj: Any) -> None:
        """One JSON object on the last line of stdout."""
        print(json.dumps(obj, ensure_ascii=False, default=str), flush=True)

    def progress(self, total: int, what: str):
        """A rich progress bar on stderr (hidden when stderr is not a terminal)."""
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeRemainingColumn

        return Progress(
            "[progress.description]{task.description}",
            BarColumn(),
            MofNCompleteColumn(),
            TimeRemainingColumn(),
            console=self.console,
            transient=True,
            disable=not sys.stderr.isatty(),
        )


class _OneLine(logging.Handler):
    """Errors to the current stderr as one line each (the log file, when there is one, keeps
    the tracebacks)."""

    def emit(self, record: logging.LogRecord) -> None:
        """Print `LEVEL logger: message (ExcType: exc)`."""
        text = f"{record.levelname} {record.name}: {record.getMessage()}"
        if record.exc_info and record.exc_info[1] is not None:
            text += f" ({type(record.exc_info[1]).__name__}: {record.exc_info[1]})"
        print(text, file=sys.stderr, flush=True)


def setup_logging(settings: Settings) -> None:
    """Log to <data_dir>/logs/station.log (rotated); inner codes are never logged in full."""
    from logging.handlers import RotatingFileHandler

    root = logging.getLogger()
    folder = settings.data_dir / "logs"
    ours = [h for h in root.handlers if getattr(h, "_linestation", None)]
    if any(h._linestation == str(folder) for h in ours):  # type: ignore[attr-defined]
        return
    for h in ours:  # another station's folder (several commands in one process, as in tests)
        root.removeHandler(h)
        h.close()
    try:
        folder.mkdir(parents=True, exist_ok=True)
        handler = RotatingFileHandler(
            folder / "station.log", maxBytes=10_000_000, backupCount=5, encoding="utf-8"
        )
    except OSError as exc:
        # A read-only data folder must not stop a command: errors still reach stderr, once,
        # as one line (without a handler Python's last resort would print tracebacks).
        print(
            f"warning: no log file: {os_error_text(exc)}; check station.data_dir in config.toml",
            file=sys.stderr,
            flush=True,
        )
        quiet = _OneLine()
        quiet.setLevel(logging.ERROR)
        quiet._linestation = str(folder)  # type: ignore[attr-defined]
        root.addHandler(quiet)
        return
    handler._linestation = str(folder)  # type: ignore[attr-defined]
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root.addHandler(handler)
    root.setLevel(logging.INFO)
    logging.getLogger("pymodbus").setLevel(logging.CRITICAL)  # it logs every timeout as ERROR
    logging.getLogger("alembic").setLevel(logging.WARNING)


_OS_HINTS = {
    errno.ENOSPC: "the disk is full; free space and retry",
    errno.ENOENT: "check the path: the file or its folder does not exist",
    errno.EACCES: "check the permissions of the file and its folder",
    errno.EPERM: "check the permissions of the file and its folder",
    errno.EROFS: "the disk is read-only; give a path on a writable disk",
    errno.EISDIR: "that is a folder; give a file name",
    errno.ENOTDIR: "a part of the path is a file, not a folder; check the path",
}


def os_error_text(exc: OSError) -> str:
    """What an OSError means for the user: what, where (the user's path) and what to do."""
    name = getattr(exc, "filename", None)
    if isinstance(name, str) and name.endswith(".part"):
        name = name.removesuffix(".part")  # our atomic writes: the user gave the final name
    where = f" ({name})" if name else ""
    hint = _OS_HINTS.get(exc.errno or -1)
    return f"{exc.strerror or exc}{where}" + (f" — {hint}" if hint else "")


def _fail(app: App, args, text: str, code: int) -> int:
    """Tell the error once on stderr; with --json also as the last line of stdout."""
    print(f"error: {text}", file=sys.stderr, flush=True)
    if getattr(args, "json", False):
        app.json({"ok": False, "error": text, "exit_code": code})
    return code


def run_command(app: App, args) -> int:
    """Run args.func, turning station errors into a message and an exit code (errors told once)."""
    try:
        rc = args.func(app, args)
        return 0 if rc is None else int(rc)
    except StationError as exc:
        return _fail(app, args, str(exc), exc.exit_code)
    except DriverError as exc:  # a device (or device file) failed: it names device, port, what
        return _fail(app, args, str(exc), 2)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except OSError as exc:
        return _fail(app, args, os_error_text(exc), 2)
    except (DBAPIError, sqlite3.Error) as exc:  # the store failed under the command: disk full,
        url = app.settings.database_url  # read-only, gone (hot paths write through raw sqlite3)
        failure = store_failure(exc, url)
        if failure is not None:
            return _fail(app, args, str(failure), 2)
        if not isinstance(exc, (OperationalError, sqlite3.OperationalError)):
            raise
        return _fail(
            app,
            args,
            f"database {hidden_url(url)}: {getattr(exc, 'orig', exc)}; check station.database in "
            "config.toml, the disk and the server; the write that failed was rolled back whole",
            2,
        )
