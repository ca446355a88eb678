"""Alerts to phones: line faults, long stops, failed deliveries, low pools; sent through Apprise.

Plain data in (`AlertRules`' methods), `Alert`s out, sent by a `Notifier` to WeCom or DingTalk
robots, e-mail and webhooks. Imports nothing else from station/: the line wires its events in.
"""

from __future__ import annotations

from station.alerts.config import AlertsConfig
from station.alerts.model import Alert, AlertKind, Severity
from station.alerts.notifier import Notifier, TargetStatus
from station.alerts.rules import AlertRules
from station.alerts.targets import TargetError, open_target

__all__ = [
    "Alert",
    "AlertKind",
    "AlertRules",
    "AlertsConfig",
    "Notifier",
    "Severity",
    "TargetError",
    "TargetStatus",
    "build",
    "open_target",
    "send_test",
]


def build(config: AlertsConfig, line: str) -> tuple[AlertRules, Notifier]:
    """The rules and the notifier of one line from its `[alerts]` section."""
    rules = AlertRules(
        line,
        stopped_minutes=config.stopped_minutes,
        delivery_failures=config.delivery_failures,
        pool_thresholds=dict(config.pool_thresholds),
    )
    return rules, Notifier(config.targets, per_minute=config.per_minute)


def send_test(config: AlertsConfig, line: str, timeout_s: float = 30.0) -> tuple[TargetStatus, ...]:
    """Send one test alert to every target and wait for it (`station alerts test`).

    Returns each target's status after the wait: `alerts_delivered` 1 when it arrived, else
    `last_error` says what the target answered.
    """
    notifier = Notifier(config.targets, per_minute=config.per_minute, retry_first_s=1.0)
    notifier.notify(Alert(AlertKind.TEST, Severity.INFO, line))
    notifier.close(timeout_s)
    return notifier.status()
