"""Code pools in the store: import a parsed file, generate codes, count, export."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime

from sqlalchemy import Engine, func, insert, select, update
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError

from station.codes import generate as codes
from station.codes.files import ParsedFile
from station.config import Settings
from station.errors import ImportRejected, InputError
from station.store import audit
from station.store.lifecycle import State
from station.store.models import Code, Pack, Pool

_codes = Code.__table__
_pools = Pool.__table__
_packs = Pack.__table__
CHUNK = 50_000
IMPORT_CACHE_KIB = 262_144  # page cache while a big pool goes in (grows only as used)
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
    pack_id: int | None = None,
) -> None:
    state = State.AVAILABLE.value
    name = conn.dialect.name
    if name == "sqlite":
        bulk = _bulk_sqlite
    elif name == "postgresql":
        bulk = _bulk_copy
    else:
        bulk = _bulk_core
    for i in range(0, len(items), CHUNK):
        part = items[i : i + CHUNK]
        bulk(conn, part, level, state, pool_id, when, pack_id)
        if progress:
            progress(len(part))


def _bulk_core(
    conn: Connection,
    part: list[str],
    level: str,
    state: str,
    pool_id: int,
    when: datetime,
    pack_id: int | None,
) -> None:
    fixed = {"level": level, "state": state, "pool_id": pool_id, "updated_at": when}
    conn.execute(insert(_codes), [{"code": c, **fixed, "pack_id": pack_id} for c in part])


_INSERT_SQL = (
    "INSERT INTO codes (code, level, state, pool_id, updated_at, pack_id) VALUES (?, ?, ?, ?, ?, ?)"
)
# One statement per chunk: SQLite unpacks the JSON array in C, in array order (key = index), so no
# per-row parameter binding in Python (1M codes: ~0.8 s less CPU than executemany of tuples).
_INSERT_JSON_SQL = (
    "INSERT INTO codes (code, level, state, pool_id, updated_at, pack_id) "
    "SELECT value, ?, ?, ?, ?, ? FROM json_each(?) ORDER BY key"
)
_JSON_SQLITE = sqlite3.sqlite_version_info >= (3, 38, 0)  # JSON functions built in
_COPY_SQL = "COPY codes (code, level, state, pool_id, updated_at, pack_id) FROM STDIN"


def _bulk_sqlite(
    conn: Connection,
    part: list[str],
    level: str,
    state: str,
    pool_id: int,
    when: datetime,
    pack_id: int | None,
) -> None:
    # Straight to sqlite3 inside the caller's transaction: SQLAlchemy's per-row dict handling cost
    # ~8 s per million rows. The timestamp is rendered once by the column's own bind processor,
    # so the stored text is identical to the Core path's.
    proc = _codes.c.updated_at.type.dialect_impl(conn.dialect).bind_processor(conn.dialect)
    stamp = proc(when) if proc else when
    raw = conn.connection.driver_connection
    try:
        if _JSON_SQLITE:
            raw.execute(_INSERT_JSON_SQL, (level, state, pool_id, stamp, pack_id, json.dumps(part)))
        else:
            fixed = (level, state, pool_id, stamp, pack_id)
            raw.executemany(_INSERT_SQL, ((c, *fixed) for c in part))
    except sqlite3.IntegrityError as exc:
        raise IntegrityError(_INSERT_JSON_SQL, None, exc) from None


def _bulk_copy(
    conn: Connection,
    part: list[str],
    level: str,
    state: str,
    pool_id: int,
    when: datetime,
    pack_id: int | None,
) -> None:
    # COPY is PostgreSQL's bulk path (several times executemany's rate); a duplicate code fails the
    # whole COPY, and the caller's transaction with it.
    cur = conn.connection.driver_connection.cursor()
    try:
        with cur.copy(_COPY_SQL) as copy:
            for c in part:
                copy.write_row((c, level, state, pool_id, when, pack_id))
    except conn.dialect.loaded_dbapi.IntegrityError as exc:
        raise IntegrityError(_COPY_SQL, None, exc) from None
    finally:
        cur.close()


@contextmanager
def _bulk_mode(conn: Connection, rows: int) -> Iterator[None]:
    """SQLite, inside the caller's transaction: settings that make `rows` inserts fast.

    A page cache big enough for the unique code index: random codes land on random pages, and
    with SQLite's 2 MB default most inserts re-read and spill pages (1M codes: 14.5 s → 10.4 s).
    When the new rows outnumber the stored ones, the secondary indexes of `codes` are dropped and
    rebuilt from their own DDL after the inserts (1M codes: ~4.5 s less CPU; a rebuild sorts once
    instead of splitting pages a million times). The unique index stays, so a duplicate still
    fails at once. On an error nothing is rebuilt: the caller's transaction must roll back, which
    restores the indexes with everything else.
    """
    if conn.dialect.name != "sqlite" or rows < CHUNK:
        yield
        return
    raw = conn.connection.driver_connection
    old = raw.execute("PRAGMA cache_size").fetchone()[0]
    raw.execute(f"PRAGMA cache_size=-{IMPORT_CACHE_KIB}")
    try:
        rebuild: list[tuple[str, str]] = []
        stored = raw.execute("SELECT max(id) FROM codes").fetchone()[0] or 0
        if rows >= stored:
            rebuild = raw.execute(
                "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = 'codes' "
                "AND sql IS NOT NULL AND sql NOT LIKE 'CREATE UNIQUE%'"
            ).fetchall()
            for name, _ in rebuild:
                raw.execute(f'DROP INDEX "{name}"')
        yield
        for _, ddl in rebuild:
            raw.execute(ddl)
    finally:
        raw.execute(f"PRAGMA cache_size={int(old)}")


def import_file(
    engine: Engine,
    parsed: ParsedFile,
    level: str,
    *,
    user: str,
    pair_levels: tuple[str, str] = ("inner", "outer"),
    progress: Progress | None = None,
    pack: dict | None = None,
) -> int:
    """Store every code of `parsed` as available, all or nothing; returns how many codes.

    `pack`: the values of a `packs` row (name, source, sha256) recorded with the pool in the same
    transaction, each code carrying its id (station.codes.packs checks them first).
    """
    fold = parsed.fold
    joined = "\n".join(parsed.codes) if fold is not None else ""
    if fold is not None and fold(joined) != joined:  # `caus8…` while the store holds `CAUS8…`
        variants = {fold(c): c for c in parsed.codes if "://" not in c and fold(c) != c}
        if variants:
            _refuse_held(engine, parsed, variants)
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
            pack_id = None
            changes = []
            if pack is not None:
                row = dict(
                    pack, level=level, count=len(parsed.codes), origin=parsed.path, pool_id=pool_id
                )
                pack_id = conn.execute(
                    insert(_packs)
                    .values(**row, imported_at=when, imported_by=user)
                    .returning(_packs.c.id)
                ).scalar_one()
                info = f"level={level} source={pack.get('source') or '-'} sha256={pack['sha256']}"
                changes.append(
                    audit.Change("pack.import", pack["name"], None, str(len(parsed.codes)), info)
                )
            with _bulk_mode(conn, len(parsed.codes)):
                if parsed.pairs is None:
                    _insert_codes(conn, parsed.codes, level, pool_id, when, progress, pack_id)
                else:
                    _insert_pairs(conn, parsed.pairs, pair_levels, pool_id, when, progress)
            pool_change = audit.Change(
                "pool.import",
                parsed.path,
                None,
                str(len(parsed.codes)),
                f"level={level} sha256={parsed.sha256}",
            )
            audit.record(conn, user, [pool_change, *changes], when)
    except IntegrityError:
        # Rare path: a code is already in the store. Find every such line for the report.
        _refuse_held(engine, parsed, {c: c for c in parsed.codes})
        raise
    return len(parsed.codes)


def _refuse_held(engine: Engine, parsed: ParsedFile, keys: dict[str, str]) -> None:
    """ImportRejected naming each line whose code (`keys`: store spelling → file code) is held
    already, with the level, pack and pool that hold it; nothing when none is."""
    held_in = _codes.outerjoin(_pools, _pools.c.id == _codes.c.pool_id).outerjoin(
        _packs, _packs.c.id == _codes.c.pack_id
    )
    cols = (_codes.c.code, _codes.c.level, _pools.c.id, _pools.c.origin, _packs.c.name)
    with engine.connect() as conn:
        held = {
            r.code: r
            for i in range(0, len(keys), 500)
            for r in conn.execute(
                select(*cols).select_from(held_in).where(_codes.c.code.in_(list(keys)[i : i + 500]))
            )
        }
    if not held:
        return
    where = {keys[k]: r for k, r in held.items()}
    per_line = 2 if parsed.pairs is not None else 1
    problems = []
    for i, c in enumerate(parsed.codes):
        r = where.get(c)
        if r is not None:
            spelt = "" if r.code == c else f" as {r.code}"
            pool = f"pool {r.id}" + (f" from {r.origin}" if r.origin else "") if r.id else "no pool"
            if r.name is not None:
                pool = f"pack {r.name}, {pool}"
            why = f"already in the store{spelt} ({c}: level {r.level}, {pool})"
            problems.append((parsed.first_line + i // per_line, why))
    raise ImportRejected(parsed.path, problems, len(problems))


def _insert_pairs(
    conn: Connection,
    pairs: list[tuple[str, str]],
    levels: tuple[str, str],
    pool_id: int,
    when: datetime,
    progress: Progress | None,
) -> None:
    _insert_codes(conn, [p[0] for p in pairs], levels[0], pool_id, when, None)
    if conn.dialect.name == "sqlite" and _JSON_SQLITE:
        _pair_sqlite(conn, pairs, levels, pool_id, when)
        if progress:
            progress(len(pairs) * 2)
        return
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


_PAIR_OUTER_SQL = (
    "INSERT INTO codes (code, level, state, pool_id, pair_id, updated_at) "
    "SELECT json_extract(j.value, '$[1]'), ?, ?, ?, c.id, ? "
    "FROM json_each(?) AS j JOIN codes AS c ON c.code = json_extract(j.value, '$[0]') "
    "ORDER BY j.key"
)
_PAIR_INNER_SQL = (
    "UPDATE codes SET pair_id = o.id FROM codes AS o "
    "WHERE o.pool_id = ? AND o.level = ? AND codes.id = o.pair_id"
)


def _pair_sqlite(
    conn: Connection,
    pairs: list[tuple[str, str]],
    levels: tuple[str, str],
    pool_id: int,
    when: datetime,
) -> None:
    # The outer rows find their inner partner through the unique code index, and the inner rows
    # get theirs in one UPDATE … FROM: no million-entry dicts or per-row statements in Python
    # (200k pairs: 11.6 s → 6.5 s at load ~5).
    proc = _codes.c.updated_at.type.dialect_impl(conn.dialect).bind_processor(conn.dialect)
    stamp = proc(when) if proc else when
    raw = conn.connection.driver_connection
    state = State.AVAILABLE.value
    try:
        for k in range(0, len(pairs), CHUNK):
            part = pairs[k : k + CHUNK]
            cur = raw.execute(_PAIR_OUTER_SQL, (levels[1], state, pool_id, stamp, json.dumps(part)))
            if cur.rowcount != len(part):  # every inner was inserted just before
                raise RuntimeError(f"pairs: {cur.rowcount} outer rows for {len(part)} pairs")
        raw.execute(_PAIR_INNER_SQL, (pool_id, levels[1]))
    except sqlite3.IntegrityError as exc:
        raise IntegrityError(_PAIR_OUTER_SQL, None, exc) from None


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
        with _bulk_mode(conn, count):
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
