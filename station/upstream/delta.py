"""What upstream has not been told about a batch: the store's codes against `upstream_told`.

`upstream_told` holds, per code, what the sealed units of its batch said last: its fate (live,
decommissioned, destroyed, void), its parent, its pair (on the inner code) and a container's
status. A unit is the difference between the store now and that, over a scope of codes:

- a pallet: the codes of its batch under it, and their inner caps;
- told: told codes whose fate, parent, pair or status changed since, plus codes newly put into
  told containers (what a correction of an open batch carries);
- full: told and every code of the batch not told yet (the close, and corrections after it).

The difference is derived from the store itself, never from a hook: a crash between a QA action
and its unit loses nothing, the next look finds the same difference. Times are each code's last
change (`updated_at`), reasons the code's stored reason.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field, replace
from datetime import datetime

from sqlalchemy import and_, case, not_, or_, select
from sqlalchemy.engine import Connection

from station.store.lifecycle import State
from station.store.models import Code, UpstreamTold
from sync.model import CodeRecord, ContainerRecord, LinkRecord, PairRecord

_codes = Code.__table__
_told = UpstreamTold.__table__
LIVE = (State.VERIFIED.value, State.LINKED.value)
RETIRED = ("decommissioned", "destroyed")
PAIRED = (*LIVE, State.DECOMMISSIONED.value)
EXPORTED = (*LIVE, State.DECOMMISSIONED.value, State.VOID.value)
SEALED = ("normal", "partial", "mixed")
DESTROYED_PREFIX = "destroyed:"
CHUNK = 500
Known = Callable[[int], bool]


@dataclass(slots=True)
class Now:
    """A code as the store has it now."""

    id: int
    code: str
    level: str
    state: str
    reason: str | None
    time: datetime
    parent_id: int | None
    pair_id: int | None
    status: str | None
    count: int | None
    batch_id: str | None


@dataclass(slots=True)
class Told:
    """What upstream was told last about a code."""

    fate: str
    parent_id: int | None = None
    pair_id: int | None = None
    status: str | None = None


@dataclass
class Delta:
    """A unit's content (sync.units.UnitData fields) and the told rows it leaves behind."""

    commission: list[CodeRecord] = field(default_factory=list)
    pairs: list[PairRecord] = field(default_factory=list)
    unpairs: list[PairRecord] = field(default_factory=list)
    links: list[LinkRecord] = field(default_factory=list)
    unlinks: list[LinkRecord] = field(default_factory=list)
    retire: list[CodeRecord] = field(default_factory=list)
    voids: list[CodeRecord] = field(default_factory=list)
    containers: list[ContainerRecord] = field(default_factory=list)
    told: dict[int, Told] = field(default_factory=dict)

    def parts(self) -> dict:
        """The UnitData keyword arguments."""
        return {
            k: getattr(self, k)
            for k in (
                "commission",
                "pairs",
                "unpairs",
                "links",
                "unlinks",
                "retire",
                "voids",
                "containers",
            )
        }


def fate(row: Now) -> str | None:
    """What upstream should know of a code now; None: nothing yet (waiting, rejected)."""
    if row.state in LIVE:
        return "live"
    if row.state == State.DECOMMISSIONED.value:
        return "destroyed" if (row.reason or "").startswith(DESTROYED_PREFIX) else "decommissioned"
    if row.state == State.VOID.value:
        return "void"
    return None


def _cols():
    c = _codes.c
    return (
        c.id,
        c.code,
        c.level,
        c.state,
        c.reason,
        c.updated_at,
        c.parent_id,
        c.pair_id,
        c.container_status,
        c.child_count,
        c.batch_id,
    )


def _now(r) -> Now:
    return Now(r[0], r[1], r[2], r[3], r[4], r[5] or datetime(1970, 1, 1), *r[6:])


def _chunks(ids: Iterable[int]) -> Iterator[list[int]]:
    ids = list(ids)
    for i in range(0, len(ids), CHUNK):
        yield ids[i : i + CHUNK]


