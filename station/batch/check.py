"""`station check`: reconcile a batch against the rules of the code lifecycle and aggregation."""

from __future__ import annotations

from sqlalchemy import Engine, func, select

from station.config import LEVEL_ORDER
from station.store.db import read_engine
from station.store.lifecycle import State
from station.store.models import AuditEntry, Batch, Code, Link, Reject

_codes = Code.__table__
_links = Link.__table__
_rejects = Reject.__table__
_batches = Batch.__table__
_audit = AuditEntry.__table__
LEVEL_INDEX = {name: i for i, name in enumerate(LEVEL_ORDER)}


def check_batch(conn, batch_id: str) -> list[str]:
    """Every broken invariant of one batch, as sentences; empty when all hold."""
    problems: list[str] = []
    c = _codes
    p = c.alias("p")
    counts = dict(
        conn.execute(
            select(c.c.state, func.count()).where(c.c.batch_id == batch_id).group_by(c.c.state)
        ).all()
    )
    # printed = verified + rejected + void: nothing may be stuck in between on a closed batch.
    state = conn.execute(select(_batches.c.state).where(_batches.c.id == batch_id)).scalar()
    if state in ("completed", "aborted"):
        for stuck in (State.RESERVED, State.PRINTED):
            if counts.get(stuck):
                problems.append(f"{counts[stuck]} code(s) still {stuck} in a closed batch")
    # Links obey the rules: adjacent levels, live states, one parent, parent in the store.
    rows = conn.execute(
        select(c.c.code, c.c.level, c.c.state, p.c.code, p.c.level, p.c.state)
        .select_from(c.join(p, p.c.id == c.c.parent_id))
        .where(c.c.batch_id == batch_id)
    ).all()
    for code, level, st, pcode, plevel, pst in rows:
        if LEVEL_INDEX.get(plevel, -1) <= LEVEL_INDEX.get(level, 99):
            problems.append(f"{code} ({level}) is inside {pcode} ({plevel}): wrong level order")
        if st != State.LINKED:
            problems.append(f"{code} has a parent {pcode} but is {st}")
        if pst in (
            State.VOID,
            State.REJECTED,
            State.DECOMMISSIONED,
            State.AVAILABLE,
            State.RESERVED,
        ):
            problems.append(f"container {pcode} is {pst} but holds {code}")
    linked_without_parent = conn.execute(
        select(func.count()).where(
            c.c.batch_id == batch_id, c.c.state == State.LINKED, c.c.parent_id.is_(None)
        )
    ).scalar()
    if linked_without_parent:
        problems.append(f"{linked_without_parent} code(s) linked but without a parent")
    # Containers' counts match their children.
    kids = dict(
        conn.execute(
            select(c.c.parent_id, func.count())
            .where(c.c.parent_id.is_not(None))
            .group_by(c.c.parent_id)
        ).all()
    )
    for cid, code, n, status in conn.execute(
        select(c.c.id, c.c.code, c.c.child_count, c.c.container_status).where(
            c.c.batch_id == batch_id, c.c.container_status.is_not(None)
        )
    ):
        if (n or 0) != kids.get(cid, 0):
            problems.append(f"container {code}: count {n} but {kids.get(cid, 0)} children")
        if status in ("open", "held") and state in ("completed", "aborted"):
            problems.append(f"container {code} still {status} in a closed batch")
    # Pairs are mutual.
    pair = c.alias("pair")
    bad_pairs = conn.execute(
        select(func.count())
        .select_from(c.join(pair, pair.c.id == c.c.pair_id))
        .where(c.c.batch_id == batch_id, pair.c.pair_id != c.c.id)
    ).scalar()
    if bad_pairs:
        problems.append(f"{bad_pairs} inner/outer pair(s) are not mutual")
    # The link history agrees with the current parents: adds minus deletes = 1 for a linked child.
    adds = func.count().filter(_links.c.action == "add")
    dels = func.count().filter(_links.c.action == "delete")
    for child, parent_id, net in conn.execute(
        select(_links.c.child_id, c.c.parent_id, adds - dels)
        .join(c, c.c.id == _links.c.child_id)
        .where(c.c.batch_id == batch_id)
        .group_by(_links.c.child_id, c.c.parent_id)
    ):
        if net != (1 if parent_id is not None else 0):
            problems.append(f"code id {child}: link history ({net} net) disagrees with its parent")
    return problems


def split_containers(conn, batch_id: str) -> list[str]:
    """Containers of the batch whose children were linked by two runs of the line.

    How the store tells: every `station run`/`demo` takes the station's run lock and the trail
    records it (`run.lock`, subject the station id, new = pid). A link belongs to the last lock
    taken before its time; a container with children from two locks was split by a restart (a
    kill or crash while it was open). Links from before run locks existed cannot be told apart.
    """
    station = conn.execute(select(_batches.c.station_id).where(_batches.c.id == batch_id)).scalar()
    runs = conn.execute(
        select(_audit.c.time, _audit.c.new)
        .where(_audit.c.action == "run.lock", _audit.c.subject == station)
        .order_by(_audit.c.id)
    ).all()
    if len(runs) < 2:
        return []
    from bisect import bisect_right

    starts = [t for t, _ in runs]
    parent = _codes.alias("p")
    by_parent: dict[str, set[int]] = {}
    for pcode, when in conn.execute(
        select(parent.c.code, _links.c.time)
        .join(parent, parent.c.id == _links.c.parent_id)
        .where(_links.c.batch_id == batch_id, _links.c.action == "add")
    ):
        by_parent.setdefault(pcode, set()).add(bisect_right(starts, when) - 1)
    out = []
    for pcode, sessions in sorted(by_parent.items()):
        if len(sessions) > 1:
            who = ", ".join(
                f"pid {runs[i][1]} from {runs[i][0]:%Y-%m-%d %H:%M:%S}" for i in sorted(sessions)
                if i >= 0
            )  # fmt: skip
            out.append(f"container {pcode}: children linked by {len(sessions)} runs ({who}); "
                       "open it and check its contents")  # fmt: skip
    return out


def check_batches(engine: Engine, batch_id: str | None = None) -> dict:
    """Check one batch or every batch; {'ok', 'batches': [{batch, ok, problems}]}."""
    with read_engine(engine).connect() as conn:
        ids = (
            [batch_id]
            if batch_id
            else list(conn.execute(select(_batches.c.id).order_by(_batches.c.created_at)).scalars())
        )
        if (
            batch_id
            and not conn.execute(select(_batches.c.id).where(_batches.c.id == batch_id)).first()
        ):
            from station.errors import NotFound

            raise NotFound(
                f"batch {batch_id} does not exist; `station batch list` shows the batches"
            )
        out = []
        for b in ids:
            probs = check_batch(conn, b)
            warn = split_containers(conn, b)
            out.append({"batch": b, "ok": not probs, "problems": probs, "warnings": warn})
    return {"ok": all(b["ok"] for b in out), "batches": out}
