"""A closed batch read from the store as `sync.model.BatchData`, streamed for the exporters.

Each factory (`codes()`, `links()`, …) runs its own query on a read-only connection that never
holds SQLite's write lock (the running line keeps writing while a big batch exports) and yields
rows as the cursor returns them, so memory stays flat whatever the batch size.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import datetime

from sqlalchemy import Engine, String, select, type_coerce

from station.config import Settings
from station.errors import BatchStateError
from station.store import batches
from station.store.db import read_engine
from station.store.lifecycle import State
from station.store.models import Code, Link
from sync.model import BatchData, BatchInfo, CodeRecord, ContainerRecord, LinkRecord, PairRecord

DESTROYED_PREFIX = "destroyed:"  # station.qa.decisions marks a destroyed code's reason this way
EXPORTED_STATES = (
    State.VERIFIED,
    State.LINKED,
    State.DECOMMISSIONED,
    State.VOID,
)  # rejected waits for QA
CONTAINER_STATUSES = ("normal", "partial", "mixed")
PAIRED_STATES = (State.VERIFIED, State.LINKED, State.DECOMMISSIONED)
STREAM_ROWS = 5000

_codes = Code.__table__
_links = Link.__table__


def code_prefix(settings: Settings) -> str:
    """The EPC prefix for codes that are not URLs: the station's resolver + `/code/`."""
    return settings.codes.resolver.rstrip("/") + "/code/"


def batch_info(engine: Engine, settings: Settings, batch_id: str) -> BatchInfo:
    """The batch's header for the files; BatchStateError unless the batch is closed."""
    b = batches.get(read_engine(engine), batch_id)
    if b.closed_at is None:
        raise BatchStateError(
            f"batch {batch_id} is {b.state}; only a closed batch is exported "
            f"(`station batch close {batch_id}`)"
        )
    return info_of(b, settings, b.closed_at)


def info_of(b, settings: Settings, closed_at) -> BatchInfo:
    """The files' header of batch row `b` (closed at `closed_at`: a pallet's unit goes up before
    its batch closes)."""
    return BatchInfo(
        batch_id=b.id,
        station_id=b.station_id,
        line=b.line,
        product_gtin=b.product_gtin,
        product_sku=b.product_sku,
        product_name=b.product_name,
        lot=b.lot,
        produced=b.produced,
        expires=b.expires,
        closed_at=closed_at,
        code_prefix=code_prefix(settings),
    )


def batch_data(engine: Engine, settings: Settings, batch_id: str) -> BatchData:
    """The closed batch `batch_id` as BatchData; every factory call is a fresh streamed query."""
    info = batch_info(engine, settings, batch_id)
    eng = read_engine(engine)
    closed = info.closed_at

    def rows(stmt) -> Iterator:
        with eng.connect() as conn:
            result = conn.execution_options(yield_per=STREAM_ROWS).execute(stmt)
            for part in result.partitions():  # row by row through SQLAlchemy costs ~2x
                yield from part

    def codes() -> Iterator[CodeRecord]:
        stmt = (
            select(
                _codes.c.code,
                _codes.c.level,
                _codes.c.state,
                raw(_codes.c.updated_at),
                _codes.c.reason,
            )
            .where(_codes.c.batch_id == batch_id, _codes.c.state.in_(EXPORTED_STATES))
            .order_by(_codes.c.id)
        )
        when = time_parser(closed)
        for code, level, state, at, reason in rows(stmt):
            if state == State.DECOMMISSIONED and reason and reason.startswith(DESTROYED_PREFIX):
                state, reason = "destroyed", reason[len(DESTROYED_PREFIX) :].strip() or None
            yield CodeRecord(code, level, state, when(at), reason)

    def links() -> Iterator[LinkRecord]:
        parent, child = _codes.alias("p"), _codes.alias("c")
        stmt = (
            select(
                parent.c.code,
                child.c.code,
                parent.c.level,
                child.c.level,
                raw(_links.c.time),
                _links.c.action,
            )
            .select_from(
                _links.join(parent, parent.c.id == _links.c.parent_id).join(
                    child, child.c.id == _links.c.child_id
                )
            )
            .where(_links.c.batch_id == batch_id)
            .order_by(_links.c.parent_id, _links.c.id)  # grouped by parent, history in order
        )
        when = time_parser(closed)
        for p, c, p_level, c_level, at, action in rows(stmt):
            yield LinkRecord(p, c, p_level, c_level, when(at), action)

    def pairs() -> Iterator[PairRecord]:
        outer = _codes.alias("o")
        stmt = (
            select(_codes.c.code, outer.c.code, raw(_codes.c.updated_at), raw(outer.c.updated_at))
            .select_from(_codes.join(outer, outer.c.id == _codes.c.pair_id))
            .where(
                _codes.c.batch_id == batch_id,
                _codes.c.level == "inner",
                _codes.c.state.in_(PAIRED_STATES),
                outer.c.state.in_(PAIRED_STATES),
            )
            .order_by(_codes.c.id)
        )
        when = time_parser(closed)
        for inner, out, t_inner, t_outer in rows(stmt):
            # No pair time is stored: the pair was made when the first of the two was verified.
            yield PairRecord(inner, out, when(_earliest(t_inner, t_outer)))

    def containers() -> Iterator[ContainerRecord]:
        stmt = (
            select(_codes.c.code, _codes.c.level, _codes.c.child_count, _codes.c.container_status)
            .where(
                _codes.c.batch_id == batch_id,
                _codes.c.container_status.in_(CONTAINER_STATUSES),
                _codes.c.state.in_((State.VERIFIED, State.LINKED)),
            )
            .order_by(_codes.c.id)
        )
        for code, level, count, status in rows(stmt):
            yield ContainerRecord(code, level, count or 0, status)

    return BatchData(info, codes, links, pairs, containers, settings.level_names)


def capacities(settings: Settings) -> dict[str, int]:
    """Children per container for each container level of the line (for 码上放心's ratio)."""
    names = settings.level_names
    item = names.index("outer")
    return {lv.name: lv.capacity for lv in settings.levels[item + 1 :]}


def raw(column):
    """A DateTime column read as stored: SQLAlchemy's SQLite date parsing is slow per row."""
    return type_coerce(column, String)


def time_parser(default: datetime) -> Callable[[datetime | str | None], datetime]:
    """Turn a stored time (text on SQLite, datetime elsewhere) into a datetime; None → default.

    Rows written in one flush share their time, so the last text parsed is remembered.
    """
    last: list = [None, default]

    def parse(value: datetime | str | None) -> datetime:
        if value is None:
            return default
        if not isinstance(value, str):
            return value
        if value != last[0]:
            last[0], last[1] = value, datetime.fromisoformat(value)
        return last[1]

    return parse


def _earliest(a, b):
    if a is None or b is None:
        return a or b
    return min(a, b)  # same type both: ISO text sorts like the times it spells