def load(conn: Connection, ids: Iterable[int]) -> dict[int, Now]:
    """Codes by id."""
    out: dict[int, Now] = {}
    for part in _chunks(set(ids)):
        for r in conn.execute(select(*_cols()).where(_codes.c.id.in_(part))):
            out[r[0]] = _now(r)
    return out


def told_of(conn: Connection, ids: Iterable[int]) -> dict[int, Told]:
    """Told rows by code id."""
    t = _told.c
    out: dict[int, Told] = {}
    for part in _chunks(set(ids)):
        stmt = select(t.code_id, t.fate, t.parent_id, t.pair_id, t.status).where(
            t.code_id.in_(part)
        )
        for r in conn.execute(stmt):
            out[r[0]] = Told(r[1], r[2], r[3], r[4])
    return out


def _children(conn: Connection, parents: list[int], batch_id: str) -> list[Now]:
    out = []
    for part in _chunks(parents):
        stmt = select(*_cols()).where(_codes.c.parent_id.in_(part), _codes.c.batch_id == batch_id)
        out.extend(_now(r) for r in conn.execute(stmt))
    return out


def _with_tree(conn: Connection, rows: dict[int, Now], tops: list[int], batch_id: str) -> None:
    """Add everything under `tops` (codes of the batch) and the inner caps of the items."""
    frontier = tops
    while frontier:
        kids = [k for k in _children(conn, frontier, batch_id) if k.id not in rows]
        rows.update((k.id, k) for k in kids)
        frontier = [k.id for k in kids if k.status is not None or k.count]
    caps = [r.pair_id for r in rows.values() if r.pair_id and r.level != "inner"]
    rows.update((k, v) for k, v in load(conn, caps).items() if v.batch_id == batch_id)


def pallet_scope(conn: Connection, pallet_id: int, batch_id: str) -> dict[int, Now]:
    """The pallet and the codes of its batch under it."""
    rows = load(conn, [pallet_id])
    _with_tree(conn, rows, [pallet_id], batch_id)
    return rows


def told_scope(conn: Connection, batch_id: str) -> dict[int, Now]:
    """Told codes of the batch that changed, and codes newly put into told containers."""
    c, t = _codes.c, _told.c
    now_fate = case(
        (c.state.in_(LIVE), "live"),
        (and_(c.state == "decommissioned", c.reason.like(DESTROYED_PREFIX + "%")), "destroyed"),
        (c.state == "decommissioned", "decommissioned"),
        (c.state == "void", "void"),
        else_=t.fate,
    )
    changed = or_(
        t.fate != now_fate,
        not_(t.parent_id.is_not_distinct_from(c.parent_id)),
        not_(t.pair_id.is_not_distinct_from(c.pair_id)),
        and_(
            c.container_status.in_(SEALED), not_(t.status.is_not_distinct_from(c.container_status))
        ),
    )
    stmt = (
        select(*_cols())
        .select_from(_told.join(_codes, c.id == t.code_id))
        .where(t.batch_id == batch_id, changed)
    )
    rows = {r[0]: _now(r) for r in conn.execute(stmt)}
    # Codes put into a told container (a replacement, a recode, cases merged onto a pallet).
    tp = _told.alias("tp")
    tc = _told.alias("tc")
    stmt = (
        select(*_cols())
        .select_from(
            _codes.join(tp, tp.c.code_id == c.parent_id).outerjoin(tc, tc.c.code_id == c.id)
        )
        .where(tp.c.batch_id == batch_id, tp.c.status.is_not(None), tc.c.code_id.is_(None))
        .where(c.batch_id == batch_id)
    )
    attached = {r[0]: _now(r) for r in conn.execute(stmt)}
    rows.update(attached)
    _with_tree(conn, rows, list(attached), batch_id)
    return rows


def full_scope(conn: Connection, batch_id: str) -> dict[int, Now]:
    """Everything of the batch upstream does not know as it is now."""
    rows = told_scope(conn, batch_id)
    c, t = _codes.c, _told.c
    stmt = (
        select(*_cols())
        .select_from(_codes.outerjoin(_told, t.code_id == c.id))
        .where(c.batch_id == batch_id, c.state.in_(EXPORTED), t.code_id.is_(None))
        .order_by(c.id)
    )
    rows.update((r[0], _now(r)) for r in conn.execute(stmt))
    return rows


