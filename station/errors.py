"""The one exception base of station/; narrow subclasses carry what the user needs to act."""

from __future__ import annotations


class StationError(Exception):
    """Base of every error the station reports to a person; the message says what and what to do."""

    exit_code = 2


class ConfigError(StationError):
    """config.toml is missing, malformed or names something unknown."""


class InputError(StationError):
    """A file or argument given by the user is bad; nothing was changed."""


class ImportRejected(InputError):
    """A code file had bad lines; nothing was imported."""

    def __init__(self, path: str, problems: list[tuple[int, str]], total: int) -> None:
        self.path = path
        self.problems = problems
        self.total = total
        shown = "\n".join(f"line {n}: {why}" for n, why in problems[:50])
        more = f"\n… and {total - 50} more bad lines" if total > 50 else ""
        super().__init__(
            f"{path}: {total} bad line(s); nothing was imported. Fix them and import again.\n"
            f"{shown}{more}"
        )


class StoreWriteError(StationError):
    """The store could not be written (disk full, read-only, I/O error); nothing half-written.

    `key` names the kind for translated screens (store_full, store_read_only, store_io); `action`
    is what to do; `where` the file or server.
    """

    def __init__(self, key: str, message: str, action: str, where: str) -> None:
        self.key = key
        self.message = message
        self.action = action
        self.where = where
        super().__init__(f"{message}; {action}")


class TransitionError(StationError):
    """A code was asked to move to a state its lifecycle does not allow."""


class NotFound(StationError):
    """A code, batch or user that does not exist."""


class BatchStateError(StationError):
    """A batch was asked to do what its state does not allow (e.g. change a closed batch)."""


class PermissionDenied(StationError):
    """The acting user's role does not allow the action."""


class CheckFailed(StationError):
    """An integrity check found problems."""

    exit_code = 1
