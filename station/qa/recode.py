"""码替换: give a damaged item a fresh code from its level's pool, keeping its place and links.

In ONE transaction: NEW (an unused code of the same level) becomes verified in OLD's batch, takes
OLD's place in its container, takes over OLD's children (a container recoded) and its inner/outer
pair; OLD is decommissioned with the reason. Every link and state move is audited, plus one
`qa.recode` entry and the e-signature.
"""

from __future__ import annotations

from sqlalchemy import update

from station.errors import InputError
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
from station.store.models import Code

_codes = Code.__table__
RECODABLE = frozenset({State.VERIFIED.value, State.LINKED.value, State.REJECTED.value})


class RecodeRefused(InputError):
    """The new code may not replace the old one; nothing changed."""


def _check(old: CodeRow, new: CodeRow | None, new_code: str, reveal: bool) -> CodeRow:
    o = shown(old, reveal)
    if new_code == old.code:
        raise RecodeRefused(f"refused: the new code is the old one ({o}); scan a fresh code")
    if new is None:
        raise RecodeRefused(
            f"refused: {new_code} is in no pool of this station; take a fresh {old.level} code "
            f"from this line's {old.level} pool"
        )
    n = shown(new, reveal)
    if new.level != old.level:
        raise RecodeRefused(
            f"refused: {n} is a {new.level} code, {o} a {old.level} code; "
            f"take a fresh {old.level} code"
        )
    if new.state != State.AVAILABLE.value:
        raise RecodeRefused(
            f"refused: {n} is already used ({new.state}); take a fresh {old.level} code"
        )
    if old.state not in RECODABLE:
        raise RecodeRefused(
            f"refused: {old.level} {o} is {old.state}; only a verified, linked or rejected "
            "code is recoded"
        )
    return new


def recode(
    engine,
    settings,
    old_code: str,
    new_code: str,
    *,
    user: str,
    reason: str,
    reveal: bool = False,
) -> dict:
    """Replace OLD's code by NEW (码替换); OLD is decommissioned with `reason`."""
    if not reason.strip():
        raise InputError("a recode needs a reason (--reason, e.g. 'label damaged')")
    capacity = {lv.name: lv.capacity for lv in settings.levels}
    with engine.begin() as conn:
        old = get(conn, old_code)
        new = _check(old, find(conn, new_code), new_code, reveal)
        batch = old.batch_id
        conn.execute(update(_codes).where(_codes.c.id == new.id).values(batch_id=batch))
        lifecycle.move(conn, [new.id], State.VERIFIED, user=user, reason=reason, batch_id=batch)
        touched: set[int] = set()
        parent = find_id(conn, old.parent_id) if old.parent_id else None
        if parent is not None:
            touched.add(unlink(conn, old, user=user, reason=f"recoded: {reason}"))
            link(conn, parent, find(conn, new.code), user=user, reason=f"recode of {old.code}")
            lifecycle.move(conn, [new.id], State.LINKED, user=user, reason=reason, batch_id=batch)
        kids = children(conn, old.id)
        fresh = find(conn, new.code)
        for k in kids:  # a recoded container keeps its contents
            unlink(conn, k, user=user, reason=f"recoded: {reason}")
            link(conn, fresh, find_id(conn, k.id), user=user, reason=f"recode of {old.code}")
        if old.container_status is not None:
            conn.execute(
                update(_codes)
                .where(_codes.c.id == new.id)
                .values(child_count=len(kids), container_status=old.container_status)
            )
        if old.pair_id is not None:  # the inner/outer pair follows the item
            conn.execute(update(_codes).where(_codes.c.id == old.pair_id).values(pair_id=new.id))
            conn.execute(update(_codes).where(_codes.c.id == new.id).values(pair_id=old.pair_id))
            conn.execute(update(_codes).where(_codes.c.id == old.id).values(pair_id=None))
        lifecycle.move(
            conn,
            [old.id],
            State.DECOMMISSIONED,
            user=user,
            reason=reason,
            batch_id=batch,
            extra={"reason": stored_reason(reason)},
        )
        decide_rejects(conn, old.id, "recoded", user)
        if kids:
            touched.add(old.id)
        recount(conn, touched, capacity=capacity, user=user, reason=f"recode {old.code}")
        audit.record(
            conn,
            user,
            [
                audit.Change("qa.recode", old.code, old.code, new.code, reason, batch),
                audit.Change(
                    "esign", old.code, None, "recode", f"signed by {user}: {reason}", batch
                ),
            ],
        )
        after_close(conn, [old, new], f"recode {old.code}", user)
    return {
        "decision": "recode",
        "old": shown(old, reveal),
        "new": shown(new, reveal),
        "level": old.level,
        "container": shown(parent, reveal) or None,
        "children": len(kids),
        "reason": reason,
        "after_close": old.batch_state in CLOSED,
        "user": user,
    }
