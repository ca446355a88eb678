"""What an alert is: its kind, how bad it is, where on the line and when; plain data only."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum


class AlertKind(StrEnum):
    """The kinds of alert pushed to phones; each has its texts in `texts.TEXTS`."""

    DEVICE_FAULT = "device_fault"
    LINE_STOPPED = "line_stopped"
    LINE_RESUMED = "line_resumed"
    DELIVERY_FAILED = "delivery_failed"
    DELIVERY_REFUSED = "delivery_refused"
    POOL_LOW = "pool_low"
    POOL_EMPTY = "pool_empty"
    TEST = "test"


class Severity(StrEnum):
    """How urgent an alert is; `critical` means the line stops or has stopped."""

    INFO = "info"
    WARNING = "warning"
    CRITICAL = "critical"


@dataclass(frozen=True)
class Alert:
    """One alert: kind and severity, which line, batch and device, what happened and what to do.

    `message` is the detail as the source said it (a driver's error, an upstream's answer), shown
    after the sentence from the text table; `hint` is a what-to-do the source knows better than the
    table (a driver's hint), shown beside the table's. `args` fill the table's {placeholders}.
    """

    kind: AlertKind
    severity: Severity
    line: str
    batch: str | None = None
    device: str | None = None
    message: str = ""
    hint: str = ""
    at: datetime = field(default_factory=lambda: datetime.now(UTC))
    args: tuple[tuple[str, str], ...] = ()

    def arg(self, name: str, default: str = "") -> str:
        """The value of one placeholder argument, or `default`."""
        return dict(self.args).get(name, default)
