"""The line's events, its outbox and its pools as alerts to phones (station.alerts).

Fed from the line's signals: `alarm_raised` → a device fault, once per device and alarm code until
it is cleared: `alarm_cleared`, or the line running `rearm_s` without it (a fault the operator
clears and that comes straight back, a printer that is gone, alerts once, not on every retry);
`status_changed` → the line's running/stopped state (a long stop alerts once).
A watcher thread looks every `poll_s` at what no signal carries: how long the line has been
stopped, the outbox (deliveries failing in a row) and the pools of the levels given thresholds.
"""

from __future__ import annotations

import logging
import threading
import time

from sqlalchemy import Engine, func, select

from station.config import Settings
from station.events import Alarm, LineSignals, LineStatus, RunState
from station.store.db import read_engine
from station.store.models import Code

log = logging.getLogger("station.service.alerting")
_codes = Code.__table__
RUNNING = frozenset({RunState.RUNNING, RunState.STARTING})


class AlertsLink:
    """AlertRules and a Notifier for one line; attach() to its signals, close() at the end."""

    def __init__(
        self, settings: Settings, engine: Engine, *, poll_s: float = 30.0, rearm_s: float = 60.0
    ) -> None:
        from station import alerts

        self.settings = settings
        self.engine = engine
        self.rules, self.notifier = alerts.build(settings.alerts, settings.station.line)
        self._lock = threading.Lock()
        self._line: str = "stopped"
        self._reason = ""
        self.rearm_s = rearm_s
        self._alerted: dict[tuple[str, str], float | None] = {}  # (device, code) → gone since
        self._stop = threading.Event()
        self._thread = threading.Thread(
            target=self._watch, args=(poll_s,), name="alerts-watch", daemon=True
        )
        self._thread.start()

    def attach(self, signals: LineSignals) -> None:
        """Alert on this line's alarms and long stops."""
        signals.alarm_raised.connect(self.alarm_raised)
        signals.alarm_cleared.connect(self.alarm_cleared)
        signals.status_changed.connect(self.status_changed)

    def alarm_raised(self, alarm: Alarm) -> None:
        """A device fault or a line alarm: one alert per (device, code) until it is cleared."""
        with self._lock:
            alert = self.rules.device_fault(
                alarm.device, alarm.message, code=alarm.code, hint=alarm.action
            )
            self._alerted[(alarm.device, alarm.code)] = None
        self.notifier.notify(alert)

    def alarm_cleared(self, code: str) -> None:
        """The alarm `code` is cleared: it alerts again if it comes back."""
        with self._lock:
            self.rules.fault_cleared(code)
            self._alerted = {k: v for k, v in self._alerted.items() if k[1] != code}

    def status_changed(self, st: LineStatus) -> None:
        """The line's state: running, or stopped (paused, faulted, idle) with the alarms why."""
        line = "running" if st.state in RUNNING else "stopped"
        with self._lock:
            if st.batch_id != self.rules.batch:
                self.rules.batch_started(st.batch_id)
            self._line = line
            self._reason = "; ".join(f"{a.device}: {a.message}" for a in st.alarms)
            self._rearm({(a.device, a.code) for a in st.alarms}, line == "running")
            alert = self.rules.line_state(line, reason=self._reason)  # type: ignore[arg-type]
        self.notifier.notify(alert)

    def _rearm(self, active: set[tuple[str, str]], running: bool) -> None:
        """Faults the line has run rearm_s without may alert again (under the lock)."""
        now = time.monotonic()
        for key, gone in list(self._alerted.items()):
            if key in active or not running:
                self._alerted[key] = None
            elif gone is None:
                self._alerted[key] = now
            elif now - gone >= self.rearm_s:
                self.rules.device_ok(*key)
                del self._alerted[key]

    def check(self) -> None:
        """Look once at the stop time, the outbox and the pools (the watcher calls this)."""
        with self._lock:
            alert = self.rules.line_state(self._line, reason=self._reason)  # type: ignore[arg-type]
        self.notifier.notify(alert)
        self._outbox()
        self._pools()

    def _outbox(self) -> None:
        from station.upstream import outbox

        target = outbox.describe_upstream(self.settings) or "upstream"
        for e in outbox.entries(self.engine):
            with self._lock:
                if e["state"] == "parked":  # refused for good: alert now, with upstream's reason
                    alert = self.rules.delivery_refused(
                        target, e["batch_id"], str(e["last_error"] or ""),
                        batch=e.get("chain") or e["batch_id"],
                    )  # fmt: skip
                    self.notifier.notify(alert)
                else:
                    self.rules.refusal_cleared(e["batch_id"])
                if e["state"] in ("pending", "parked") and e.get("last_error"):
                    alert = self.rules.delivery_failed(
                        target, str(e["last_error"]), int(e["attempts"]), batch=e["batch_id"]
                    )
                elif e["state"] not in ("pending", "sending", "parked"):
                    self.rules.delivery_ok(target)
                    alert = None
                else:
                    alert = None
            self.notifier.notify(alert)

    def _pools(self) -> None:
        levels = [
            lv for lv in self.settings.alerts.pool_thresholds if lv in self.settings.level_names
        ]
        if not levels:
            return
        with read_engine(self.engine).connect() as conn:
            have = dict(
                conn.execute(
                    select(_codes.c.level, func.count())
                    .where(_codes.c.level.in_(levels), _codes.c.state == "available")
                    .group_by(_codes.c.level)
                ).all()
            )
        for level in levels:
            with self._lock:
                alert = self.rules.pool_level(level, int(have.get(level, 0)))
            self.notifier.notify(alert)

    def _watch(self, poll_s: float) -> None:
        while not self._stop.wait(poll_s):
            try:
                self.check()
            except Exception:  # a store hiccup: the next look tries again
                log.warning("alerts: a periodic check failed", exc_info=True)

    def close(self, timeout_s: float = 10.0) -> None:
        """Stop watching; send what waits (digests within the rate limit) for up to timeout_s."""
        self._stop.set()
        self._thread.join(5)
        self.notifier.close(timeout_s)
