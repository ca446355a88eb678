"""Pushing alerts out: one background thread per target, rate-limited, merged into digests.

    notify(alert) ─► inbox ─► [token free, nothing waiting] ─► one message
                        └──► backlog (no token, or a send failed) ─► one digest when a token returns

The caller never waits: `notify` only appends under a lock that no send holds. Each target has a
`SendWindow` (default 20 a minute, the robots' limit); while tokens last each alert goes alone,
when they are spent what arrives waits in the backlog and leaves as one digest ("12 more alerts in
the last minute: …") when a token returns. A failed send spends its token, puts its alerts back at
the head of the backlog and is retried after a doubling pause; it is logged, never raised. Every
alert ends in exactly one delivered message unless the backlog overflows (oldest dropped, logged)
or `close()` runs out of time (counted and logged).
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass

import apprise
from apprise.plugins import NotifyBase

from station.alerts import texts
from station.alerts.limiter import SendWindow
from station.alerts.model import Alert, Severity
from station.alerts.targets import body_budget, describe, open_target

log = logging.getLogger("station.alerts")

# How long a waiting thread sleeps at most before it looks at the clock again: an injected clock
# that a test moves forward is noticed within this much real time.
POLL_S = 0.25
# How long a thread with nothing to send sleeps; put() and close() wake it at once.
IDLE_S = 5.0
# Apprise colours and icons by type; severities map onto them.
NOTIFY_TYPE = {
    Severity.INFO: apprise.NotifyType.INFO,
    Severity.WARNING: apprise.NotifyType.WARNING,
    Severity.CRITICAL: apprise.NotifyType.FAILURE,
}


@dataclass(frozen=True)
class TargetStatus:
    """A snapshot of one target: what waits, what went out, what failed."""

    target: str
    waiting: int
    held: int  # of `waiting`: held back for the next digest (no token, or a failed send)
    messages_sent: int
    alerts_delivered: int
    failed_sends: int
    dropped: int
    last_error: str


class _Channel:
    """One target's queue, rate window, retries and thread."""

    def __init__(
        self,
        plugin: NotifyBase,
        window: SendWindow,
        clock: Callable[[], float],
        retry_first_s: float,
        retry_max_s: float,
        max_backlog: int,
    ) -> None:
        self.plugin, self.window, self.clock = plugin, window, clock
        self.name = describe(plugin)
        self.budget = body_budget(plugin)
        self.retry_first_s, self.retry_max_s = retry_first_s, retry_max_s
        self.max_backlog = max_backlog
        self.cond = threading.Condition()
        self.inbox: deque[Alert] = deque()
        self.backlog: deque[Alert] = deque()
        self.retry_at: float | None = None
        self.failures_in_row = 0
        self.closing_until: float | None = None  # a real time.monotonic() deadline
        self.sending = False
        self.sent = self.delivered = self.failed = self.dropped = 0
        self.last_error = ""
        self.thread = threading.Thread(target=self._run, name=f"alerts {self.name}", daemon=True)

    def put(self, alert: Alert) -> None:
        with self.cond:
            self.inbox.append(alert)
            self.cond.notify()

    def status(self) -> TargetStatus:
        with self.cond:
            waiting = len(self.inbox) + len(self.backlog)
            return TargetStatus(
                self.name, waiting, len(self.backlog), self.sent, self.delivered, self.failed,
                self.dropped, self.last_error,
            )  # fmt: skip

    def idle(self) -> bool:
        with self.cond:
            return not (self.inbox or self.backlog or self.sending)

    def _to_backlog(self) -> None:
        while self.inbox:
            self.backlog.append(self.inbox.popleft())
        over = len(self.backlog) - self.max_backlog
        if over > 0:
            for _ in range(over):
                self.backlog.popleft()
            self.dropped += over
            log.error("alerts to %s: backlog full, %d oldest alerts dropped", self.name, over)

    def _next(self) -> tuple[list[Alert], bool, float]:
        """Under the lock: the next message's alerts (none now: empty), whether they are the
        backlog, and how long to wait before looking again."""
        now = self.clock()
        retry_wait = max(0.0, self.retry_at - now) if self.retry_at is not None else 0.0
        token_wait = self.window.wait_s(now)
        if retry_wait or token_wait:
            self._to_backlog()
            return [], False, min(max(retry_wait, token_wait), POLL_S)
        if self.inbox and not self.backlog and self.closing_until is None:
            self.window.take(now)
            return [self.inbox.popleft()], False, 0.0
        self._to_backlog()
        if not self.backlog:
            return [], False, IDLE_S  # put() and close() wake the thread
        self.window.take(now)
        return list(self.backlog), True, 0.0

    def _run(self) -> None:
        while True:
            with self.cond:
                while True:
                    if self.closing_until is not None and (
                        time.monotonic() >= self.closing_until or not (self.inbox or self.backlog)
                    ):
                        return
                    alerts, from_backlog, wait = self._next()
                    if alerts:
                        break
                    self.cond.wait(wait)
                self.sending = True
            used = 0
            try:
                used = self._send(alerts)
            finally:
                with self.cond:
                    self.sending = False
                    self._after(alerts, from_backlog, used)

    def _send(self, alerts: list[Alert]) -> int:
        """Send one message; returns how many alerts it carried (0: the send failed)."""
        try:
            if len(alerts) == 1:
                (title, body), n = texts.fitted(alerts[0], self.budget), 1
            else:
                title, body, n = texts.digest(alerts, self.budget)
            worst = max(
                (a.severity for a in alerts[:n]),
                key=[Severity.INFO, Severity.WARNING, Severity.CRITICAL].index,
            )
            ok = bool(self.plugin.notify(body=body, title=title, notify_type=NOTIFY_TYPE[worst]))
            error = (
                ""
                if ok
                else (
                    getattr(self.plugin, "last_refusal", "")
                    or "the target refused the message or did not answer (see the apprise log)"
                )
            )
        except Exception as exc:  # a plugin bug must not kill the thread or reach the line
            ok, error = False, f"{type(exc).__name__}: {exc}"
        if ok:
            return n
        self.last_error = error
        return 0

    def _after(self, alerts: list[Alert], from_backlog: bool, used: int) -> None:
        if used:
            self.sent += 1
            self.delivered += used
            self.failures_in_row, self.retry_at = 0, None
            if from_backlog:
                for _ in range(used):
                    self.backlog.popleft()
            return
        self.failed += 1
        self.failures_in_row += 1
        doublings = min(self.failures_in_row - 1, 30)  # days of failures must not overflow
        pause = min(self.retry_max_s, self.retry_first_s * 2**doublings)
        self.retry_at = self.clock() + pause
        if not from_backlog:  # a lone alert goes back to wait at the head
            self.backlog.extendleft(reversed(alerts))
        log.warning(
            "alerts to %s: send of %d alert(s) failed (%d in a row): %s; retry in %.0f s",
            self.name, len(alerts), self.failures_in_row, self.last_error, pause,
        )  # fmt: skip


