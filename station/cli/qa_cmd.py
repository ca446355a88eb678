"""`station qa`: history, rejects, decisions, rework (replace, recode, unpack), relabel."""

from __future__ import annotations

from station import users
from station.errors import InputError
from station.qa import cascade as qa_cascade
from station.qa import decisions as qa
from station.qa import label as qa_label
from station.qa import recode as qa_recode
from station.qa import rework as qa_rework
from station.qa.rework import capacities
from station.store import batches
from station.store.db import read_engine


def register(subs, add) -> None:
    """Add the qa group."""
    g = add(subs, "qa", help="QA: code history, the reject queue, decisions and rework")
    s = g.add_subparsers(dest="cmd", required=True)
    p = add(s, "scan", help="everything known about one code")
    p.add_argument("code")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=scan)
    p = add(s, "rejects", help="the reject queue: rejects waiting for a decision")
    p.add_argument("--batch")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=rejects)
    p = add(s, "release", help="a rejected code goes back to verified (may be linked again)")
    p.add_argument("code")
    p.add_argument("--reason", default="released")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=release)
    for name, text in (
        ("decommission", "retire a code forever (e-signature)"),
        ("destroy", "retire a code forever as destroyed (e-signature)"),
    ):
        p = add(s, name, help=text)
        p.add_argument("code")
        p.add_argument("--reason", required=True)
        p.add_argument("--json", action="store_true")
        p.set_defaults(func=retire, destroy=name == "destroy")
    p = add(s, "replace", help="swap a damaged item in a container for another verified one")
    p.add_argument("old")
    p.add_argument("new")
    p.add_argument(
        "--old-state",
        choices=["decommissioned", "verified"],
        default="decommissioned",
        help="fate of the old item: decommissioned (e-signature) or back to stock",
    )
    p.add_argument("--reason", default="replaced")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=replace)
    p = add(s, "unpack", help="take every child out of a container")
    p.add_argument("container")
    p.add_argument(
        "--reuse",
        action="store_true",
        help="keep the container code (verified, empty, open) instead of retiring it",
    )
    p.add_argument(
        "--cascade",
        action="store_true",
        help="take apart everything under it too, top-down (e-signature)",
    )
    p.add_argument("--preview", action="store_true", help="with --cascade: count, change nothing")
    p.add_argument("--reason", default="unpacked")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=unpack)
    p = add(
        s, "recode", help="码替换: a damaged item takes a fresh code of its level (e-signature)"
    )
    p.add_argument("old")
    p.add_argument("new")
    p.add_argument("--reason", required=True)
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=recode)
    p = add(s, "aggregate", help="put children into a container by hand (the line's rules)")
    p.add_argument("parent")
    p.add_argument("children", nargs="+")
    p.add_argument("--mixed", action="store_true", help="mixed container (拼箱)")
    p.add_argument("--partial", action="store_true", help="fewer than capacity (零箱)")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=aggregate)
    p = add(s, "relabel", help="reprint a container label with the same code")
    p.add_argument("container")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=relabel)


def _reveal(app) -> bool:
    return app._auth[1] in users.SECRET_VIEWERS


def _t(value) -> str:
    return f"{value:%Y-%m-%d %H:%M:%S}" if value else "-"


def scan(app, args) -> int:
    """Print a code's history."""
    app.require("qa.scan")
    if not args.code.strip():
        raise InputError("no code given: scan it or type it (`station qa scan CODE`)")
    with read_engine(app.engine).connect() as conn:
        h = qa.history(conn, args.code.strip(), reveal=_reveal(app))
    if args.json:
        app.json(h.to_json())
        return 0
    reason = f" ({h.reason})" if h.reason else ""
    app.out(f"{h.level} {h.code}: {h.state}{reason}")
    app.out(f"  batch {h.batch_id or '-'} ({h.batch_state or '-'})  product {h.product or '-'}")
    if h.parent:
        app.out(f"  in {h.parent_level} {h.parent}")
    if h.pair:
        app.out(f"  pair {h.pair_level} {h.pair} ({h.pair_state})")
    if h.container_status or h.children:
        app.out(
            f"  container {h.container_status or '-'}, {len(h.children)} children"
            f" (child_count {h.child_count})"
        )
        for k in h.children[:50]:
            app.out(f"    {k['level']} {k['code']} {k['state']}")
    for r in h.rejects:
        decided = f" → {r['decision']} by {r['decided_by']}" if r["decision"] else " (waiting)"
        app.out(f"  reject {_t(r['time'])} {r['reason']}{decided}")
    timeline = [(r["time"], f"link {r['action']} {r['parent']} by {r['user']}") for r in h.links]
    for r in h.trail:
        change = f" {r['old'] or ''}→{r['new'] or ''}" if r["old"] or r["new"] else ""
        why = f" ({r['reason']})" if r["reason"] else ""
        timeline.append((r["time"], f"{r['user']}: {r['action']}{change}{why}"))
    for when, text in sorted(timeline, key=lambda t: t[0]):
        app.out(f"  {_t(when)} {text}")
    return 0


