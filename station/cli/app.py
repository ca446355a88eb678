"""What every command shares: settings, the store, the acting user, output; errors told once."""

from __future__ import annotations

import json
import sys
from functools import cached_property
from typing import Any

from rich.console import Console
from sqlalchemy import Engine

from drivers.errors import DriverError
from station.config import Settings, load_settings
from station.errors import StationError


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
        from station.db import make_engine

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


def setup_logging(settings: Settings) -> None:
    """Log to <data_dir>/logs/station.log (rotated); inner codes are never logged in full."""
    import logging
    from logging.handlers import RotatingFileHandler

    root = logging.getLogger()
    if any(getattr(h, "_linestation", False) for h in root.handlers):
        return
    try:
        folder = settings.data_dir / "logs"
        folder.mkdir(parents=True, exist_ok=True)
        handler = RotatingFileHandler(
            folder / "station.log", maxBytes=10_000_000, backupCount=5, encoding="utf-8"
        )
    except OSError:
        return  # a read-only data folder must not stop a command; errors still reach stderr
    handler._linestation = True  # type: ignore[attr-defined]
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root.addHandler(handler)
    root.setLevel(logging.INFO)
    logging.getLogger("pymodbus").setLevel(logging.CRITICAL)  # it logs every timeout as ERROR
    logging.getLogger("alembic").setLevel(logging.WARNING)


def run_command(app: App, args) -> int:
    """Run args.func, turning station errors into a message and an exit code (errors told once)."""
    try:
        rc = args.func(app, args)
        return 0 if rc is None else int(rc)
    except StationError as exc:
        print(f"error: {exc}", file=sys.stderr, flush=True)
        return exc.exit_code
    except DriverError as exc:  # a device (or device file) failed: it names device, port, what
        print(f"error: {exc}", file=sys.stderr, flush=True)
        return 2
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except OSError as exc:
        where = f" ({exc.filename})" if getattr(exc, "filename", None) else ""
        hint = " — the disk is full; free space and retry" if exc.errno == 28 else ""
        print(f"error: {exc.strerror or exc}{where}{hint}", file=sys.stderr, flush=True)
        return 2
