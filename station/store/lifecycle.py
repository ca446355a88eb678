"""The life of a code, enforced in one place: legal moves, one row change plus one audit entry.

```
available → reserved → printed → verified → linked
   │           │          │          └──────→ rejected → (QA) verified | decommissioned
   │           └→ void    └→ rejected
   ├→ verified (pre-printed caps read on the line)
   └→ void (a supplier's pack withdrawn before any of its codes was used)
```
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import BigInteger, any_, bindparam, select, update
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.engine import Connection

from aggregation.states import CodeState
from station.errors import TransitionError
from station.store import audit
from station.store.db import raw_sqlite, sqlite_time
from station.store.models import Code

State = CodeState
"""A code's state: aggregation.states.CodeState, the one enum every package uses."""


S = State
ALLOWED: dict[State, frozenset[State]] = {
    S.AVAILABLE: frozenset({S.RESERVED, S.VERIFIED, S.DECOMMISSIONED, S.REJECTED, S.VOID}),
    S.RESERVED: frozenset({S.PRINTED, S.VOID, S.VERIFIED}),
    S.PRINTED: frozenset({S.VERIFIED, S.REJECTED, S.VOID}),
    S.VERIFIED: frozenset({S.LINKED, S.REJECTED, S.DECOMMISSIONED}),
    S.LINKED: frozenset({S.VERIFIED, S.DECOMMISSIONED, S.REJECTED}),
    S.REJECTED: frozenset({S.VERIFIED, S.DECOMMISSIONED}),
    S.DECOMMISSIONED: frozenset(),
    S.VOID: frozenset(),
}
FINAL = frozenset({S.DECOMMISSIONED, S.VOID})
_codes = Code.__table__


def sources_of(target: State) -> frozenset[State]:
    """Every state from which `target` may be reached."""
    return frozenset(s for s, to in ALLOWED.items() if target in to)


def check(old: str, new: str, code: str = "") -> None:
    """Raise TransitionError unless old → new is a legal move."""
    if State(new) not in ALLOWED[State(old)]:
        allowed = ", ".join(sorted(ALLOWED[State(old)])) or "none: it is final"
        raise TransitionError(
            f"code {code or '?'}: {old} → {new} is not allowed (from {old}: {allowed})"
        )


def move(
    conn: Connection,
    ids: Sequence[int],
    new: State,
    *,
    user: str,
    reason: str | None = None,
    batch_id: str | None = None,
    expect: State | None = None,
    extra: dict | None = None,
    labels: Sequence[str] | None = None,
) -> None:
    """Move codes `ids` to `new` in the caller's transaction, with one audit entry each.

    With `expect`, every code must be in that state (the hot path knows it, saving a read);
    otherwise each code's current state is read and checked. `labels` are the codes' texts for
    the audit entries (read when not given). Raises TransitionError naming the first offender.
    """
    if not ids:
        return
    if expect is None or labels is None:
        rows = conn.execute(
            select(_codes.c.id, _codes.c.code, _codes.c.state).where(_codes.c.id.in_(ids))
        ).all()
        by_id = {r.id: r for r in rows}
        missing = [i for i in ids if i not in by_id]
        if missing:
            raise TransitionError(f"code id {missing[0]} does not exist")
        olds = [by_id[i].state for i in ids]
        labels = [by_id[i].code for i in ids]
        for i, old in zip(ids, olds, strict=True):
            check(old, new, by_id[i].code)
            if expect is not None and old != expect:
                raise TransitionError(f"code {by_id[i].code}: expected {expect}, found {old}")
    else:
        check(expect, new)
        olds = [expect] * len(ids)
    values = {"state": new.value, "updated_at": audit.now()}
    if extra:
        values.update(extra)
    raw = raw_sqlite(conn)
    if raw is not None:
        cols = list(values)
        sql = f"UPDATE codes SET {', '.join(f'{c} = ?' for c in cols)} WHERE id = ? AND state = ?"
        fixed = tuple(sqlite_time(v) if isinstance(v, datetime) else v for v in values.values())
        cur = raw.cursor()
        cur.executemany(sql, [(*fixed, i, str(o)) for i, o in zip(ids, olds, strict=True)])
        changed = cur.rowcount
    elif expect is not None and conn.dialect.name == "postgresql":
        # One statement per chunk instead of one per code: on a plant database shared by many
        # lines the per-row round trips, not the rows, were the cost (~10x at 10 lines).
        stmt = (
            update(_codes)
            .where(_codes.c.id == any_(bindparam("_ids", type_=ARRAY(BigInteger))))
            .where(_codes.c.state == expect.value)
            .values(**values)
        )
        changed = conn.execute(stmt, {"_ids": list(ids)}).rowcount
    else:
        stmt = (
            update(_codes)
            .where(_codes.c.id == bindparam("_id"), _codes.c.state == bindparam("_old"))
            .values(**values)
        )
        rows = [{"_id": i, "_old": o} for i, o in zip(ids, olds, strict=True)]
        changed = conn.execute(stmt, rows).rowcount
    if changed != len(ids):
        raise TransitionError(
            f"{len(ids) - changed} of {len(ids)} codes changed state underneath us "
            f"(moving to {new}); another process touched them; retry"
        )
    audit.record(
        conn,
        user,
        (
            audit.Change("state", label, old, new.value, reason, batch_id)
            for label, old in zip(labels, olds, strict=True)
        ),
    )
