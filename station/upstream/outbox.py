"""The station's outbox: sealed file sets on disk, one row each in the `outbox` table.

A closed batch goes upstream as units (station.upstream.units: a closed pallet each, the close,
corrections, QA's verdict), each a row whose `chain` is its batch: a unit is sent only when every
earlier unit of its chain is acknowledged, so upstream gets a batch's units in order, and one a
4xx parked holds the rest back until IT re-queues it or marks it delivered by other means.
`queue_batch` queues a closed batch's close (its pallets first); calling it again is harmless.
`SqlOutboxStore` is `sync.outbox.OutboxStore` on that table, safe for several processes (a
demo's background sender and `station sync push` at once): `due` *claims* what it returns by
pushing its next_attempt_at one lease ahead in the same transaction, so another process skips
it; a claim a crash abandoned runs out after `lease_s` and the entry is sent again (the unit's
key makes the resend harmless). Every change writes its audit entry in its transaction.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import Engine, exists, func, or_, select, update

from station.config import Settings
from station.errors import ConfigError, InputError, NotFound
from station.store import audit
from station.store.db import read_engine
from station.store.models import OutboxItem
from station.upstream.wake import register_waker as register_waker
from station.upstream.wake import unregister_waker as unregister_waker
from station.upstream.wake import wake_senders
from sync.outbox import OutboxEntry

log = logging.getLogger(__name__)
_outbox = OutboxItem.__table__
SYSTEM_USER = "sync"  # who the audit names for what the sender does on its own
LEASE_S = 120.0
ACTIVE = ("pending", "sending")
SETTLED = ("acknowledged", "parked")


def _naive(moment: datetime) -> datetime:
    """The store keeps naive UTC; the sender's clock is aware UTC."""
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC).replace(tzinfo=None)
    return moment


def _aware(moment: datetime) -> datetime:
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment


def _entry(row) -> OutboxEntry:
    return OutboxEntry(
        row.id, row.batch_id, row.path, row.attempts, _aware(row.next_attempt_at), row.state
    )


def _change(action: str, row, old: str | None, new: str | None, reason: str | None):
    chain = getattr(row, "chain", None) or row.batch_id
    return audit.Change(action, row.batch_id, old, new, (reason or "")[:4000] or None, chain)


def only(stmt, batch_ids: list[str] | None):
    """`stmt` limited to the entries of `batch_ids`: the batches' own and their units."""
    if batch_ids is None:
        return stmt
    return stmt.where(or_(_outbox.c.batch_id.in_(batch_ids), _outbox.c.chain.in_(batch_ids)))


def _before(states: tuple[str, ...], *, negate: bool = False):
    """An earlier entry of the same chain in (or, negated, not in) `states`."""
    earlier = _outbox.alias("earlier")
    test = earlier.c.state.not_in(states) if negate else earlier.c.state.in_(states)
    return (
        select(earlier.c.id)
        .where(earlier.c.chain == _outbox.c.chain, earlier.c.id < _outbox.c.id, test)
        .correlate(_outbox)
    )


