"""Code pools in the store: import a parsed file, generate codes, count, export."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import datetime

from sqlalchemy import Engine, func, insert, select, update
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError

from station import audit, codes
from station.codefile import ParsedFile
from station.config import Settings
from station.errors import ImportRejected, InputError
from station.lifecycle import State
from station.models import Code, Pool

_codes = Code.__table__
_pools = Pool.__table__
CHUNK = 50_000
Progress = Callable[[int], None]


def _new_pool(conn: Connection, **values) -> int:
    return conn.execute(insert(_pools).values(**values).returning(_pools.c.id)).scalar_one()


def _insert_codes(
    conn: Connection,
    items: list[str],
    level: str,
    pool_id: int,
    when: datetime,
    progress: Progress | None,
) -> None:
    state = State.AVAILABLE.value
    for i in range(0, len(items), CHUNK):
        part = items[i : i + CHUNK]
        conn.execute(
            insert(_codes),
            [
                {"code": c, "level": level, "state": state, "pool_id": pool_id, "updated_at": when}
                for c in part
            ],
        )
        if progress:
            progress(len(part))


def import_file(
    engine: Engine,
    parsed: ParsedFile,
    level: str,
    *,
    user: str,
    pair_levels: tuple[str, str] = ("inner", "outer"),
    progress: Progress | None = None,
) -> int:
    """Store every code of `parsed` as available, all or nothing; returns how many codes."""
    when = audit.now()
    try:
        with engine.begin() as conn:
            pool_id = _new_pool(
                conn,
                level=level if parsed.pairs is None else f"{pair_levels[0]}+{pair_levels[1]}",
                source="imported",
                scheme="imported",
                origin=parsed.path,
                sha256=parsed.sha256,
                count=len(parsed.codes),
                pairs=parsed.pairs is not None,
                created_at=when,
                created_by=user,
            )
            if parsed.pairs is None:
                _insert_codes(conn, parsed.codes, level, pool_id, when, progress)
            else:
                _insert_pairs(conn, parsed.pairs, pair_levels, pool_id, when, progress)
            audit.record(
                conn,
                user,
                [
                    audit.Change(
                        "pool.import",
                        parsed.path,
                        None,
                        str(len(parsed.codes)),
                        f"level={level} sha256={parsed.sha256}",
                    )
                ],
                when,
            )
    except IntegrityError:
        # Rare path: a code is already in the store. Find every such line for the report.
        with engine.connect() as conn:
            dup = set(codes.existing(conn, parsed.codes))
        per_line = 2 if parsed.pairs is not None else 1
        problems = [
            (parsed.first_line + i // per_line, f"already in the store ({c})")
            for i, c in enumerate(parsed.codes)
            if c in dup
        ]
        raise ImportRejected(parsed.path, problems, len(problems)) from None
    return len(parsed.codes)


def _insert_pairs(
    conn: Connection,
    pairs: list[tuple[str, str]],
    levels: tuple[str, str],
    pool_id: int,
    when: datetime,
    progress: Progress | None,
) -> None:
    _insert_codes(conn, [p[0] for p in pairs], levels[0], pool_id, when, None)
    ids = dict(
        conn.execute(select(_codes.c.code, _codes.c.id).where(_codes.c.pool_id == pool_id)).all()
    )
    outer_rows = [
        {
            "code": o,
            "level": levels[1],
            "state": State.AVAILABLE.value,
            "pool_id": pool_id,
            "pair_id": ids[i],
            "updated_at": when,
        }
        for i, o in pairs
    ]
    for k in range(0, len(outer_rows), CHUNK):
        conn.execute(insert(_codes), outer_rows[k : k + CHUNK])
    outer_ids = dict(
        conn.execute(
            select(_codes.c.pair_id, _codes.c.id).where(
                _codes.c.pool_id == pool_id, _codes.c.level == levels[1]
            )
        ).all()
    )
    from sqlalchemy import bindparam

    conn.execute(
        update(_codes).where(_codes.c.id == bindparam("_i")).values(pair_id=bindparam("_p")),
        [{"_i": inner, "_p": outer} for inner, outer in outer_ids.items()],
    )
    if progress:
        progress(len(pairs) * 2)


def generate(
    engine: Engine,
    settings: Settings,
    level: str,
    count: int,
    scheme: str,
    *,
    user: str,
    gtin: str | None = None,
    prefix: str = "",
    progress: Progress | None = None,
) -> int:
    """Generate `count` new codes for `level`; never a code that exists in the store already."""
    if count < 1:
        raise InputError("--count must be at least 1")
    settings.level(level)
    when = audit.now()
    with engine.begin() as conn:
        make = codes.generator(conn, settings.codes, scheme, level, gtin=gtin, prefix=prefix)
        pool_id = _new_pool(
            conn,
            level=level,
            source="generated",
            scheme=scheme,
            origin=None,
            sha256=None,
            count=count,
            pairs=False,
            created_at=when,
            created_by=user,
        )
        made = 0
        while made < count:
            n = min(CHUNK, count - made)
            fresh = list(dict.fromkeys(make(n)))  # a repeat inside one chunk is dropped
            try:
                with conn.begin_nested():
                    _insert_codes(conn, fresh, level, pool_id, when, None)
            except IntegrityError:
                # A counter ran into imported codes (or, never in practice, a random repeat).
                dup = set(codes.existing(conn, fresh))
                fresh = [c for c in fresh if c not in dup]
                _insert_codes(conn, fresh, level, pool_id, when, None)
            made += len(fresh)
            if progress:
                progress(len(fresh))
        audit.record(
            conn,
            user,
            [audit.Change("pool.generate", f"{level}:{scheme}", None, str(count), None)],
            when,
        )
    return count


def stats(conn: Connection, level: str | None = None) -> dict[str, dict[str, int]]:
    """Counts by level and state."""
    stmt = select(_codes.c.level, _codes.c.state, func.count()).group_by(
        _codes.c.level, _codes.c.state
    )
    if level:
        stmt = stmt.where(_codes.c.level == level)
    out: dict[str, dict[str, int]] = {}
    for lv, st, n in conn.execute(stmt):
        out.setdefault(lv, {})[st] = n
    return out


def export_lines(conn: Connection, level: str, state: str | None) -> Iterator[str]:
    """One code per line, or `inner,outer` for paired codes (the importer's own format)."""
    partner = _codes.alias("partner")
    stmt = (
        select(_codes.c.code, partner.c.code)
        .select_from(_codes.outerjoin(partner, partner.c.id == _codes.c.pair_id))
        .where(_codes.c.level == level)
        .order_by(_codes.c.id)
    )
    if state:
        stmt = stmt.where(_codes.c.state == state)
    for code, pair in conn.execution_options(yield_per=10000).execute(stmt):
        if pair is None:
            yield code
        elif level == "inner":
            yield f"{code},{pair}"
        else:
            yield f"{pair},{code}"
