"""Plant link: a line on its own SQLite store that draws codes from the plant and reports back.

A line config with both `[station] database` (its local SQLite) and `plant_database` (the plant's
PostgreSQL) runs on the local store exactly as a single line does; this module is the plant side.

Claim: `plant.claim` commits a block in the plant (SKIP LOCKED, holder = station id); copying its
codes here is a second, local transaction that records the plant's block id in the local
code_blocks table. A kill between the two loses nothing: `sync_blocks` copies every block the
plant says this line holds and the local store does not know yet, so a re-run is idempotent. The
line keeps `station.plant_reserve_blocks` (default 2) blocks of every level ahead, so a lost
plant does not stop printing for a long time; station.plant.link_run.PlantLink, the background
side, warns when a level runs low while the plant is unreachable and says so plainly when nothing
is left (the line then stops on an empty pool).

Report (station.plant.link_report) pushes what happened locally back to the plant.

```
 plant PostgreSQL              this line's SQLite
 code_blocks ── claim ──►  copy (block id recorded) ──► LineStore reserves, prints, links …
 codes/links/rejects/
 batches/audit  ◄── report (watermarks in the plant's meta, same transaction) ───┘
```
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import (
    DateTime,
    Engine,
    bindparam,
    column,
    create_engine,
    func,
    insert,
    select,
    text,
)
from sqlalchemy.exc import InterfaceError, OperationalError

from station.config import LEVEL_ORDER, Settings
from station.errors import ConfigError, StationError
from station.plant import blocks as plant
from station.store import audit
from station.store.db import hidden_url, read_engine, upgrade
from station.store.models import Code, Pool

log = logging.getLogger("station.plant.link")
_codes = Code.__table__
_pools = Pool.__table__
COPY_CHUNK = 1000  # codes per local transaction while copying a block
CONNECT_TIMEOUT_S = 3  # an unreachable plant is told in seconds, never hangs a caller
STATEMENT_TIMEOUT_MS = 60_000
_BLOCK_ID = column("block_id")  # the plant columns of codes (migration 0002; not in models.Code)
_COPY = text(
    "INSERT OR IGNORE INTO codes (code, level, state, pool_id, updated_at, holder, block_id) "
    "VALUES (:code, :level, :state, :pool_id, :updated_at, :holder, :block_id)"
).bindparams(bindparam("updated_at", type_=DateTime))
_engines: dict[str, Engine] = {}
_migrated: set[str] = set()
_short: set[str] = set()  # levels whose last claim the plant pool could not fill
_lock = threading.Lock()


class PlantUnreachable(StationError):
    """The plant database did not answer (or failed); the line goes on from its local block."""

    exit_code = 1


def plant_url(settings: Settings) -> str | None:
    """The plant database when this line runs in plant-link mode, else None.

    None also when the line's own store is not SQLite ($LINESTATION_DATABASE pointing the line
    straight at the plant): then the line works on the plant itself (station.plant.blocks).
    """
    url = settings.station.plant_database
    if not url:
        return None
    if not url.startswith("postgresql://"):
        raise ConfigError(f"station.plant_database must be a postgresql:// URL, got {url!r}")
    return url if settings.database_url.startswith("sqlite") else None


def plant_engine(settings: Settings) -> Engine:
    """The plant database of a plant-link line (short connect timeout; audit on its own chain)."""
    url = plant_url(settings)
    if url is None:
        raise ConfigError(
            "this line is not in plant-link mode: set [station] plant_database (postgresql://…) "
            "beside a sqlite `database`"
        )
    with _lock:
        engine = _engines.get(url)
        if engine is None:
            engine = create_engine(
                url.replace("postgresql://", "postgresql+psycopg://", 1),
                pool_pre_ping=True,
                connect_args={
                    "connect_timeout": CONNECT_TIMEOUT_S,
                    "options": f"-c statement_timeout={STATEMENT_TIMEOUT_MS}",
                },
            )
            audit.use_chain(engine, settings.station.id)
            _engines[url] = engine
    if url not in _migrated:
        with talking(url):
            with engine.connect() as conn:  # reachable first: upgrade's message names config
                conn.execute(text("SELECT 1"))
            upgrade(engine)
        _migrated.add(url)
    return engine


@contextmanager
def talking(url: str) -> Iterator[None]:
    """Turn a lost or refused plant connection into PlantUnreachable (told once, plainly)."""
    try:
        yield
    except (OperationalError, InterfaceError) as exc:
        why = str(exc.orig or exc).strip().splitlines()[0] if str(exc.orig or exc) else "no answer"
        raise PlantUnreachable(
            f"plant database {hidden_url(url)} unreachable: {why}; the line goes on from its local "
            "block and reports back when the plant answers (`station plant report`)"
        ) from None


def block_size(settings: Settings, level: str, block: int = plant.BLOCK) -> int:
    """Codes per claim for `level`: a block of items, in containers for the container levels."""
    per = 1
    for lv in settings.levels:  # child first: a case holds `capacity` items, a pallet cases
        per *= lv.capacity
        if lv.name == level:
            break
    return max(block // per, 50)


def local_available(local: Engine) -> dict[str, int]:
    """Available codes in the local store by level (one index range per level)."""
    with read_engine(local).connect() as conn:
        counts = {
            lv: conn.execute(
                select(func.count()).where(_codes.c.level == lv, _codes.c.state == "available")
            ).scalar_one()
            for lv in LEVEL_ORDER
        }
    return {lv: n for lv, n in counts.items() if n}


def sync_blocks(local: Engine, settings: Settings, *, user: str) -> int:
    """Copy every block the plant says this line holds that is not local yet; codes copied."""
    sid = settings.station.id
    peng = plant_engine(settings)
    with read_engine(local).connect() as conn:
        known = set(conn.execute(select(plant.blocks.c.id)).scalars())
    url = str(plant_url(settings))
    with talking(url), peng.connect() as pc:
        new = [
            b
            for b in pc.execute(
                select(plant.blocks).where(plant.blocks.c.holder == sid).order_by(plant.blocks.c.id)
            )
            if b.id not in known
        ]
        if not new:
            return 0
        rows = pc.execute(
            select(_codes.c.code, _codes.c.level, _codes.c.id, _BLOCK_ID, _pools.c.scheme)
            .select_from(_codes.outerjoin(_pools, _pools.c.id == _codes.c.pool_id))
            .where(
                _BLOCK_ID.in_([b.id for b in new]),
                column("holder") == sid,
                _codes.c.state == "available",
            )
            .order_by(_codes.c.id)
        ).all()
    by_block: dict[int, list] = {b.id: [] for b in new}
    for r in rows:
        by_block[r.block_id].append(r)
    copied = 0
    now = audit.now()
    for b in new:
        codes = by_block[b.id]
        for scheme in sorted({r.scheme or "imported" for r in codes}):
            part = [r for r in codes if (r.scheme or "imported") == scheme]
            pool_id = _local_pool(local, b, scheme, len(part), user)
            # Small transactions: the running line writes to this store too and must never
            # wait long for SQLite's write lock. OR IGNORE makes a copy cut short by a kill
            # harmless to redo, and a code already here (imported by hand) never a second row:
            # it stays held in the plant, unused, and shows as a shortfall in the block count.
            for i in range(0, len(part), COPY_CHUNK):
                rows = [
                    {
                        "code": r.code,
                        "level": r.level,
                        "state": "available",
                        "pool_id": pool_id,
                        "updated_at": now,
                        "holder": sid,
                        "block_id": b.id,
                    }
                    for r in part[i : i + COPY_CHUNK]
                ]
                with local.begin() as conn:
                    conn.execute(_COPY, rows)
        with local.begin() as conn:  # the block is local once its row is: the copy's commit
            n = conn.execute(select(func.count()).where(plant.held.c.block_id == b.id)).scalar_one()
            conn.execute(
                insert(plant.blocks).values(
                    id=b.id,
                    holder=sid,
                    level=b.level,
                    count=n,
                    first_id=b.first_id,
                    last_id=b.last_id,
                    claimed_at=b.claimed_at,
                    claimed_by=b.claimed_by,
                )
            )
            audit.record(
                conn,
                user,
                [audit.Change("block.copy", f"plant block {b.id}", None, sid, f"{n} {b.level}")],
            )
        copied += n
    log.info("plant link: copied %d codes of %d plant block(s)", copied, len(new))
    return copied


def _local_pool(local: Engine, b, scheme: str, count: int, user: str) -> int:
    """The local pool of plant block `b`'s codes of `scheme` (the one a cut-short copy made)."""
    origin = f"plant block {b.id}"
    with local.begin() as conn:
        found = conn.execute(
            select(_pools.c.id).where(_pools.c.origin == origin, _pools.c.scheme == scheme)
        ).scalar()
        if found is not None:
            return found
        return conn.execute(
            insert(_pools)
            .values(
                level=b.level,
                source="plant",
                scheme=scheme,
                origin=origin,
                count=count,
                pairs=False,
                created_at=audit.now(),
                created_by=user,
            )
            .returning(_pools.c.id)
        ).scalar_one()