class SqlOutboxStore:
    """`sync.outbox.OutboxStore` on the outbox table; `batch_ids` limits it to those batches."""

    def __init__(
        self, engine: Engine, *, batch_ids: list[str] | None = None, lease_s: float = LEASE_S
    ) -> None:
        self.engine = engine
        self.batch_ids = list(batch_ids) if batch_ids is not None else None
        self.lease_s = lease_s

    def _due_query(self, now: datetime, limit: int):
        stmt = select(_outbox).where(_outbox.c.state.in_(ACTIVE), _outbox.c.next_attempt_at <= now)
        stmt = stmt.where(~exists(_before(("acknowledged",), negate=True)))  # a chain in order
        return only(stmt, self.batch_ids).order_by(_outbox.c.id).limit(limit)

    def due(self, now: datetime, limit: int) -> list[OutboxEntry]:
        """Claim and return up to `limit` due entries (pending, or sending a crash left)."""
        at = _naive(now)
        # A cheap look first, on a reader: an idle sender must not take the write lock each poll.
        with read_engine(self.engine).connect() as conn:
            if conn.execute(self._due_query(at, 1)).first() is None:
                return []
        claimed = []
        with self.engine.begin() as conn:
            for row in conn.execute(self._due_query(at, limit)).all():
                won = conn.execute(
                    update(_outbox)
                    .where(
                        _outbox.c.id == row.id,
                        _outbox.c.state == row.state,
                        _outbox.c.next_attempt_at == row.next_attempt_at,
                    )
                    .values(next_attempt_at=at + timedelta(seconds=self.lease_s))
                ).rowcount
                if won:
                    claimed.append(_entry(row))
        return claimed

    def _mark(self, entry_id: int, action: str, values: dict, now: datetime, reason: str) -> None:
        at = _naive(now)
        with self.engine.begin() as conn:
            row = conn.execute(select(_outbox).where(_outbox.c.id == entry_id)).one()
            if row.state == "acknowledged":
                # A sender whose claim ran out finished after another one got the ack: keep it.
                log.info("outbox: batch %s already acknowledged; %s ignored", row.batch_id, action)
                return
            new = values.get("state", row.state)
            conn.execute(
                update(_outbox).where(_outbox.c.id == entry_id).values(updated_at=at, **values)
            )
            audit.record(conn, SYSTEM_USER, [_change(action, row, row.state, new, reason)], at)

    def mark_sending(self, entry_id: int, now: datetime) -> None:
        """A delivery attempt starts: state sending, attempts + 1, the claim renewed."""
        at = _naive(now)
        with self.engine.begin() as conn:
            row = conn.execute(select(_outbox).where(_outbox.c.id == entry_id)).one()
            conn.execute(
                update(_outbox)
                .where(_outbox.c.id == entry_id)
                .values(
                    state="sending",
                    attempts=_outbox.c.attempts + 1,
                    next_attempt_at=at + timedelta(seconds=self.lease_s),
                    updated_at=at,
                )
            )
            reason = f"attempt {row.attempts + 1}"
            audit.record(
                conn, SYSTEM_USER, [_change("sync.push", row, row.state, "sending", reason)], at
            )

    def mark_acknowledged(self, entry_id: int, answer: str, now: datetime) -> None:
        """Upstream acknowledged the batch: final."""
        self._mark(entry_id, "sync.ack", {"state": "acknowledged", "answer": answer}, now, answer)

    def mark_retry(
        self, entry_id: int, error: str, next_attempt_at: datetime, now: datetime
    ) -> None:
        """A failed attempt worth retrying at next_attempt_at."""
        values = {
            "state": "pending",
            "last_error": error,
            "next_attempt_at": _naive(next_attempt_at),
        }
        when = _naive(next_attempt_at).isoformat(timespec="seconds")
        self._mark(entry_id, "sync.fail", values, now, f"{error} (next attempt {when}Z)")

    def mark_parked(self, entry_id: int, message: str, now: datetime) -> None:
        """Retrying cannot help: parked until IT re-queues it (`station sync retry`)."""
        values = {"state": "parked", "last_error": message}
        self._mark(entry_id, "sync.park", values, now, message)


@dataclass(frozen=True)
class Queued:
    """What queue_batch did: the outbox row's id, the file set's folder, whether it was new."""

    id: int
    batch_id: str
    path: Path
    state: str
    created: bool


def find(engine: Engine, batch_id: str):
    """The outbox row of `batch_id`, or None."""
    with read_engine(engine).connect() as conn:
        return conn.execute(select(_outbox).where(_outbox.c.batch_id == batch_id)).first()


