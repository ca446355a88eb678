"""QA on the station: a code's history, the reject queue, and decisions on single codes.

Each decision runs in ONE transaction: state changes go through `lifecycle.move` (one audit
entry each), links are recorded in the links table (add/delete) with codes.parent_id and the
parent's child_count kept in step, and one `qa.<decision>` audit entry names the reason and the
deciding user. Rework after a batch closed is allowed (plants do it) and flagged in the audit
with the batch id (`qa.after_close`), so the sync side can send it as a follow-up.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import func, select
from sqlalchemy.engine import Connection

from station.codes.masking import SECRET_LEVELS, mask
from station.config import LEVEL_ORDER
from station.errors import InputError, NotFound, TransitionError
from station.qa.store import (
    CodeRow,
    after_close,
    children,
    decide_rejects,
    find,
    find_id,
    get,
    link,
    recount,
    shown,
    stored_reason,
    unlink,
)
from station.store import audit, lifecycle
from station.store.batches import CLOSED
from station.store.lifecycle import State
from station.store.models import AuditEntry, Code, Link, Reject

__all__ = [
    "CodeRow",
    "Decision",
    "History",
    "after_close",
    "children",
    "decide_rejects",
    "find",
    "find_id",
    "get",
    "history",
    "link",
    "recount",
    "reject_queue",
    "release",
    "retire",
    "retire_pair",
    "shown",
    "stored_reason",
    "unlink",
]
_codes = Code.__table__
_links = Link.__table__
_rejects = Reject.__table__
_audit = AuditEntry.__table__
DESTROYED_PREFIX = "destroyed:"


# -- history ----------------------------------------------------------------------------------


@dataclass
class History:
    """Everything known about one code, ready to print (codes already masked as needed)."""

    code: str
    level: str
    state: str
    reason: str | None
    batch_id: str | None
    batch_state: str | None
    product: str | None
    parent: str | None
    parent_level: str | None
    pair: str | None
    pair_level: str | None
    pair_state: str | None
    child_count: int | None
    container_status: str | None
    children: list[dict] = field(default_factory=list)
    rejects: list[dict] = field(default_factory=list)
    links: list[dict] = field(default_factory=list)
    trail: list[dict] = field(default_factory=list)

    def to_json(self) -> dict:
        """A JSON-ready dict."""
        return dict(self.__dict__)


def history(conn: Connection, code: str, *, reveal: bool = False, max_children: int = 200):
    """The history of `code`: level, batch, state, reason, parent, children, pair, trail."""
    row = find(conn, code)
    if row is None:
        # Not ours, but the camera may have read it: say what the line did with it.
        seen = conn.execute(
            select(_rejects.c.reason, _rejects.c.batch_id, _rejects.c.time)
            .where(_rejects.c.read_text == code)
            .order_by(_rejects.c.id)
        ).all()
        more = "".join(
            f"; read {r.time:%Y-%m-%d %H:%M} in batch {r.batch_id}: rejected {r.reason}"
            for r in seen[:5]
        )
        raise NotFound(f"code {code} is not known to this station{more}")
    parent = find_id(conn, row.parent_id) if row.parent_id else None
    pair = find_id(conn, row.pair_id) if row.pair_id else None
    kids = children(conn, row.id)
    h = History(
        code=shown(row, reveal),
        level=row.level,
        state=row.state,
        reason=row.reason,
        batch_id=row.batch_id,
        batch_state=row.batch_state,
        product=row.product,
        parent=shown(parent, reveal) or None,
        parent_level=parent.level if parent else None,
        pair=shown(pair, reveal) or None,
        pair_level=pair.level if pair else None,
        pair_state=pair.state if pair else None,
        child_count=row.child_count,
        container_status=row.container_status,
        children=[
            {"code": shown(k, reveal), "level": k.level, "state": k.state}
            for k in kids[:max_children]
        ],
    )
    for r in conn.execute(
        select(_rejects).where(_rejects.c.code_id == row.id).order_by(_rejects.c.id)
    ):
        h.rejects.append(
            {
                "time": r.time,
                "reason": r.reason,
                "detail": _mask_text(r.detail, {row.code: h.code}),
                "seq": r.seq,
                "decision": r.decision,
                "decided_by": r.decided_by,
                "decided_at": r.decided_at,
            }
        )
    other = _codes.alias("o")
    for r in conn.execute(
        select(_links, other.c.code.label("other"), other.c.level.label("other_level"))
        .select_from(_links.join(other, other.c.id == _links.c.parent_id))
        .where(_links.c.child_id == row.id)
        .order_by(_links.c.id)
    ):
        h.links.append(
            {
                "time": r.time,
                "action": r.action,
                "parent": mask(r.other, r.other_level, reveal=reveal),
                "user": r.user,
            }
        )
    secrets = {row.code: h.code}
    if pair is not None:
        secrets[pair.code] = h.pair or ""
    for r in conn.execute(select(_audit).where(_audit.c.subject == row.code).order_by(_audit.c.id)):
        h.trail.append(
            {
                "id": r.id,
                "time": r.time,
                "user": r.user,
                "action": r.action,
                "old": r.old,
                "new": r.new,
                "reason": _mask_text(r.reason, secrets),
                "batch_id": r.batch_id,
            }
        )
    return h


def _mask_text(text: str | None, secrets: dict[str, str]) -> str | None:
    """`text` with every secret code in it replaced by its shown form."""
    if not text:
        return text
    for full, masked in secrets.items():
        if full != masked and full in text:
            text = text.replace(full, masked)
    return text


# -- the reject queue ------------------------------------------------------------------------


def reject_queue(conn: Connection, batch_id: str | None = None, *, reveal: bool = False):
    """Undecided rejects (newest last), plus rejected codes the line left without a record."""
    code = _codes.alias("c")
    stmt = (
        select(_rejects, code.c.code, code.c.level, code.c.state)
        .select_from(_rejects.outerjoin(code, code.c.id == _rejects.c.code_id))
        .where(_rejects.c.decision.is_(None))
        .order_by(_rejects.c.id)
    )
    if batch_id:
        stmt = stmt.where(_rejects.c.batch_id == batch_id)
    out: list[dict] = []
    seen: set[int] = set()
    for r in conn.execute(stmt):
        if r.code_id is not None:
            seen.add(r.code_id)
        text = r.code if r.code is not None else r.read_text
        out.append(
            {
                "id": r.id,
                "time": r.time,
                "batch_id": r.batch_id,
                "code": mask(text, r.level, reveal=reveal) if text else None,
                "level": r.level,
                "state": r.state,
                "reason": r.reason,
                "detail": r.detail,
                "seq": r.seq,
            }
        )
    # Codes closing.py (or a crash) moved to rejected without a reject row still wait for QA.
    stmt = select(
        _codes.c.id,
        _codes.c.code,
        _codes.c.level,
        _codes.c.batch_id,
        _codes.c.reason,
        _codes.c.updated_at,
        # level IN (…) lets the (level, state, id) index find them without reading every code.
    ).where(_codes.c.level.in_(LEVEL_ORDER), _codes.c.state == State.REJECTED.value)
    if batch_id:
        stmt = stmt.where(_codes.c.batch_id == batch_id)
    for r in conn.execute(stmt.order_by(_codes.c.id)):
        if r.id in seen:
            continue
        out.append(
            {
                "id": None,
                "time": r.updated_at,
                "batch_id": r.batch_id,
                "code": mask(r.code, r.level, reveal=reveal),
                "level": r.level,
                "state": State.REJECTED.value,
                "reason": r.reason or "not_verified",
                "detail": None,
                "seq": None,
            }
        )
    return out


# -- decisions on one code ---------------------------------------------------------------------


@dataclass(frozen=True)
class Decision:
    """What a decision did, codes masked as the viewer may see them."""

    decision: str
    code: str
    level: str
    old: str
    new: str
    reason: str
    batch_id: str | None
    user: str
    after_close: bool = False
    unlinked_from: str | None = None
    also_retired: tuple[str, ...] = ()

    def to_json(self) -> dict:
        """A JSON-ready dict."""
        return {**self.__dict__, "also_retired": list(self.also_retired)}


def release(
    engine,
    code: str,
    *,
    user: str,
    reason: str = "released",
    capacity: dict[str, int] | None = None,
    reveal: bool = False,
) -> Decision:
    """A rejected code goes back to verified, out of any container: it may be linked again."""
    _check_reason(reason)
    with engine.begin() as conn:
        row = get(conn, code)
        if row.state != State.REJECTED.value:
            raise TransitionError(
                f"code {shown(row, reveal)} is {row.state}; only a rejected code can be released"
            )
        unlinked = None
        if row.parent_id is not None:  # rejected while in a case: verified means loose
            pid = unlink(conn, row, user=user, reason="released")
            recount(conn, [pid], capacity=capacity or {}, user=user, reason="release")
            unlinked = row.parent
        lifecycle.move(
            conn,
            [row.id],
            State.VERIFIED,
            user=user,
            reason=f"qa release: {reason}",
            batch_id=row.batch_id,
            extra={"reason": None},
        )
        decide_rejects(conn, row.id, "released", user)
        audit.record(
            conn,
            user,
            [
                audit.Change(
                    "qa.release", row.code, row.state, State.VERIFIED.value, reason, row.batch_id
                )
            ],
        )
        after_close(conn, [row], f"release {shown(row, False)}", user)
    return Decision(
        "release",
        shown(row, reveal),
        row.level,
        row.state,
        State.VERIFIED.value,
        reason,
        row.batch_id,
        user,
        row.batch_state in CLOSED,
        unlinked,
    )


def retire(
    engine,
    code: str,
    *,
    user: str,
    reason: str,
    destroy: bool = False,
    capacity: dict[str, int],
    reveal: bool = False,
) -> Decision:
    """Decommission (or destroy) a code forever; its inner/outer partner goes with it.

    A linked code is first taken out of its container (recorded as a link delete). A container
    that still holds children is refused: unpack it first. Destroy is decommissioned with the
    reason prefixed `destroyed:` so the EPCIS exporter emits `destroying`. The caller has
    collected the e-signature; the signer is `user`.
    """
    _check_reason(reason)
    if not reason.strip():
        raise InputError("--reason is required: say why the code is retired")
    decision = "destroy" if destroy else "decommission"
    text = f"{DESTROYED_PREFIX}{reason}" if destroy else reason
    with engine.begin() as conn:
        row = get(conn, code)
        if State(row.state) in lifecycle.FINAL:
            raise TransitionError(f"code {shown(row, reveal)} is {row.state} already: final")
        n = conn.execute(
            select(func.count()).select_from(_codes).where(_codes.c.parent_id == row.id)
        ).scalar_one()
        if n:
            raise InputError(
                f"{row.level} {shown(row, reveal)} still holds {n} code(s); unpack it first "
                f"(`station qa unpack {shown(row, reveal)}`)"
            )
        lifecycle.check(row.state, State.DECOMMISSIONED, shown(row, reveal))
        unlinked = None
        if row.parent_id is not None:
            pid = unlink(conn, row, user=user, reason=decision)
            recount(conn, [pid], capacity=capacity, user=user, reason=f"{decision} {row.code}")
            unlinked = row.parent
        lifecycle.move(
            conn,
            [row.id],
            State.DECOMMISSIONED,
            user=user,
            reason=text,
            batch_id=row.batch_id,
            extra={"reason": stored_reason(text)},
        )
        decide_rejects(conn, row.id, "destroyed" if destroy else "decommissioned", user)
        also = retire_pair(conn, row, user=user, reason=text)
        audit.record(
            conn,
            user,
            [
                audit.Change(
                    f"qa.{decision}",
                    row.code,
                    row.state,
                    State.DECOMMISSIONED.value,
                    text,
                    row.batch_id,
                ),
                audit.Change(
                    "esign", row.code, None, decision, f"signed by {user}: {reason}", row.batch_id
                ),
            ],
        )
        after_close(conn, [row], f"{decision} {shown(row, False)}", user)
    return Decision(
        decision,
        shown(row, reveal),
        row.level,
        row.state,
        State.DECOMMISSIONED.value,
        text,
        row.batch_id,
        user,
        row.batch_state in CLOSED,
        unlinked,
        tuple(mask(c, lv, reveal=reveal) for c, lv in also),
    )


def retire_pair(conn: Connection, row: CodeRow, *, user: str, reason: str) -> list[tuple]:
    """Decommission the inner/outer partner of `row` (one physical item); [(code, level)]."""
    if row.pair_id is None:
        return []
    pair = find_id(conn, row.pair_id)
    if pair is None or State.DECOMMISSIONED not in lifecycle.ALLOWED[State(pair.state)]:
        return []
    if pair.parent_id is not None:
        unlink(conn, pair, user=user, reason=reason)
    # The reason text is not masked by `station audit show`: never put an inner code in it.
    who = "an inner code" if row.level in SECRET_LEVELS else row.code
    why = f"pair of {who}: {reason}"
    lifecycle.move(
        conn,
        [pair.id],
        State.DECOMMISSIONED,
        user=user,
        reason=why,
        batch_id=pair.batch_id,
        extra={"reason": stored_reason(reason)},
    )
    decide_rejects(conn, pair.id, "decommissioned", user)
    return [(pair.code, pair.level)]


def _check_reason(reason: str) -> None:
    if len(reason) > 500:
        raise InputError("--reason is at most 500 characters")