class Notifier:
    """Sends alerts to every target in the background; never blocks or raises into the line.

    `per_minute` sends per target in any `window_s` seconds: a minute and a second by default, so
    network jitter cannot put a 21st message into a robot's minute. `clock` (monotonic seconds)
    drives the rate window and retry pauses; tests pass one they move by hand.
    """

    def __init__(
        self,
        targets: Iterable[str | NotifyBase],
        *,
        per_minute: int = 20,
        window_s: float = 61.0,
        clock: Callable[[], float] = time.monotonic,
        retry_first_s: float = 2.0,
        retry_max_s: float = 300.0,
        max_backlog: int = 1000,
    ) -> None:
        self._channels: list[_Channel] = []
        for i, target in enumerate(targets):
            plugin = (
                open_target(target, f"alerts.targets[{i}]") if isinstance(target, str) else target
            )
            window = SendWindow(per_minute, window_s)
            self._channels.append(
                _Channel(plugin, window, clock, retry_first_s, retry_max_s, max_backlog)
            )
        self._closed = False
        for ch in self._channels:
            ch.thread.start()

    def notify(self, alert: Alert | None) -> None:
        """Queue `alert` for every target and return at once; None (no alert) is ignored."""
        if alert is None:
            return
        if self._closed:
            log.warning("alerts: notifier closed, alert not sent: %s", texts.title(alert))
            return
        for ch in self._channels:
            ch.put(alert)

    def status(self) -> tuple[TargetStatus, ...]:
        """One snapshot per target, in the order they were given."""
        return tuple(ch.status() for ch in self._channels)

    def idle(self) -> bool:
        """True when nothing waits or is being sent to any target."""
        return all(ch.idle() for ch in self._channels)

    def close(self, timeout_s: float = 10.0) -> bool:
        """Send what waits (as digests, within the rate limit) for up to `timeout_s`, then stop.

        Returns True when every alert was delivered; what was left is logged with its count.
        """
        self._closed = True
        deadline = time.monotonic() + timeout_s
        for ch in self._channels:
            with ch.cond:
                ch.closing_until = deadline
                ch.cond.notify()
        for ch in self._channels:
            ch.thread.join(max(0.0, deadline - time.monotonic()) + 1.0)
        left = {ch.name: ch.status().waiting for ch in self._channels}
        for name, n in left.items():
            if n:
                log.error("alerts to %s: %d alert(s) not delivered at close", name, n)
        return not any(left.values()) and not any(ch.thread.is_alive() for ch in self._channels)

    def __enter__(self) -> Notifier:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