def queue_batch(
    engine: Engine, settings: Settings, batch_id: str, *, user: str = SYSTEM_USER
) -> Queued:
    """Queue the closed batch's close (its pallets not yet sent go first); idempotent."""
    row = find(engine, batch_id)
    if row is None:
        from station.upstream.chain import queue_close

        queue_close(engine, settings, batch_id, user=user)
        row = find(engine, batch_id)
        if row is None:
            raise NotFound(f"batch {batch_id}: its close was not queued; `station sync status`")
        return Queued(row.id, batch_id, Path(row.path), row.state, True)
    return Queued(row.id, batch_id, Path(row.path), row.state, False)


def queue_missing(engine: Engine, settings: Settings, *, user: str) -> list[Queued]:
    """Queue every closed batch that has no outbox row yet (e.g. closed before a crash)."""
    from station.store.models import Batch

    b = Batch.__table__
    with read_engine(engine).connect() as conn:
        ids = conn.execute(
            select(b.c.id)
            .where(b.c.closed_at.is_not(None), b.c.id.not_in(select(_outbox.c.batch_id)))
            .order_by(b.c.closed_at)
        ).scalars().all()  # fmt: skip
    return [queue_batch(engine, settings, i, user=user) for i in ids]


def requeue(engine: Engine, batch_id: str, *, user: str) -> str:
    """IT's retry: a parked (or waiting) entry becomes due now; returns its previous state."""
    at = audit.now()
    with engine.begin() as conn:
        row = conn.execute(select(_outbox).where(_outbox.c.batch_id == batch_id)).first()
        if row is None:
            raise NotFound(f"batch {batch_id} is not in the outbox; `station sync status` lists it")
        if row.state == "acknowledged":
            raise InputError(
                f"batch {batch_id} was acknowledged upstream ({row.answer}); nothing to retry"
            )
        conn.execute(
            update(_outbox)
            .where(_outbox.c.id == row.id)
            .values(state="pending", next_attempt_at=at, updated_at=at)
        )
        reason = f"was {row.state}: {row.last_error or ''}".strip()
        audit.record(conn, user, [_change("sync.retry", row, row.state, "pending", reason)], at)
    wake_senders()
    return row.state


def send_now(engine: Engine, batch_ids: list[str] | None, *, user: str) -> int:
    """Make waiting entries due now (skipping their backoff); one audit entry per entry moved."""
    at = audit.now()
    with engine.begin() as conn:
        stmt = select(_outbox).where(_outbox.c.state == "pending", _outbox.c.next_attempt_at > at)
        rows = conn.execute(only(stmt, batch_ids)).all()
        for row in rows:
            conn.execute(update(_outbox).where(_outbox.c.id == row.id).values(next_attempt_at=at))
        changes = [_change("sync.now", r, r.state, r.state, "push requested") for r in rows]
        audit.record(conn, user, changes, at)
    return len(rows)


def entries(engine: Engine, batch_ids: list[str] | None = None) -> list[dict]:
    """Outbox rows, oldest first, as JSON-ready dicts."""
    stmt = only(select(_outbox).order_by(_outbox.c.id), batch_ids)
    with read_engine(engine).connect() as conn:
        rows = conn.execute(stmt).all()
    out = []
    for r in rows:
        d = dict(r._mapping)
        for k in ("next_attempt_at", "created_at", "updated_at"):
            d[k] = d[k].isoformat(timespec="seconds") + "Z" if d[k] else None
        out.append(d)
    return out


def counts(engine: Engine) -> dict[str, int]:
    """Outbox entries by state."""
    with read_engine(engine).connect() as conn:
        rows = conn.execute(select(_outbox.c.state, func.count()).group_by(_outbox.c.state)).all()
    return dict(sorted((s, n) for s, n in rows))


def settled(engine: Engine, batch_ids: list[str] | None = None) -> bool:
    """True when no entry (of batch_ids) is pending or sending, except those waiting behind a
    parked one of their chain (they go when IT has dealt with it)."""
    stmt = select(func.count()).where(_outbox.c.state.in_(ACTIVE), ~exists(_before(("parked",))))
    with read_engine(engine).connect() as conn:
        return conn.execute(only(stmt, batch_ids)).scalar_one() == 0


