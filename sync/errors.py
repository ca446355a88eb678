"""Errors of the delivery side of sync/: one base, typed by what the outbox should do next."""

from __future__ import annotations


class SyncError(Exception):
    """Base of every error raised by sync/ delivery and pulls."""


class TransientError(SyncError):
    """Worth retrying later: network down, timeout, 5xx, 408/409/425/429, disk full, folder gone."""

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        server_message: str = "",
        retry_after_s: float | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.server_message = server_message
        self.retry_after_s = retry_after_s


class PermanentError(SyncError):
    """Retrying cannot help (4xx, invalid document, bad signature): park the item for IT."""

    def __init__(
        self, message: str, *, status: int | None = None, server_message: str = ""
    ) -> None:
        super().__init__(message)
        self.status = status
        self.server_message = server_message


class PullError(SyncError):
    """Upstream data (work orders, code pools) is missing or invalid; names the field."""


# Status codes that are 4xx yet mean "try again": timeout, conflict (a concurrent capture of the
# same key), too early, too many requests.
RETRYABLE_4XX = frozenset({408, 409, 425, 429})


def error_for_status(
    status: int, what: str, server_message: str, retry_after_s: float | None = None
) -> SyncError:
    """Map an HTTP error answer to TransientError or PermanentError with a message naming `what`."""
    text = f"{what}: HTTP {status}" + (f": {server_message}" if server_message else "")
    if status >= 500 or status in RETRYABLE_4XX:
        return TransientError(
            text, status=status, server_message=server_message, retry_after_s=retry_after_s
        )
    return PermanentError(text, status=status, server_message=server_message)
