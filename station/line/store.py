"""The line's writes to the store: write-ahead reservation, grouped state changes, containers.

The runner calls these from its own thread only. Reservations commit at once (a code is committed
before its bytes leave for a device); everything else is queued and written in one transaction
per `flush()` (group commit), which the runner calls every few milliseconds and before any
device write that depends on it.
"""

from __future__ import annotations

import sqlite3
import threading
from collections import defaultdict
from dataclasses import dataclass

from sqlalchemy import Engine, bindparam, column, func, insert, select, text, update

from aggregation.rules import CodeInfo
from station.errors import StationError
from station.plant import blocks as plant
from station.store import audit, lifecycle
from station.store.db import raw_sqlite, read_engine, sqlite_time
from station.store.lifecycle import State
from station.store.models import Batch, Code, Link, Reject

_codes = Code.__table__
_links = Link.__table__
_rejects = Reject.__table__
_batches = Batch.__table__


_parent = _codes.alias("p")
_FIND = (
    select(
        _codes.c.id,
        _codes.c.code,
        _codes.c.level,
        _codes.c.state,
        _codes.c.batch_id,
        _parent.c.code.label("parent"),
    )
    .select_from(_codes.outerjoin(_parent, _parent.c.id == _codes.c.parent_id))
    .where(_codes.c.code.in_(bindparam("codes", expanding=True)))
)


_ATTACH = (  # the newest codeless reject of that item (a resumed run may count seqs anew)
    "UPDATE rejects SET code_id = :c WHERE id = (SELECT max(id) FROM rejects "
    "WHERE batch_id = :b AND seq = :s AND code_id IS NULL)"
)


class _RawReader:
    """The runner's code lookups straight on sqlite3: ~10x less overhead than a Core query.

    Autocommit mode: each SELECT is its own read transaction, so it sees every commit before it
    and never holds a snapshot (or the write lock). Used from the runner thread; locked anyway.
    """

    SQL = (
        "SELECT c.id, c.code, c.level, c.state, c.batch_id, p.code FROM codes c "
        "LEFT JOIN codes p ON p.id = c.parent_id WHERE c.code IN ({})"
    )

    def __init__(self, path: str) -> None:
        self.conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        self.conn.execute("PRAGMA busy_timeout=30000")
        self.conn.execute("PRAGMA query_only=1")
        self._lock = threading.Lock()

    def lookup(self, codes: list[str]) -> list[tuple]:
        """(id, code, level, state, batch_id, parent code) of each code found."""
        with self._lock:
            return self.conn.execute(self.SQL.format(",".join("?" * len(codes))), codes).fetchall()

    def close(self) -> None:
        """Close the connection (a UI open for months runs many batches: one file each)."""
        with self._lock:
            self.conn.close()


def _raw_reader(engine: Engine) -> _RawReader | None:
    path = engine.url.database if engine.dialect.name == "sqlite" else None
    if not path or path == ":memory:":
        return None
    return _RawReader(path)


class PoolEmpty(StationError):
    """No available codes left for a level."""


@dataclass(slots=True, eq=False)
class CodeRow:
    """The runner's cached view of one code it handles."""

    id: int
    code: str
    level: str
    state: str
    batch_id: str | None
    parent: str | None = None


