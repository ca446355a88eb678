"""`station serve`: the line's headless core as a service, until SIGTERM.

Runs the released batches one after another on the configured devices (as `station run
--headless` does; a batch an MES stored over OPC UA waits for its Start), with the OPC UA face,
the alerts and the outbox sender beside it. A batch that was running when the station died (a
crash, a power cut, kill -9) is resumed first. A fault ends that batch's run (it is held, the
alarm logged and alerted); after `retry_s` the batch is started again, so a device that comes back
is picked up without anyone at the station. SIGTERM (SIGINT, Ctrl+Break on Windows) stops the
line as an operator's stop would: in-flight items decided, the batch held, resumable.

```
wait for a started batch ──► run it ──► completed: closed, next ──┐
        ▲                       └──► fault: held, wait retry_s ───┤
        └──────────────────────────────────────────────────────────┘   SIGTERM: stop, exit 0
```
"""

from __future__ import annotations

import logging
import signal
import threading
from collections.abc import Callable

from sqlalchemy import Engine

from station.config import Settings
from station.events import LineSignals
from station.service.jobs import started_batches
from station.service.links import open_links

log = logging.getLogger("station.service.serve")


def stop_on_signals(stop: threading.Event) -> None:
    """Set `stop` on SIGTERM and SIGINT (and SIGBREAK on Windows); only from the main thread."""
    for name in ("SIGTERM", "SIGINT", "SIGBREAK"):
        sig = getattr(signal, name, None)
        if sig is None:
            continue
        try:
            signal.signal(sig, lambda *_: stop.set())
        except (ValueError, OSError):  # not the main thread (in-process tests), or not allowed
            pass


class Serve:
    """The serve loop's state: the batch on the line and the stop requests (thread-safe)."""

    def __init__(self, settings: Settings, engine: Engine, user: str) -> None:
        self.settings = settings
        self.engine = engine
        self.user = user
        self.stop = threading.Event()
        """Set to end the service (SIGTERM)."""
        self.wake = threading.Event()
        self._lock = threading.Lock()
        self._batch: str | None = None
        self._batch_stop: threading.Event | None = None
        self.summaries: list[dict] = []
        self._held: set[str] = set()  # stopped by the MES: not run again until it says Start

    def job_started(self, batch_id: str) -> str:
        """An MES started a job order: it runs when the line is free."""
        with self._lock:
            self._held.discard(batch_id)
        self.wake.set()
        with self._lock:
            if self._batch is None:
                return f"batch {batch_id} starts now"
            return f"batch {batch_id} runs after {self._batch}"

    def job_stopped(self, batch_id: str) -> str | None:
        """An MES stopped a job order: stop it if it is on the line (held, resumable)."""
        with self._lock:
            if self._batch != batch_id or self._batch_stop is None:
                return None
            self._batch_stop.set()
        return f"stopping batch {batch_id}: it is held; Start runs it again"

    def run(
        self,
        *,
        idle_poll_s: float = 2.0,
        retry_s: float = 10.0,
        finish_idle_s: float = 3.0,
        on_summary: Callable[[dict], None] | None = None,
    ) -> None:
        """Run batches until `stop` is set (see the module docstring)."""
        from station.line.run import run_production
        from station.upstream.sender import during

        signals = LineSignals()
        with (
            open_links(
                self.settings, self.engine, on_start=self.job_started, on_stop=self.job_stopped
            ) as links,
            during(self.engine, self.settings),
        ):
            links.attach(signals)
            log.info("serving line %s", self.settings.station.line)
            while not self.stop.is_set():
                with self._lock:
                    held = set(self._held)
                todo = [b for b in started_batches(self.engine, self.settings.station.id)
                        if b not in held]  # fmt: skip
                if not todo:
                    self.wake.wait(idle_poll_s)
                    self.wake.clear()
                    continue
                batch_stop = threading.Event()
                with self._lock:
                    self._batch, self._batch_stop = todo[0], batch_stop
                watcher = threading.Thread(
                    target=_either, args=(self.stop, batch_stop), daemon=True
                )
                watcher.start()
                try:
                    summary = run_production(
                        self.engine, self.settings, todo[0], user=self.user, signals=signals,
                        stop=batch_stop, finish_idle_s=finish_idle_s,
                    )  # fmt: skip
                except Exception as exc:  # a device not there at start, a store error: retry
                    log.error("batch %s did not run: %s", todo[0], exc)
                    summary = {"batch": todo[0], "fault": str(exc), "closed": False}
                finally:
                    with self._lock:
                        mes_stop = batch_stop.is_set() and not self.stop.is_set()
                        self._batch = self._batch_stop = None
                    batch_stop.set()  # ends the watcher
                self.summaries.append(summary)
                if on_summary is not None:
                    on_summary(summary)
                if mes_stop:
                    with self._lock:
                        self._held.add(todo[0])
                elif "fault" in summary:
                    log.warning("batch %s held after a fault; again in %.0f s", todo[0], retry_s)
                    self.stop.wait(retry_s)
            log.info("serve: stopped")


def _either(stop: threading.Event, batch_stop: threading.Event) -> None:
    """Set batch_stop when the service stops (the watcher ends with the batch)."""
    while not batch_stop.is_set():
        if stop.wait(0.2):
            batch_stop.set()