def blocked(engine: Engine) -> dict[str, str]:
    """Entries waiting behind an earlier, unacknowledged entry of their chain: key → that one."""
    earlier = _outbox.alias("earlier")
    first = (
        select(earlier.c.batch_id)
        .where(earlier.c.chain == _outbox.c.chain, earlier.c.id < _outbox.c.id)
        .where(earlier.c.state != "acknowledged")
        .order_by(earlier.c.id)
        .limit(1)
        .correlate(_outbox)
        .scalar_subquery()
    )
    stmt = select(_outbox.c.batch_id, first).where(
        _outbox.c.state.in_(ACTIVE), _outbox.c.chain.is_not(None)
    )
    with read_engine(engine).connect() as conn:
        return {k: v for k, v in conn.execute(stmt).all() if v}


def make_transport(settings: Settings, upstream: str | None = None):
    """The transport [upstream] names, or None when it is "none" and no override is given.

    `upstream` (`--upstream URL`) overrides the URL: an http(s) URL goes through the configured
    HTTP transport (EPCIS capture when the config says folder or none), anything else is a folder
    (a path, or file:///path). For rest-upload the URL is the POST endpoint; for epcis-capture it
    is the base the `/capture` path is added to.
    """
    from sync.transports import EpcisCaptureTransport, FolderTransport, RestUploadTransport

    cfg = settings.upstream
    kind, url, folder = cfg.transport, cfg.url, cfg.folder
    if upstream:
        if upstream.startswith(("http://", "https://")):
            url = upstream
            if kind not in ("epcis-capture", "rest-upload"):
                kind = "epcis-capture"
        elif "://" in upstream and not upstream.startswith("file://"):
            raise InputError(
                f"--upstream {upstream!r}: give an http:// or https:// URL, a folder path or "
                "file:///folder"
            )
        else:
            kind, folder = "folder", upstream.removeprefix("file://")
    if kind == "none":
        return None
    if kind == "folder":
        if not (folder or url):
            raise ConfigError("upstream.folder: the folder transport needs a folder; set it")
        return FolderTransport(settings.path(folder or url or ""))
    if not url:
        raise ConfigError(f"upstream.url: the {kind} transport needs a URL; set it")
    if kind == "rest-upload":
        return RestUploadTransport(url, auth_token=cfg.token, timeout_s=60.0)
    return EpcisCaptureTransport(
        url, auth_token=cfg.token, timeout_s=30.0, poll_interval_s=0.2, poll_timeout_s=120.0
    )


def describe_upstream(settings: Settings, upstream: str | None = None) -> str | None:
    """Where deliveries go, for status output (the token never shown)."""
    cfg = settings.upstream
    if upstream:
        return upstream
    if cfg.transport == "none":
        return None
    return f"{cfg.transport} {cfg.folder if cfg.transport == 'folder' else cfg.url}"


def queue_after_close(engine: Engine, settings: Settings, batch_id: str, *, user: str) -> dict:
    """queue_batch for close_batch: never raises (the batch is closed whatever happens here).

    A failure (a format the codes do not fit, a full disk) is logged and audited as
    `sync.queue_failed`; `station sync retry BATCH` seals and queues it once fixed.
    """
    try:
        q = queue_batch(engine, settings, batch_id, user=user)
    except Exception as exc:
        log.exception("batch %s: sealing its file set failed", batch_id)
        text = f"{type(exc).__name__}: {exc}"
        try:
            with engine.begin() as conn:
                change = audit.Change("sync.queue_failed", batch_id, None, None, text, batch_id)
                audit.record(conn, user, [change])
        except Exception:
            log.exception("batch %s: could not audit the failure", batch_id)
        return {"state": "error", "error": text}
    return {"state": q.state, "path": str(q.path)}