class LineStore:
    """Store operations of one running batch."""

    def __init__(self, engine: Engine, batch_id: str, product_sku: str, user: str) -> None:
        self.engine = engine
        self._reader = read_engine(engine)  # lookups never queue behind (or block) the writer
        self.batch_id = batch_id
        self.product = product_sku
        self.user = user
        # Queued moves grouped by (generation, old, new, reason): a code's second move in one
        # window goes one generation later, so the flush writes each code's moves in the order
        # they happened (grouped by key only, a late printer confirmation's RESERVED → PRINTED
        # could be written after its PRINTED → VERIFIED: "changed state underneath us").
        self._moves: dict[tuple[int, str, str, str | None], list[tuple[int, str]]] = defaultdict(
            list
        )
        self._gen: dict[int, int] = {}
        self._extra: list[dict] = []
        self._rejects: list[dict] = []
        self._attach: list[tuple[int, str, int]] = []  # (code id, batch, seq) for codeless rejects
        self._links: list[dict] = []
        self._containers: list[dict] = []
        self._audit: list[audit.Change] = []
        self.pending = 0
        # On a plant database the line reserves only from blocks it holds (station.plant.blocks).
        self.holder = plant.holder_for(engine, batch_id)
        if self.holder is not None:
            audit.use_chain(engine, self.holder)
        self._held: dict[str, int] = {}
        # Rows moved since the last flush, by code: lookups see the runner's own queued changes
        # (an inner cap code verified 5 ms ago is not "available" just because it is unflushed).
        self._touched: dict[str, CodeRow] = {}
        self._raw = _raw_reader(engine)

    # -- reservation (write-ahead, committed at once) ---------------------------------------
    def reserve(self, level: str, n: int) -> list[CodeRow]:
        """Reserve `n` available codes of `level` for this batch and commit; PoolEmpty if none."""
        stmt = select(_codes.c.id, _codes.c.code).where(
            _codes.c.level == level, _codes.c.state == State.AVAILABLE.value
        )
        if self.holder is not None:
            if self._held.get(level, 0) < n:  # own block running out: claim the next one
                self._held[level] = plant.top_up(self.engine, self.holder, level, n, user=self.user)
            stmt = stmt.where(column("holder") == self.holder)
        with self.engine.begin() as conn:
            rows = conn.execute(stmt.order_by(_codes.c.id).limit(n)).all()
            if rows:  # queued changes ride along; an empty pool must not roll them back
                wrote = self._flush(conn)
            else:
                from station.plant.link_run import empty_reason

                raise PoolEmpty(
                    empty_reason(self.engine, level)
                    or f"no available {level} codes left; import or generate more "
                    f"(`station codes generate --level {level} --count N`)"
                )
            lifecycle.move(
                conn,
                [r.id for r in rows],
                State.RESERVED,
                user=self.user,
                batch_id=self.batch_id,
                expect=State.AVAILABLE,
                labels=[r.code for r in rows],
                extra={"batch_id": self.batch_id},
            )
        if wrote:
            self._written()
        if self.holder is not None:
            self._held[level] = self._held.get(level, 0) - len(rows)
        return [CodeRow(r.id, r.code, level, State.RESERVED.value, self.batch_id) for r in rows]

    # -- queued changes ------------------------------------------------------------------------
    def move(self, row: CodeRow, new: State, reason: str | None = None) -> None:
        """Queue a state change of a code the runner holds (its state known)."""
        lifecycle.check(row.state, new, row.code)
        g = self._gen.get(row.id, 0)
        self._gen[row.id] = g + 1
        self._moves[(g, row.state, new.value, reason)].append((row.id, row.code))
        row.state = new.value
        self._touched[row.code] = row
        self.pending += 1

    def set_fields(self, row: CodeRow, **values) -> None:
        """Queue plain column updates (seq, grade, reason, container fields) for a code."""
        self._extra.append({"_id": row.id, **values})
        if "batch_id" in values:
            row.batch_id = values["batch_id"]
        self._touched[row.code] = row
        self.pending += 1

    def reject(
        self,
        reason: str,
        *,
        row: CodeRow | None,
        read: str | None,
        seq: int | None,
        detail: str | None = None,
    ) -> None:
        """Queue a reject record (and the code's move to rejected when it has one)."""
        if row is not None and row.state != State.REJECTED.value:
            self.move(row, State.REJECTED, reason)
            self.set_fields(row, reason=reason)
        self._rejects.append(
            {
                "batch_id": self.batch_id,
                "code_id": row.id if row else None,
                "read_text": read,
                "reason": reason,
                "detail": detail,
                "seq": seq,
                "time": audit.now(),
            }
        )
        self.pending += 1

    def attach(self, seq: int, row: CodeRow) -> None:
        """The reject recorded for item `seq` without a code (nothing read) was `row`'s item.

        Its record then names the code, so QA sees one reject per item, not a codeless one and
        the lost code again.
        """
        self._attach.append((row.id, self.batch_id, seq))
        self.pending += 1

    def link(self, parent: CodeRow, child: CodeRow) -> None:
        """Queue parent ← child (the child moves to linked)."""
        self.move(child, State.LINKED)
        child.parent = parent.code
        self._extra.append({"_id": child.id, "parent_id": parent.id})
        self._links.append(
            {
                "parent_id": parent.id,
                "child_id": child.id,
                "action": "add",
                "batch_id": self.batch_id,
                "time": audit.now(),
                "user": self.user,
            }
        )
        self.pending += 1

    def container(self, row: CodeRow, status: str, count: int) -> None:
        """Queue a container's status (open, normal, partial) and child count."""
        self._extra.append({"_id": row.id, "container_status": status, "child_count": count})
        self._audit.append(
            audit.Change("container." + status, row.code, None, str(count), None, self.batch_id)
        )
        self.pending += 1

    def flush(self) -> int:
        """Write every queued change in one transaction; returns how many were written."""
        if not self.pending:
            return 0
        with self.engine.begin() as conn:
            n = self._flush(conn)
        self._written()
        return n

    def _flush(self, conn) -> int:
        """Write the queue in the caller's transaction; `_written()` once that has committed."""
        n = self.pending
        if not n:
            return 0
        for (_g, old, new, reason), items in sorted(self._moves.items(), key=lambda kv: kv[0][0]):
            lifecycle.move(
                conn,
                [i for i, _ in items],
                State(new),
                user=self.user,
                reason=reason,
                batch_id=self.batch_id,
                expect=State(old),
                labels=[c for _, c in items],
            )
        raw = raw_sqlite(conn)
        if self._extra:
            by_keys: dict[tuple, list[dict]] = defaultdict(list)
            for e in self._extra:
                by_keys[tuple(sorted(e))].append(e)
            for keys, rows in by_keys.items():
                names = [k for k in keys if k != "_id"]
                if raw is not None:
                    sql = f"UPDATE codes SET {', '.join(f'{k} = ?' for k in names)} WHERE id = ?"
                    raw.executemany(sql, [(*(r[k] for k in names), r["_id"]) for r in rows])
                    continue
                cols = {k: bindparam(k) for k in names}
                conn.execute(
                    update(_codes).where(_codes.c.id == bindparam("_id")).values(cols), rows
                )
        for table, rows in ((_links, self._links), (_rejects, self._rejects)):
            if not rows:
                continue
            if raw is None:
                conn.execute(insert(table), rows)
                continue
            names = list(rows[0])
            cols = ", ".join(f'"{k}"' for k in names)
            sql = f"INSERT INTO {table.name} ({cols}) VALUES ({', '.join('?' * len(names))})"
            raw.executemany(
                sql,
                [tuple(sqlite_time(r[k]) if k == "time" else r[k] for k in names) for r in rows],
            )
        if self._attach:  # after the inserts: the reject may be in this same flush
            params = [{"c": c, "b": b, "s": q} for c, b, q in self._attach]
            if raw is not None:
                raw.executemany(_ATTACH, params)
            else:
                conn.execute(text(_ATTACH), params)
        if self._audit:
            audit.record(conn, self.user, self._audit)
        return n

    def _written(self) -> None:
        """The queue's transaction committed: the store knows it all now (a rollback keeps it)."""
        self._moves.clear()
        self._gen.clear()
        self._extra.clear()
        self._links.clear()
        self._rejects.clear()
        self._attach.clear()
        self._audit.clear()
        self._touched.clear()
        self.pending = 0

    def close_reader(self) -> None:
        """The run is over: close the raw reader; later lookups go through the engine."""
        raw, self._raw = self._raw, None
        if raw is not None:
            raw.close()

    # -- lookups ---------------------------------------------------------------------------------
    def find(self, code: str) -> CodeRow | None:
        """A code by its text, with its parent's text."""
        return self.find_many([code]).get(code)

    def find_many(self, codes: list[str]) -> dict[str, CodeRow]:
        """Several codes at once (the runner's unflushed view of a code wins over the store's)."""
        out: dict[str, CodeRow] = {}
        todo = []
        for c in codes:
            row = self._touched.get(c)
            if row is not None:
                out[c] = row
            else:
                todo.append(c)
        for i in range(0, len(todo), 500):
            chunk = todo[i : i + 500]
            if self._raw is not None:
                rows = self._raw.lookup(chunk)
            else:
                with self._reader.connect() as conn:
                    rows = conn.execute(_FIND, {"codes": chunk}).all()
            for r in rows:
                out[r[1]] = CodeRow(*r)
        return out

    def info(self, row: CodeRow | None) -> CodeInfo | None:
        """The aggregation rules' view of a code (product known for this batch's codes)."""
        if row is None:
            return None
        product = self.product if row.batch_id == self.batch_id else (row.batch_id or None)
        return CodeInfo(row.code, row.level, row.state, row.batch_id, product, row.parent)

    def children_of(self, parent: CodeRow) -> list[str]:
        """Codes currently linked to `parent`."""
        with self._reader.connect() as conn:
            return list(
                conn.execute(select(_codes.c.code).where(_codes.c.parent_id == parent.id)).scalars()
            )

    def open_containers(self) -> list[CodeRow]:
        """This batch's containers still open (for resume)."""
        with self._reader.connect() as conn:
            rows = conn.execute(
                select(
                    _codes.c.id, _codes.c.code, _codes.c.level, _codes.c.state, _codes.c.batch_id
                ).where(_codes.c.batch_id == self.batch_id, _codes.c.container_status == "open")
            ).all()
        return [CodeRow(r.id, r.code, r.level, r.state, r.batch_id) for r in rows]

    def in_state(self, level: str | None, state: State) -> list[CodeRow]:
        """This batch's codes in `state` (optionally of one level)."""
        stmt = select(
            _codes.c.id, _codes.c.code, _codes.c.level, _codes.c.state, _codes.c.batch_id
        ).where(_codes.c.batch_id == self.batch_id, _codes.c.state == state.value)
        if level:
            stmt = stmt.where(_codes.c.level == level)
        with self._reader.connect() as conn:
            return [CodeRow(r.id, r.code, r.level, r.state, r.batch_id) for r in conn.execute(stmt)]

    def counts(self) -> dict[str, int]:
        """Items of this batch by state, for the status snapshot after a resume."""
        with self._reader.connect() as conn:
            rows = conn.execute(
                select(_codes.c.level, _codes.c.state, func.count())
                .where(_codes.c.batch_id == self.batch_id)
                .group_by(_codes.c.level, _codes.c.state)
            ).all()
        return {f"{lv}:{st}": n for lv, st, n in rows}
