"""Plant mode: many lines on one PostgreSQL database, the pool split into blocks without overlap.

A line never takes codes straight from the plant pool. It claims a block (BLOCK codes of one
level) in one transaction: `UPDATE codes SET holder = me … WHERE id IN (SELECT … FOR UPDATE
SKIP LOCKED)`, so two lines claiming at the same moment skip each other's rows instead of
waiting or colliding, and a claim killed half-way commits nothing. A committed block is the
line's: its write-ahead reservations (LineStore.reserve) then draw only from codes it holds, and
it claims the next block when its own runs out. `holder` is one column, so a code can be held
by one line at most, by construction.

On SQLite (one line, the default) there is no plant: `holder_for` answers None and the line
reserves from the whole pool as before.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Column,
    DateTime,
    Engine,
    Integer,
    MetaData,
    String,
    Table,
    column,
    func,
    insert,
    select,
    table,
    text,
    update,
)
from sqlalchemy.engine import Connection

from station.store import audit
from station.store.models import Batch

BLOCK = 5000  # codes per claim: a few minutes of a fast line, few codes stranded by a dead line
_meta = MetaData()
blocks = Table(
    "code_blocks",
    _meta,
    Column("id", BigInteger().with_variant(Integer(), "sqlite"), primary_key=True),
    Column("holder", String(64), nullable=False),
    Column("level", String(16), nullable=False),
    Column("count", Integer, nullable=False),
    Column("first_id", BigInteger),
    Column("last_id", BigInteger),
    Column("claimed_at", DateTime, nullable=False),
    Column("claimed_by", String(64), nullable=False),
)
# The plant columns of codes (models.Code predates them; migration 0002 adds them).
held = table(
    "codes",
    column("id"),
    column("level"),
    column("state"),
    column("holder"),
    column("block_id"),
    column("batch_id"),
    column("updated_at"),
)
_batches = Batch.__table__


def is_plant(engine: Engine | Connection) -> bool:
    """True when the store is a shared plant database (PostgreSQL)."""
    return engine.dialect.name == "postgresql"


def holder_for(engine: Engine, batch_id: str) -> str | None:
    """The holder a batch's line reserves as (its station id), or None off a plant database."""
    if not is_plant(engine):
        return None
    with engine.connect() as conn:
        return conn.execute(select(_batches.c.station_id).where(_batches.c.id == batch_id)).scalar()


def held_available(conn: Connection, holder: str, level: str) -> int:
    """How many available codes of `level` this line holds."""
    return conn.execute(
        select(func.count()).where(
            held.c.holder == holder, held.c.level == level, held.c.state == "available"
        )
    ).scalar_one()


def free_count(conn: Connection, level: str) -> int:
    """Available codes of `level` no line holds (the plant pool)."""
    return conn.execute(
        select(func.count()).where(
            held.c.holder.is_(None), held.c.level == level, held.c.state == "available"
        )
    ).scalar_one()


def claim(engine: Engine, holder: str, level: str, n: int = BLOCK, *, user: str) -> int:
    """Claim up to `n` unheld available codes of `level` for `holder` in one transaction.

    Returns how many were claimed (0 when the plant pool has none left). One audit entry per
    block names the holder, the count and the id range.
    """
    lock = " FOR UPDATE SKIP LOCKED" if is_plant(engine) else ""
    with engine.begin() as conn:
        block_id = conn.execute(
            insert(blocks)
            .values(holder=holder, level=level, count=0, claimed_at=audit.now(), claimed_by=user)
            .returning(blocks.c.id)
        ).scalar_one()
        ids = conn.execute(
            text(
                "UPDATE codes SET holder = :holder, block_id = :block WHERE id IN ("
                "SELECT id FROM codes WHERE level = :level AND state = 'available' "
                f"AND holder IS NULL ORDER BY id LIMIT :n{lock}) RETURNING id"
            ),
            {"holder": holder, "block": block_id, "level": level, "n": n},
        ).scalars()
        ids = list(ids)
        if not ids:
            conn.execute(blocks.delete().where(blocks.c.id == block_id))
            return 0
        first, last = min(ids), max(ids)
        conn.execute(
            update(blocks)
            .where(blocks.c.id == block_id)
            .values(count=len(ids), first_id=first, last_id=last)
        )
        audit.record(
            conn,
            user,
            [
                audit.Change(
                    "block.claim",
                    f"block {block_id}",
                    None,
                    holder,
                    f"{len(ids)} {level} codes, ids {first}..{last}",
                )
            ],
        )
    return len(ids)


def top_up(engine: Engine, holder: str, level: str, need: int, *, user: str) -> int:
    """Make sure `holder` holds at least `need` available codes of `level` if the plant has them.

    A block is BLOCK codes, or an eighth of what is still free when the pool runs low, so the
    first line to start never takes a small pool from the others; never less than the
    shortfall. Returns what the line holds afterwards.
    """
    with engine.connect() as conn:
        have = held_available(conn, holder, level)
        free = 0 if have >= need else free_count(conn, level)
    while have < need:
        got = claim(engine, holder, level, max(need - have, min(BLOCK, free // 8)), user=user)
        if not got:
            break
        have += got
    return have


def release(engine: Engine, holder: str, level: str | None = None, *, user: str) -> int:
    """Hand the available codes `holder` holds back to the plant pool (a line retired)."""
    with engine.begin() as conn:
        stmt = update(held).where(held.c.holder == holder, held.c.state == "available")
        if level:
            stmt = stmt.where(held.c.level == level)
        n = conn.execute(stmt.values(holder=None, block_id=None)).rowcount
        if n:
            audit.record(
                conn,
                user,
                [audit.Change("block.release", f"line {holder}", holder, None, f"{n} codes")],
            )
    return n