def _record(row: Now, state: str) -> CodeRecord:
    reason = row.reason
    if reason and reason.startswith(DESTROYED_PREFIX):
        reason = reason[len(DESTROYED_PREFIX) :].strip() or None
    return CodeRecord(row.code, row.level, state, row.time, reason)


def compute(conn: Connection, rows: dict[int, Now], *, any_parent: bool) -> Delta:
    """The difference between `rows` and what was told of them; see the module docstring.

    Without `any_parent` a code is put only into a container upstream knows (told, or told in
    this unit); otherwise (the close) into whatever container the store says.
    """
    told = told_of(conn, rows)
    d = Delta()
    for row in sorted(rows.values(), key=lambda r: r.id):
        t, f = told.get(row.id), fate(row)
        if t is None:
            if f is None:
                continue
            if f == "void":
                d.voids.append(_record(row, "void"))
                d.told[row.id] = Told("void")
                continue
            d.commission.append(_record(row, f if f in RETIRED else row.state))
            if f in RETIRED:
                d.retire.append(_record(row, f))
            d.told[row.id] = Told(f)
        else:
            nt = replace(t)
            if f in RETIRED and t.fate == "live":
                d.retire.append(_record(row, f))
                nt.fate = f
            d.told[row.id] = nt
    names = {i for r in rows.values() for i in (r.parent_id, r.pair_id) if i}
    names |= {i for t in told.values() for i in (t.parent_id, t.pair_id) if i}
    refs = dict(rows)
    refs.update(load(conn, names - set(rows)))
    ref_told = told_of(conn, set(refs) - set(rows))

    def known(code_id: int) -> bool:
        if any_parent:
            return True
        t = d.told.get(code_id) or ref_told.get(code_id)
        return t is not None and t.fate != "void"

    for row in sorted(rows.values(), key=lambda r: r.id):
        nt = d.told.get(row.id)
        if nt is None or nt.fate == "void":
            continue
        exported = fate(row) is not None
        _parent(d, row, nt, refs, exported, known)
        if row.level == "inner":
            _pair(d, row, nt, refs, exported, known)
        if exported and nt.fate == "live" and row.status in SEALED and row.status != nt.status:
            d.containers.append(ContainerRecord(row.code, row.level, row.count or 0, row.status))
            nt.status = row.status
    d.told = {i: nt for i, nt in d.told.items() if told.get(i) != nt}
    return d


def _parent(d: Delta, row: Now, nt: Told, refs: dict, exported: bool, known: Known) -> None:
    want = row.parent_id if exported else nt.parent_id
    if want is not None and (want not in refs or not known(want)):
        want = None  # its container is not upstream yet: its own unit puts the code in
    if want == nt.parent_id:
        return
    if nt.parent_id is not None:
        old = refs[nt.parent_id]
        d.unlinks.append(LinkRecord(old.code, row.code, old.level, row.level, row.time, "delete"))
    if want is not None:
        new = refs[want]
        d.links.append(LinkRecord(new.code, row.code, new.level, row.level, row.time, "add"))
    nt.parent_id = want


def _pair(d: Delta, row: Now, nt: Told, refs: dict, exported: bool, known: Known) -> None:
    outer = refs.get(row.pair_id) if row.pair_id else None
    if not exported:
        want = nt.pair_id
    elif row.state in PAIRED and outer is not None and outer.state in PAIRED:
        want = outer.id if known(outer.id) else None
    else:
        want = None
    if want == nt.pair_id:
        return
    # A pair changes without its inner code's time moving (a recoded outer): the latest of the
    # two codes' times says when, so the change never looks older than what it corrects.
    if nt.pair_id is not None and nt.pair_id in refs:
        old = refs[nt.pair_id]
        d.unpairs.append(PairRecord(row.code, old.code, max(row.time, old.time)))
    if want is not None:
        new = refs[want]
        d.pairs.append(PairRecord(row.code, new.code, max(row.time, new.time)))
    nt.pair_id = want