def claim_to(
    local: Engine,
    settings: Settings,
    level: str,
    want: int,
    *,
    user: str,
    block: int = plant.BLOCK,
    generate: bool = False,
) -> int:
    """Hold at least `want` available `level` codes locally, claiming from the plant; returns
    what the line holds locally afterwards (less when the plant pool is short).

    With `generate` (the demo) the plant pool is first filled up with what the claim needs.
    """
    sync_blocks(local, settings, user=user)  # a kill between an earlier claim and its copy
    have = local_available(local).get(level, 0)
    if have >= want:
        return have
    size = max(want - have, block_size(settings, level, block))
    peng = plant_engine(settings)
    with talking(str(plant_url(settings))):
        if generate:
            with peng.connect() as conn:
                free = plant.free_count(conn, level)
            if free < size:
                from station.codes import pools

                scheme = "sscc" if level == "pallet" else "random"
                pools.generate(peng, settings, level, size - free, scheme, user=user)
        got = plant.claim(peng, settings.station.id, level, size, user=user)
    if got < size and level not in _short:  # once until a claim is whole again
        log.warning("plant pool short of %s codes: claimed %d of %d", level, got, size)
    _short.discard(level) if got >= size else _short.add(level)
    sync_blocks(local, settings, user=user)
    return local_available(local).get(level, 0)


def top_up(
    local: Engine,
    settings: Settings,
    *,
    user: str,
    need: dict[str, int] | None = None,
    block: int = plant.BLOCK,
    generate: bool = False,
) -> dict[str, int]:
    """Below `station.plant_reserve_blocks` blocks (or `need`) of a level locally, claim up to
    one block more; returns the local counts afterwards. A refill is a block at a time."""
    need = need or {}
    have = local_available(local)
    for level in settings.level_names:
        size = block_size(settings, level, block)
        floor = max(settings.station.plant_reserve_blocks * size, need.get(level, 0))
        if have.get(level, 0) < floor:
            claim_to(
                local, settings, level, floor + size, user=user, block=block, generate=generate
            )
    sync_blocks(local, settings, user=user)
    return local_available(local)