def rejects(app, args) -> int:
    """Print the reject queue."""
    app.require("qa.scan")
    with read_engine(app.engine).connect() as conn:
        if args.batch:
            batches.get(conn, args.batch)  # NotFound: a mistyped id is not an empty queue
        rows = qa.reject_queue(conn, args.batch, reveal=_reveal(app))
    if args.json:
        app.json({"rejects": rows, "count": len(rows)})
        return 0
    for r in rows:
        app.out(
            f"{_t(r['time'])}  {r['batch_id'] or '-':<22} {r['reason']:<16} "
            f"{r['code'] or '(no code read)'}"
        )
    app.out(f"{len(rows)} reject(s) waiting for QA")
    return 0


def _done(app, args, d: dict, line: str) -> int:
    if args.json:
        app.json(d)
    else:
        app.out(line)
        if d.get("after_close"):
            app.out("  note: the batch is closed; the change goes upstream as a follow-up")
    return 0


def release(app, args) -> int:
    """Release a rejected code."""
    user = app.require("qa.decide")
    d = qa.release(
        app.engine,
        args.code,
        user=user,
        reason=args.reason,
        capacity=capacities(app.settings),
        reveal=_reveal(app),
    )
    return _done(app, args, d.to_json(), f"{d.level} {d.code}: rejected → verified ({d.reason})")


def _signed(app) -> str:
    app.require("qa.decide")
    app.require("qa.sign")
    return users.sign(app)


def retire(app, args) -> int:
    """Decommission or destroy a code (e-signature)."""
    signer = _signed(app)
    d = qa.retire(
        app.engine,
        args.code,
        user=signer,
        reason=args.reason,
        destroy=args.destroy,
        capacity=capacities(app.settings),
        reveal=_reveal(app),
    )
    extra = f"; its pair {', '.join(d.also_retired)} too" if d.also_retired else ""
    out = f" (taken out of {d.unlinked_from})" if d.unlinked_from else ""
    return _done(
        app,
        args,
        d.to_json(),
        f"{d.level} {d.code}: {d.old} → {d.new} ({d.reason}), signed by {signer}{out}{extra}",
    )


def replace(app, args) -> int:
    """Replace an item in its container."""
    user = _signed(app) if args.old_state == "decommissioned" else app.require("qa.decide")
    d = qa_rework.replace_child(
        app.engine,
        app.settings,
        args.old,
        args.new,
        user=user,
        old_state=args.old_state,
        reason=args.reason,
        reveal=_reveal(app),
    )
    return _done(
        app, args, d, f"{d['container']}: {d['old']} ({d['old_state']}) replaced by {d['new']}"
    )


def unpack(app, args) -> int:
    """Unpack a container (one level, or with --cascade the whole tree under it)."""
    if args.preview and not args.cascade:
        raise InputError(
            "--preview goes with --cascade: `station qa unpack CODE --cascade --preview`"
        )
    if args.cascade:
        return _cascade(app, args)
    user = app.require("qa.decide")
    d = qa_rework.unpack(
        app.engine,
        app.settings,
        args.container,
        user=user,
        reuse=args.reuse,
        reason=args.reason,
        reveal=_reveal(app),
    )
    return _done(
        app,
        args,
        d,
        f"{d['level']} {d['container']}: {len(d['children'])} children "
        f"out, container {d['container_fate']}",
    )


def _cascade(app, args) -> int:
    if args.preview:
        app.require("qa.scan")
        with read_engine(app.engine).connect() as conn:
            d = qa_cascade.preview(conn, args.container, reveal=_reveal(app))
        return _done(app, args, d, f"would unpack {d['text']} (nothing changed)")
    user = _signed(app)
    d = qa_cascade.unpack_tree(
        app.engine,
        app.settings,
        args.container,
        user=user,
        reuse=args.reuse,
        reason=args.reason,
        reveal=_reveal(app),
    )
    return _done(
        app, args, d, f"unpacked {d['text']}; containers {d['container_fate']}, signed by {user}"
    )


def recode(app, args) -> int:
    """Give a damaged item a fresh code (码替换)."""
    user = _signed(app)
    d = qa_recode.recode(
        app.engine,
        app.settings,
        args.old,
        args.new,
        user=user,
        reason=args.reason,
        reveal=_reveal(app),
    )
    where = f" in {d['container']}" if d["container"] else ""
    return _done(
        app,
        args,
        d,
        f"{d['level']} {d['old']} → {d['new']}{where} ({d['reason']}), signed by {user}",
    )


def aggregate(app, args) -> int:
    """Aggregate by hand."""
    user = app.require("qa.decide")
    d = qa_rework.aggregate(
        app.engine,
        app.settings,
        args.parent,
        args.children,
        user=user,
        mixed=args.mixed,
        partial=args.partial,
        reveal=_reveal(app),
    )
    return _done(
        app,
        args,
        d,
        f"{d['level']} {d['container']}: {len(d['added'])} added, "
        f"{d['count']} inside, {d['status']}",
    )


def relabel(app, args) -> int:
    """Reprint a container label."""
    user = app.require("qa.decide")
    d = qa_label.relabel(app.engine, app.settings, args.container, user=user, reveal=_reveal(app))
    return _done(
        app,
        args,
        d,
        f"{d['level']} {d['container']}: label reprinted on "
        f"{d['printer']} (same code, {d['count']} inside)",
    )
