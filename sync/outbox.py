"""The outbox: delivers closed batch file sets upstream exactly once, however long the link is down.

Each entry walks this state machine (the store persists it; the sender drives it)::

    pending ──mark_sending──▶ sending ──ack──▶ acknowledged
       ▲                         │ TransientError / anything unexpected
       └──────mark_retry─────────┤   (attempts+1, next_attempt_at = now + backoff)
                                 └── PermanentError ──▶ parked (IT reads the message, re-queues)

Exactly once: the batch id is the receiver's idempotency key, so a resend after a lost
acknowledgement (or after a crash left an entry in `sending`) gets the first answer back and
stores nothing twice. Nothing local is deleted here: the station decides what to do with an
acknowledged batch folder.
"""

from __future__ import annotations

import logging
import random
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Protocol

from sync.errors import PermanentError, TransientError
from sync.transports.base import Transport

log = logging.getLogger(__name__)

# A server's Retry-After is honoured up to this many seconds (beyond that it is likely a typo).
MAX_RETRY_AFTER_S = 3600.0


@dataclass(frozen=True)
class OutboxEntry:
    """One batch file set waiting for (or done with) delivery."""

    id: int
    batch_id: str
    path: str
    attempts: int
    next_attempt_at: datetime
    state: str  # pending | sending | acknowledged | parked


class OutboxStore(Protocol):
    """Where the outbox lives (the station implements it on its database).

    Contract:
    - `due(now, limit)` returns entries in state `pending` *or* `sending` whose next_attempt_at
      <= now, oldest first. A `sending` entry is one a crash interrupted; resending it is
      harmless (idempotency key). Only one sender runs per store.
    - `mark_sending` sets state `sending` and increments `attempts`, committed before the send.
    - `mark_retry` sets state `pending` and the next attempt time, keeping the error text.
    - `mark_acknowledged` and `mark_parked` are final until IT re-queues a parked entry.
    """

    def due(self, now: datetime, limit: int) -> list[OutboxEntry]:
        """Entries to send now, oldest first."""
        ...

    def mark_sending(self, entry_id: int, now: datetime) -> None:
        """Record that a send attempt starts (attempts + 1)."""
        ...

    def mark_acknowledged(self, entry_id: int, answer: str, now: datetime) -> None:
        """Record upstream's acknowledgement."""
        ...

    def mark_retry(
        self, entry_id: int, error: str, next_attempt_at: datetime, now: datetime
    ) -> None:
        """Record a failed attempt worth retrying at next_attempt_at."""
        ...

    def mark_parked(self, entry_id: int, message: str, now: datetime) -> None:
        """Stop retrying; IT must look at message."""
        ...


def backoff_delay(
    attempt: int,
    base_s: float = 1.0,
    max_s: float = 300.0,
    jitter: float = 0.2,
    rng: random.Random | None = None,
) -> float:
    """Seconds to wait after failed attempt `attempt` (1-based): base·2^(n-1), capped, ±jitter.

    Jitter spreads stations that lost the network together so they do not all come back at once.
    """
    if attempt < 1:
        attempt = 1
    # Cap the exponent first so a week-long outage does not overflow the float.
    raw = base_s * (2.0 ** min(attempt - 1, 62))
    delay = min(raw, max_s)
    if jitter > 0:
        r = (rng or random).uniform(-jitter, jitter)
        delay *= 1.0 + r
    return max(0.0, min(delay, max_s * (1.0 + max(jitter, 0.0))))


def _utcnow() -> datetime:
    return datetime.now(UTC)


class OutboxSender:
    """Sends what is due through one transport; `start()` runs it on a background thread."""

    def __init__(
        self,
        store: OutboxStore,
        transport: Transport,
        *,
        clock: Callable[[], datetime] = _utcnow,
        backoff_base_s: float = 1.0,
        backoff_max_s: float = 300.0,
        jitter: float = 0.2,
        rng: random.Random | None = None,
        batch_limit: int = 20,
        idle_poll_s: float = 1.0,
    ) -> None:
        self._store = store
        self._transport = transport
        self._clock = clock
        self._base_s = backoff_base_s
        self._max_s = backoff_max_s
        self._jitter = jitter
        self._rng = rng or random.Random()
        self._batch_limit = batch_limit
        self._idle_poll_s = idle_poll_s
        self._run_lock = threading.Lock()
        self._wake = threading.Event()
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None
        self.last_error: str = ""

    def run_once(self) -> int:
        """Send every entry due now (up to batch_limit); return how many were handled."""
        with self._run_lock:
            entries = self._store.due(self._clock(), self._batch_limit)
            handled = 0
            for entry in entries:
                if self._stopping.is_set() and self._thread is not None:
                    break
                self._send_one(entry)
                handled += 1
            return handled

    def _send_one(self, entry: OutboxEntry) -> None:
        self._store.mark_sending(entry.id, self._clock())
        attempt = entry.attempts + 1
        try:
            if not Path(entry.path).is_dir():
                raise PermanentError(
                    f"batch {entry.batch_id}: folder {entry.path} is missing on this station; "
                    "restore it from backup or re-export the batch, then re-queue"
                )
            result = self._transport.deliver(Path(entry.path), entry.batch_id)
        except PermanentError as exc:
            log.warning("outbox: batch %s parked: %s", entry.batch_id, exc)
            self.last_error = str(exc)
            self._store.mark_parked(entry.id, str(exc), self._clock())
        except Exception as exc:  # TransientError, and any bug: retry later, never lose the batch
            delay = backoff_delay(attempt, self._base_s, self._max_s, self._jitter, self._rng)
            if isinstance(exc, TransientError) and exc.retry_after_s is not None:
                delay = max(delay, min(exc.retry_after_s, MAX_RETRY_AFTER_S))
            if not isinstance(exc, TransientError):
                log.exception("outbox: unexpected error delivering batch %s", entry.batch_id)
            text = str(exc) or type(exc).__name__
            self.last_error = text
            now = self._clock()
            self._store.mark_retry(entry.id, text, now + timedelta(seconds=delay), now)
        else:
            answer = result.ack_id + (f" {result.message}" if result.message else "")
            self._store.mark_acknowledged(entry.id, answer, self._clock())

    def wake(self) -> None:
        """Ask the background thread to look for due entries now (e.g. a batch just closed)."""
        self._wake.set()

    def start(self) -> None:
        """Start the background thread; returns at once."""
        if self._thread is not None and self._thread.is_alive():
            return
        self._stopping.clear()
        self._thread = threading.Thread(target=self._loop, name="outbox-sender", daemon=True)
        self._thread.start()

    def stop(self, timeout_s: float = 5.0) -> None:
        """Stop after the delivery in progress (if any); wait up to timeout_s for the thread."""
        thread = self._thread
        if thread is None:
            return
        self._stopping.set()
        self._wake.set()
        thread.join(timeout_s)
        if thread.is_alive():
            log.warning(
                "outbox: sender still busy after %.1f s; it stops after this delivery", timeout_s
            )
        else:
            self._thread = None

    @property
    def running(self) -> bool:
        """True while the background thread is alive."""
        return self._thread is not None and self._thread.is_alive()

    def _loop(self) -> None:
        while not self._stopping.is_set():
            try:
                handled = self.run_once()
            except Exception:  # the store (database) failed: keep the thread, try again later
                log.exception("outbox: store error; retrying in %.1f s", self._idle_poll_s)
                handled = 0
            if self._stopping.is_set():
                break
            if handled == 0:
                self._wake.wait(self._idle_poll_s)
                self._wake.clear()
