"""When an alert is raised: plain inputs from the line in, at most one alert per condition out.

Each method takes what the line knows at one moment and returns the new `Alert`, or None when
nothing new happened. A condition alerts once and is re-armed when it ends (the device reports
no fault, the line runs, deliveries succeed, a refused unit is re-queued, the pool is
refilled), so a fault a device repeats on every poll reaches phones once. Times are the
caller's (`now`, aware datetimes), so the rules need no clock and no thread.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Literal

from station.alerts.model import Alert, AlertKind, Severity

LineState = Literal["stopped", "running"]


def _aware(now: datetime | None) -> datetime:
    if now is None:
        return datetime.now(UTC)
    if now.tzinfo is None:
        raise ValueError(
            f"alert rules: time {now.isoformat()} has no time zone; pass an aware datetime "
            "(datetime.now(UTC))"
        )
    return now


class AlertRules:
    """Turns the line's plain inputs into alerts, once per condition; one instance per line."""

    def __init__(
        self,
        line: str,
        *,
        stopped_minutes: float = 10.0,
        delivery_failures: int = 3,
        pool_thresholds: dict[str, int] | None = None,
    ) -> None:
        if stopped_minutes <= 0:
            raise ValueError(
                f"alert rules: stopped_minutes is {stopped_minutes}; give minutes above 0"
            )
        if delivery_failures < 1:
            raise ValueError(
                f"alert rules: delivery_failures is {delivery_failures}; give 1 or more"
            )
        self.line = line
        self.batch: str | None = None
        self.stopped_minutes = stopped_minutes
        self.delivery_failures = delivery_failures
        self.pool_thresholds = dict(pool_thresholds or {})
        self._faults: set[tuple[str, str]] = set()
        self._stopped_since: datetime | None = None
        self._stop_alerted = False
        self._delivery_alerted: set[str] = set()
        self._refused: set[tuple[str, str]] = set()
        self._pool_alerted: dict[str, AlertKind] = {}

    def batch_started(self, batch: str | None) -> None:
        """Name the batch that later alerts belong to (None between batches)."""
        self.batch = batch

    def _alert(self, kind: AlertKind, severity: Severity, at: datetime, **kw) -> Alert:
        args = tuple((k, str(v)) for k, v in kw.pop("args", {}).items())
        batch = kw.pop("batch", None) or self.batch
        return Alert(kind, severity, self.line, batch, at=at, args=args, **kw)

    def device_fault(
        self,
        device: str,
        what: str,
        *,
        code: str = "",
        hint: str = "",
        batch: str | None = None,
        now: datetime | None = None,
    ) -> Alert | None:
        """A device reports a fault; alerts once per (device, code) until `device_ok`.

        `code` names the fault (an alarm key such as "printer_fault"); without it, the text `what`
        does, so a fault whose wording changes on every poll should be given a code.
        """
        key = (device, code or what)
        if key in self._faults:
            return None
        self._faults.add(key)
        return self._alert(
            AlertKind.DEVICE_FAULT,
            Severity.CRITICAL,
            _aware(now),
            device=device,
            message=what,
            hint=hint,
            batch=batch,
        )

    def device_ok(self, device: str, code: str | None = None) -> None:
        """The device's fault (one code, or all its faults) is cleared; it may alert again."""
        self._faults = {
            (d, c) for d, c in self._faults if d != device or (code is not None and c != code)
        }

    def fault_cleared(self, code: str) -> None:
        """A fault named `code` is cleared on whichever device had it (the line's alarm_cleared)."""
        self._faults = {(d, c) for d, c in self._faults if c != code}

    def line_state(
        self, state: LineState, now: datetime | None = None, reason: str = ""
    ) -> Alert | None:
        """The line's state now; call on every change and every half minute or so while stopped.

        Alerts once per stop when the line has been stopped `stopped_minutes`, and once more when a
        stop that alerted ends (line running again), so the phone also learns it is over.
        """
        if state not in ("stopped", "running"):
            raise ValueError(f"alert rules: line state {state!r}; give 'stopped' or 'running'")
        now = _aware(now)
        if state == "running":
            since, alerted = self._stopped_since, self._stop_alerted
            self._stopped_since, self._stop_alerted = None, False
            if since is None or not alerted:
                return None
            minutes = max(1, round((now - since).total_seconds() / 60))
            return self._alert(
                AlertKind.LINE_RESUMED, Severity.INFO, now, args={"minutes": minutes}
            )
        if self._stopped_since is None:
            self._stopped_since = now
        stopped_s = (now - self._stopped_since).total_seconds()
        if self._stop_alerted or stopped_s < self.stopped_minutes * 60:
            return None
        self._stop_alerted = True
        since = self._stopped_since.astimezone(UTC).strftime("%H:%M UTC")
        return self._alert(
            AlertKind.LINE_STOPPED,
            Severity.CRITICAL,
            now,
            message=reason,
            args={"minutes": f"{self.stopped_minutes:g}", "since": since},
        )

    def delivery_failed(
        self,
        target: str,
        error: str,
        attempts: int,
        *,
        batch: str | None = None,
        now: datetime | None = None,
    ) -> Alert | None:
        """Upstream delivery to `target` failed `attempts` times in a row; alerts once per outage.

        Alerts when attempts reach `delivery_failures`, then not again until `delivery_ok(target)`.
        """
        if attempts < self.delivery_failures or target in self._delivery_alerted:
            return None
        self._delivery_alerted.add(target)
        return self._alert(
            AlertKind.DELIVERY_FAILED,
            Severity.WARNING,
            _aware(now),
            device=target,
            message=error,
            batch=batch,
            args={"target": target, "attempts": attempts},
        )

    def delivery_refused(
        self,
        target: str,
        unit: str,
        error: str,
        *,
        batch: str | None = None,
        now: datetime | None = None,
    ) -> Alert | None:
        """Upstream refused `unit` for good (parked: no retry helps); alerts at once, once per
        unit until `refusal_cleared(unit)` (IT re-queued it or marked it delivered)."""
        if (target, unit) in self._refused:
            return None
        self._refused.add((target, unit))
        return self._alert(
            AlertKind.DELIVERY_REFUSED,
            Severity.WARNING,
            _aware(now),
            device=target,
            message=error,
            batch=batch,
            args={"target": target, "unit": unit},
        )

    def refusal_cleared(self, unit: str) -> None:
        """`unit` is no longer parked: a new refusal of it alerts again."""
        self._refused = {k for k in self._refused if k[1] != unit}

    def delivery_ok(self, target: str) -> None:
        """A delivery to `target` succeeded: the next run of failures alerts again."""
        self._delivery_alerted.discard(target)

    def pool_level(
        self,
        level: str,
        remaining: int,
        threshold: int | None = None,
        now: datetime | None = None,
    ) -> Alert | None:
        """The pool of `level` has `remaining` available codes; alerts when it falls below.

        `threshold` defaults to `pool_thresholds[level]`; a level with neither never alerts. Below
        the threshold alerts a warning once, at zero a critical once more; both re-arm when the pool
        is back at or above the threshold.
        """
        if threshold is None:
            threshold = self.pool_thresholds.get(level)
        if threshold is None:
            return None
        if remaining >= threshold:
            self._pool_alerted.pop(level, None)
            return None
        kind = AlertKind.POOL_EMPTY if remaining <= 0 else AlertKind.POOL_LOW
        seen = self._pool_alerted.get(level)
        if seen is AlertKind.POOL_EMPTY or seen is kind:
            return None
        self._pool_alerted[level] = kind
        severity = Severity.CRITICAL if kind is AlertKind.POOL_EMPTY else Severity.WARNING
        return self._alert(
            kind,
            severity,
            _aware(now),
            args={"level": level, "remaining": max(0, remaining), "threshold": threshold},
        )
