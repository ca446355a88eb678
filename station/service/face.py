"""The line's status events as OPC UA snapshots: RunState → PackML state, counts, batch, alarms.

```
RunState   idle → Idle (Complete after a completed batch, Stopped after a stopped one)
           starting → Starting   running → Execute   paused → Held (the operator's hold)
           faulted → Held (an equipment fault the operator clears; the alarms say which)
           stopping → Stopping   run_finished: completed → Complete, stopped → Stopped,
                                 faulted → Aborted
```
Produced is the batch's good items (verified); rejects by reason as the runner counts them.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import replace

from sqlalchemy import Engine

from station.config import Settings
from station.events import LineSignals, LineStatus, RunState
from station.store import batches

log = logging.getLogger("station.service.face")


def packml_state(state: RunState):
    """The PackML state that shows `state` (see the module docstring)."""
    from station.opcua import PackMLState as P

    return {
        RunState.IDLE: P.IDLE,
        RunState.STARTING: P.STARTING,
        RunState.RUNNING: P.EXECUTE,
        RunState.PAUSED: P.HELD,
        RunState.FAULTED: P.HELD,
        RunState.STOPPING: P.STOPPING,
    }[state]


def authenticator(settings: Settings, engine: Engine):
    """(user, PIN) → the station user's role, or None; the OPC UA password is the user's PIN."""
    from station import users
    from station.errors import StationError

    def authenticate(user: str, password: str) -> str | None:
        try:
            return users.login(engine, settings, user, password)
        except StationError:
            return None

    return authenticate


class OpcUaLink:
    """A LineFace fed from a line's signals; start() listens, stop() ends (see module doc)."""

    def __init__(self, settings: Settings, engine: Engine, jobs) -> None:
        from station.opcua import LineFace, LineSnapshot

        cfg = settings.opcua
        self.settings = settings
        self.engine = engine
        self.face = LineFace(
            jobs,
            authenticator(settings, engine),
            line_name=cfg.line_name or settings.station.line,
            job_roles=frozenset(cfg.job_roles),
            allow_anonymous=cfg.allow_anonymous,
        )
        self._lock = threading.Lock()
        self._snap = LineSnapshot()
        self._batch: tuple[str, str, str, int] | None = None  # id, product, lot, planned
        self._ended_at: float | None = None

    def start(self) -> OpcUaLink:
        """Listen on [opcua] endpoint (the certificate made at first start); OpcUaError if not."""
        cfg = self.settings.opcua
        assert cfg.endpoint is not None
        self.face.start(cfg.endpoint, self.settings.path(cfg.certificate_dir))
        log.info("OPC UA face on %s", cfg.endpoint)
        return self

    def attach(self, signals: LineSignals) -> None:
        """Publish this line's status events and run ends."""
        signals.status_changed.connect(self.status_changed)
        signals.run_finished.connect(self.run_finished)

    def status_changed(self, st: LineStatus) -> None:
        """One runner status → one snapshot (on the runner's thread: a lookup per new batch)."""
        from station.opcua import LineAlarm, PackMLState

        with self._lock:
            if st.batch_id and (self._batch is None or self._batch[0] != st.batch_id):
                self._batch = self._describe(st.batch_id)
            state = packml_state(st.state)
            if st.state == RunState.IDLE and self._snap.state in (
                PackMLState.COMPLETE, PackMLState.STOPPED, PackMLState.ABORTED
            ):  # fmt: skip
                state = self._snap.state  # the end of the batch stays shown until the next one
            bid, product, lot, planned = self._batch or ("", "", "", 0)
            self._snap = replace(
                self._snap,
                state=state,
                batch_id=bid,
                product=product,
                lot=lot,
                planned=st.planned or planned,
                produced=st.verified,
                rejected_by_reason=dict(st.rejects_by_reason),
                rate_per_min=float(st.rate_per_min),
                alarms=tuple(
                    LineAlarm(a.code, f"{a.device}: {a.message} ({a.action})", a.severity)
                    for a in st.alarms
                ),
            )
            self.face.update(self._snap)

    def run_finished(self, reason: str) -> None:
        """The run ended: Complete, Stopped or Aborted until the next batch starts."""
        from station.opcua import PackMLState

        state = {"completed": PackMLState.COMPLETE, "faulted": PackMLState.ABORTED}.get(
            reason, PackMLState.STOPPED
        )
        with self._lock:
            self._snap = replace(self._snap, state=state, rate_per_min=0.0)
            self._ended_at = time.monotonic()
            self.face.update(self._snap)

    def _describe(self, batch_id: str) -> tuple[str, str, str, int]:
        try:
            b = batches.get(self.engine, batch_id)
        except Exception:  # a store hiccup must not stop the line's thread
            log.warning("OPC UA: batch %s not readable for the snapshot", batch_id, exc_info=True)
            return batch_id, "", "", 0
        return b.id, b.product_gtin or b.product_sku, b.lot, b.quantity

    def stop(self, linger_s: float = 0.0) -> None:
        """Stop serving; with linger_s, first keep the end of the last batch shown that long."""
        if linger_s and self._ended_at is not None:
            self.face.wait_published(linger_s)
            time.sleep(max(0.0, linger_s - (time.monotonic() - self._ended_at)))
        self.face.stop()
