"""`station audit verify|show`: the hash-chained trail, checked and read."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from station import users
from station.codes.masking import SECRET_LEVELS, mask
from station.errors import CheckFailed, InputError
from station.store import audit, batches
from station.store.db import read_engine
from station.store.models import AuditEntry, Code

_audit = AuditEntry.__table__
_codes = Code.__table__


def register(subs, add) -> None:
    """Add the audit group."""
    g = add(subs, "audit", help="the audit trail: verify the hash chain, show entries")
    s = g.add_subparsers(dest="cmd", required=True)
    p = add(s, "verify", help="walk the hash chain; exit 1 naming the first broken entry")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=verify)
    p = add(s, "show", help="the newest audit entries (--limit), oldest first")
    p.add_argument("--batch")
    # --user is the global "act as" option, so the filter is --by.
    p.add_argument("--by", dest="by_user", metavar="USER", help="entries made by USER")
    p.add_argument("--since", help="ISO time (UTC) or a duration back: 30m, 12h, 7d")
    p.add_argument("--limit", type=int, default=1000)
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=show)


def verify(app, args) -> int:
    """Verify the chain."""
    app.require("audit.view")
    with read_engine(app.engine).connect() as conn:
        checked, brk = audit.verify(conn)
    if args.json:
        app.json(
            {
                "ok": brk is None,
                "checked": checked,
                "broken": {"id": brk.entry_id, "problem": brk.problem} if brk else None,
            }
        )
        return 1 if brk else 0
    if brk is None:
        app.out(f"audit trail intact: {checked} entries chained")
        return 0
    raise CheckFailed(
        f"audit trail broken at entry {brk.entry_id}: {brk.problem} "
        f"({checked} entries before it are intact)"
    )


def parse_since(text: str | None) -> datetime | None:
    """An ISO time (naive = UTC) or a duration back from now (30m, 12h, 7d)."""
    if not text:
        return None
    m = re.fullmatch(r"(\d+)\s*([mhd])", text.strip())
    if m:
        unit = {"m": "minutes", "h": "hours", "d": "days"}[m.group(2)]
        try:
            return audit.now() - timedelta(**{unit: int(m.group(1))})
        except OverflowError:
            raise InputError(
                f"--since {text!r} reaches before year 1; give a shorter duration or an ISO time"
            ) from None
    try:
        t = datetime.fromisoformat(text)
    except ValueError:
        raise InputError(
            f"--since {text!r}: give an ISO time (2026-11-24T08:00) or 30m/12h/7d"
        ) from None
    if t.tzinfo is not None:
        t = t.astimezone(UTC).replace(tzinfo=None)
    return t


def secret_subjects(conn, subjects: set[str]) -> dict[str, str]:
    """{full: masked} for the subjects that are secret-level codes."""
    out: dict[str, str] = {}
    items = sorted(subjects)
    for i in range(0, len(items), 500):
        for code, level in conn.execute(
            select(_codes.c.code, _codes.c.level).where(
                _codes.c.code.in_(items[i : i + 500]), _codes.c.level.in_(SECRET_LEVELS)
            )
        ):
            out[code] = mask(code, level)
    return out


def show(app, args) -> int:
    """Show entries; inner codes masked unless the role may see them."""
    app.require("audit.view")
    if args.limit < 1:
        raise InputError(f"--limit {args.limit}: give the number of entries to show (1 or more)")
    reveal = app._auth[1] in users.SECRET_VIEWERS
    stmt = select(_audit).order_by(_audit.c.id.desc())  # the newest N, printed oldest first
    if args.batch:
        stmt = stmt.where(_audit.c.batch_id == args.batch)
    if args.by_user:
        stmt = stmt.where(_audit.c.user == args.by_user)
    since = parse_since(args.since)
    if since is not None:
        stmt = stmt.where(_audit.c.time >= since)
    with read_engine(app.engine).connect() as conn:
        if args.batch:
            batches.get(conn, args.batch)  # NotFound: a mistyped id is not "no entries"
        rows = conn.execute(stmt.limit(args.limit)).all()[::-1]
        secrets = {} if reveal else secret_subjects(conn, {r.subject for r in rows})
    entries = [
        {
            "id": r.id,
            "time": r.time.isoformat(timespec="milliseconds"),
            "user": r.user,
            "action": r.action,
            "subject": secrets.get(r.subject, r.subject),
            "old": r.old,
            "new": r.new,
            "reason": r.reason,
            "batch_id": r.batch_id,
        }
        for r in rows
    ]
    if args.json:
        app.json({"entries": entries, "count": len(entries)})
        return 0
    for e in entries:
        change = f" {e['old'] or ''}→{e['new'] or ''}" if e["old"] or e["new"] else ""
        why = f" ({e['reason']})" if e["reason"] else ""
        batch = f" [{e['batch_id']}]" if e["batch_id"] else ""
        app.out(
            f"{e['id']:>7} {e['time']} {e['user']:<12} {e['action']:<16} "
            f"{e['subject']}{change}{why}{batch}"
        )
    if not entries:
        app.out("no entries")
    return 0
