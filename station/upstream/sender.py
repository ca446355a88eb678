"""Delivering the outbox: a background sender for long-running processes, and `sync push`.

The line never waits for the network: closing a batch only seals its file set and adds its outbox
row (station.upstream.outbox.queue_batch); a `BackgroundSync` thread delivers it whenever upstream
answers, backing off while it does not.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime

from sqlalchemy import Engine, func, select

from station.config import Settings
from station.errors import ConfigError
from station.store.db import read_engine
from station.store.models import OutboxItem
from station.upstream import outbox
from station.upstream.chain import discover
from sync.outbox import OutboxEntry, OutboxSender
from sync.transports import Transport

log = logging.getLogger(__name__)
_outbox = OutboxItem.__table__


def _transport(settings: Settings, upstream: str | None):
    transport = outbox.make_transport(settings, upstream)
    if transport is None:
        raise ConfigError(
            'upstream.transport: no upstream is configured (transport = "none"); set [upstream] '
            "in config.toml or pass --upstream URL"
        )
    return transport


def _close(transport) -> None:
    close = getattr(transport, "close", None)
    if close is not None:
        close()


class DiscoveringStore(outbox.SqlOutboxStore):
    """The outbox table, with a look for units due (closed pallets, corrections, closes, QA's
    verdicts) at most every `every_s` before the sender asks what is due."""

    def __init__(self, engine: Engine, settings: Settings, *, every_s: float, **kw) -> None:
        super().__init__(engine, **kw)
        self.settings = settings
        self.every_s = every_s
        self._next = 0.0

    def due(self, now: datetime, limit: int) -> list[OutboxEntry]:
        """Seal what is due (never raises), then claim what is due to send."""
        if time.monotonic() >= self._next:
            self._next = time.monotonic() + self.every_s
            try:
                discover(self.engine, self.settings)
            except Exception:  # the store hiccuped: the next look tries again
                log.exception("upstream: looking for units due failed")
        return super().due(now, limit)


class BackgroundSync:
    """An OutboxSender on a daemon thread, woken whenever this process queues a unit; it seals
    closed pallets, corrections and verdicts as it finds them (every `discover_every_s`)."""

    def __init__(
        self,
        engine: Engine,
        settings: Settings,
        *,
        upstream: str | None = None,
        backoff_base_s: float = 1.0,
        backoff_max_s: float = 300.0,
        idle_poll_s: float = 1.0,
        lease_s: float = outbox.LEASE_S,
        transport: Transport | None = None,
        discover_every_s: float = 1.0,
    ) -> None:
        self.engine = engine
        # `transport` replaces the one [upstream] or `upstream` names (tests tune its timing).
        self.transport = transport or _transport(settings, upstream)
        self.store = DiscoveringStore(engine, settings, every_s=discover_every_s, lease_s=lease_s)
        # batch_limit=1: claim only the entry about to be sent, so a stop never strands claims.
        self.sender = OutboxSender(
            self.store,
            self.transport,
            backoff_base_s=backoff_base_s,
            backoff_max_s=backoff_max_s,
            idle_poll_s=idle_poll_s,
            batch_limit=1,
        )

    def start(self) -> BackgroundSync:
        """Start sending in the background; returns at once."""
        outbox.register_waker(self.sender.wake)
        self.sender.start()
        return self

    def wake(self) -> None:
        """Look for due entries now."""
        self.sender.wake()

    def wait_drained(self, timeout_s: float, batch_ids: list[str] | None = None) -> bool:
        """Wait until nothing (of batch_ids) is pending or sending; False on timeout."""
        deadline = time.monotonic() + timeout_s
        while not outbox.settled(self.engine, batch_ids):
            if time.monotonic() >= deadline:
                return False
            time.sleep(0.1)
        return True

    def stop(self, timeout_s: float = 10.0) -> None:
        """Stop after the delivery in hand and close the transport."""
        outbox.unregister_waker(self.sender.wake)
        self.sender.stop(timeout_s)
        if not self.sender.running:
            _close(self.transport)

    def __enter__(self) -> BackgroundSync:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def _next_due_in(engine: Engine, batch_ids: list[str] | None) -> float:
    stmt = select(func.min(_outbox.c.next_attempt_at)).where(_outbox.c.state.in_(outbox.ACTIVE))
    stmt = outbox.only(stmt, batch_ids)
    with read_engine(engine).connect() as conn:
        at = conn.execute(stmt).scalar()
    if at is None:
        return 0.0
    return (at - datetime.now(UTC).replace(tzinfo=None)).total_seconds()


def push(
    engine: Engine,
    settings: Settings,
    *,
    user: str,
    batch_ids: list[str] | None = None,
    upstream: str | None = None,
    wait: bool = False,
    timeout_s: float = 600.0,
    backoff_base_s: float = 0.5,
    backoff_max_s: float = 30.0,
) -> dict:
    """Send what is queued now (one attempt each), or with wait until acknowledged or parked.

    Units due are sealed first (closed pallets, corrections, closes, QA's verdicts; of batch_ids,
    or all, then closed shipment orders missing). Entries another process is sending are left to
    it; with wait this still waits for their outcome.
    """
    transport = _transport(settings, upstream)
    try:
        if batch_ids is None:
            from station.ship.close import queue_missing as queue_missing_shipments

            discover(engine, settings, user=user)
            queue_missing_shipments(engine, settings, user=user)  # closed orders, after batches
        else:
            _known(engine, batch_ids)
            discover(engine, settings, batch_ids=batch_ids, user=user)
        outbox.send_now(engine, batch_ids, user=user)
        store = outbox.SqlOutboxStore(engine, batch_ids=batch_ids)
        sender = OutboxSender(
            store,
            transport,
            backoff_base_s=backoff_base_s,
            backoff_max_s=backoff_max_s,
            batch_limit=1,
        )
        deadline = time.monotonic() + timeout_s
        timed_out = False
        while True:
            handled = sender.run_once()
            if not wait:
                if handled == 0:
                    break
                continue
            if outbox.settled(engine, batch_ids):
                break
            if time.monotonic() >= deadline:
                timed_out = True
                break
            if handled == 0:
                pause = _next_due_in(engine, batch_ids)
                time.sleep(min(max(pause, 0.05), 1.0, max(deadline - time.monotonic(), 0.0)))
    finally:
        _close(transport)
    rows = outbox.entries(engine, batch_ids)
    return {
        "upstream": outbox.describe_upstream(settings, upstream),
        "entries": rows,
        "counts": outbox.counts(engine),
        "parked": [r["batch_id"] for r in rows if r["state"] == "parked"],
        "waiting": [r["batch_id"] for r in rows if r["state"] in outbox.ACTIVE],
        "timed_out": timed_out,
    }


def _known(engine: Engine, keys: list[str]) -> None:
    """NotFound unless each key names a batch or an outbox entry (a unit: B#P1)."""
    from station.store import batches

    for key in keys:
        if outbox.find(engine, key) is None:
            batches.get(read_engine(engine), key)


class _During:
    """What `during` yields: the running BackgroundSync and a bounded drain for the end."""

    def __init__(self, sync: BackgroundSync) -> None:
        self.sync = sync

    def drain(self, timeout_s: float, batch_ids: list[str] | None = None) -> dict:
        """Wait (bounded) for the outbox to settle; what is left is reported, not waited for."""
        self.sync.wake()
        drained = self.sync.wait_drained(timeout_s, batch_ids)
        rows = outbox.entries(self.sync.engine, batch_ids)
        return {
            "drained": drained,
            "acknowledged": sum(r["state"] == "acknowledged" for r in rows),
            "parked": [r["batch_id"] for r in rows if r["state"] == "parked"],
            "waiting": [r["batch_id"] for r in rows if r["state"] in outbox.ACTIVE],
        }


@contextmanager
def during(
    engine: Engine,
    settings: Settings,
    upstream: str | None = None,
    *,
    backoff_base_s: float = 0.5,
    backoff_max_s: float = 10.0,
) -> Iterator[_During | None]:
    """A background sender for the length of the block (None when no upstream is configured)."""
    if upstream is None and settings.upstream.transport == "none":
        yield None
        return
    sync = BackgroundSync(
        engine,
        settings,
        upstream=upstream,
        backoff_base_s=backoff_base_s,
        backoff_max_s=backoff_max_s,
        idle_poll_s=0.5,
    ).start()
    try:
        yield _During(sync)
    finally:
        sync.stop()
