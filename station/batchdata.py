"""A closed batch read from the store as `sync.model.BatchData`, streamed for the exporters.

Each factory (`codes()`, `links()`, …) runs its own query on a read-only connection that never
holds SQLite's write lock (the running line keeps writing while a big batch exports) and yields
rows as the cursor returns them, so memory stays flat whatever the batch size.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime

from sqlalchemy import Engine, select

from station import batches
from station.config import Settings
from station.errors import BatchStateError
from station.models import Code, Link
from station.qa_store import reader
from sync.model import BatchData, BatchInfo, CodeRecord, ContainerRecord, LinkRecord, PairRecord

DESTROYED_PREFIX = "destroyed:"  # station.qa marks a destroyed code's reason this way
EXPORTED_STATES = ("verified", "linked", "decommissioned", "void")  # rejected waits for QA
CONTAINER_STATUSES = ("normal", "partial", "mixed")
PAIRED_STATES = ("verified", "linked", "decommissioned")
STREAM_ROWS = 5000

_codes = Code.__table__
_links = Link.__table__


def code_prefix(settings: Settings) -> str:
    """The EPC prefix for codes that are not URLs: the station's resolver + `/code/`."""
    return settings.codes.resolver.rstrip("/") + "/code/"


def batch_info(engine: Engine, settings: Settings, batch_id: str) -> BatchInfo:
    """The batch's header for the files; BatchStateError unless the batch is closed."""
    b = batches.get(reader(engine), batch_id)
    if b.closed_at is None:
        raise BatchStateError(
            f"batch {batch_id} is {b.state}; only a closed batch is exported "
            f"(`station batch close {batch_id}`)"
        )
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
        closed_at=b.closed_at,
        code_prefix=code_prefix(settings),
    )


def batch_data(engine: Engine, settings: Settings, batch_id: str) -> BatchData:
    """The closed batch `batch_id` as BatchData; every factory call is a fresh streamed query."""
    info = batch_info(engine, settings, batch_id)
    eng = reader(engine)
    closed = info.closed_at

    def rows(stmt) -> Iterator:
        with eng.connect() as conn:
            yield from conn.execution_options(yield_per=STREAM_ROWS).execute(stmt)

    def codes() -> Iterator[CodeRecord]:
        stmt = (
            select(
                _codes.c.code, _codes.c.level, _codes.c.state, _codes.c.updated_at, _codes.c.reason
            )
            .where(_codes.c.batch_id == batch_id, _codes.c.state.in_(EXPORTED_STATES))
            .order_by(_codes.c.id)
        )
        for code, level, state, when, reason in rows(stmt):
            if state == "decommissioned" and reason and reason.startswith(DESTROYED_PREFIX):
                state, reason = "destroyed", reason[len(DESTROYED_PREFIX) :].strip() or None
            yield CodeRecord(code, level, state, when or closed, reason)

    def links() -> Iterator[LinkRecord]:
        parent, child = _codes.alias("p"), _codes.alias("c")
        stmt = (
            select(
                parent.c.code,
                child.c.code,
                parent.c.level,
                child.c.level,
                _links.c.time,
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
        for p, c, p_level, c_level, when, action in rows(stmt):
            yield LinkRecord(p, c, p_level, c_level, when or closed, action)

    def pairs() -> Iterator[PairRecord]:
        outer = _codes.alias("o")
        stmt = (
            select(_codes.c.code, outer.c.code, _codes.c.updated_at, outer.c.updated_at)
            .select_from(_codes.join(outer, outer.c.id == _codes.c.pair_id))
            .where(
                _codes.c.batch_id == batch_id,
                _codes.c.level == "inner",
                _codes.c.state.in_(PAIRED_STATES),
                outer.c.state.in_(PAIRED_STATES),
            )
            .order_by(_codes.c.id)
        )
        for inner, out, t_inner, t_outer in rows(stmt):
            # No pair time is stored: the pair was made when the first of the two was verified.
            yield PairRecord(inner, out, _earliest(t_inner, t_outer) or closed)

    def containers() -> Iterator[ContainerRecord]:
        stmt = (
            select(_codes.c.code, _codes.c.level, _codes.c.child_count, _codes.c.container_status)
            .where(
                _codes.c.batch_id == batch_id,
                _codes.c.container_status.in_(CONTAINER_STATUSES),
                _codes.c.state.in_(("verified", "linked")),
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


def _earliest(a: datetime | None, b: datetime | None) -> datetime | None:
    if a is None or b is None:
        return a or b
    return min(a, b)
