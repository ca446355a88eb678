"""`station ship create|scan|remove|close|list|show|release-batch`: outbound orders (出库), and
`station web`, the handheld page warehouse staff scan them with."""

from __future__ import annotations

from station.errors import InputError


def register(subs, add) -> None:
    """Add the ship group and the web command."""
    _register_web(subs, add)
    g = add(subs, "ship", help="outbound shipping (出库): orders, scans, close and send")
    s = g.add_subparsers(dest="cmd", required=True)
    p = add(s, "create", help="a new shipment order to one distributor")
    p.add_argument("--order", required=True, help="the order number (PO)")
    p.add_argument("--to", required=True, help="the distributor")
    p.add_argument("--gln", help="the distributor's GLN (13 digits)")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=create)
    p = add(s, "scan", help="add pallets, cases or items (with all they hold) to an open order")
    p.add_argument("order")
    p.add_argument("codes", nargs="*", help="codes as scanned")
    p.add_argument("--range", nargs=2, metavar=("FIRST", "LAST"), help="a code range of a level")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=scan)
    p = add(s, "remove", help="take an entry (and what came with it) off an open order")
    p.add_argument("order")
    p.add_argument("code")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=remove)
    p = add(s, "close", help="seal the order: shipping event, out-bound bill, dispatch note")
    p.add_argument("order")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=close)
    p = add(s, "list", help="the orders and their counts")
    p.add_argument("--state", choices=["open", "closed"])
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=list_)
    p = add(s, "show", help="one order with its entries")
    p.add_argument("order")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=show)
    p = add(s, "release-batch", help="QA: release a completed batch for shipping (e-signature)")
    p.add_argument("batch")
    p.add_argument("--reason", default="")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=release_batch)


def _counts(v) -> str:
    levels = ", ".join(f"{n} {lv}" for lv, n in sorted(v.by_level.items())) or "no codes"
    return f"{v.entries} entr(ies), {v.codes} code(s): {levels}"


def create(app, args) -> int:
    """Create an order."""
    from station.ship import orders

    user = app.require("ship.manage")
    v = orders.create(app.engine, order=args.order, to=args.to, gln=args.gln, user=user)
    app.json(v.to_json()) if args.json else app.out(f"order {v.order} to {v.distributor}: open")
    return 0


def scan(app, args) -> int:
    """Scan codes (each on its own: one refused does not stop the others) or a range."""
    from station.ship import scan as ship_scan
    from station.ship.texts import ShipRefused

    user = app.require("ship.manage")
    if not args.codes and not args.range:
        raise InputError("give codes to scan, or --range FIRST LAST")
    if args.codes and args.range:
        raise InputError("give codes or --range FIRST LAST, not both in one call")
    results: list[dict] = []
    if args.range:
        try:
            a = ship_scan.scan_range(app.engine, app.settings, args.order, *args.range, user=user)
            results.append({"range": list(args.range), **a.to_json()})
        except ShipRefused as exc:
            results.append({"ok": False, "range": list(args.range), **exc.to_json()})
    for code in args.codes:
        try:
            added = ship_scan.scan(app.engine, args.order, code, user=user, settings=app.settings)
            results.append({"code": code, **added.to_json()})
        except ShipRefused as exc:
            if exc.key == "order_closed":
                raise
            results.append({"ok": False, "code": code, **exc.to_json()})
    refused = [r for r in results if not r["ok"]]
    if args.json:
        app.json({"order": args.order, "results": results, "refused": len(refused),
                  "ok": not refused})  # fmt: skip
    else:
        for r in results:
            what = r.get("code") or " … ".join(r["range"])
            if r["ok"]:
                skipped = f" (skipped {r['skipped']})" if r.get("skipped") else ""
                app.out(f"added {what}: {r['level']} with {r['codes']} code(s){skipped}")
            else:
                app.out(f"REFUSED {what}: {r['message']}")
        from station.ship import orders

        app.out(f"order {args.order}: {_counts(orders.view(app.engine, args.order))}")
    return 1 if refused else 0


def remove(app, args) -> int:
    """Remove an entry."""
    from station.ship import orders

    user = app.require("ship.manage")
    r = orders.remove(app.engine, args.order, args.code, user=user)
    app.json(r) if args.json else app.out(f"removed {r['code']} ({r['removed']} code(s))")
    return 0


def close(app, args) -> int:
    """Close the order, queue its file set, make the dispatch note."""
    from station.ship.close import close as close_order

    user = app.require("ship.manage")
    r = close_order(app.engine, app.settings, args.order, user=user)
    if args.json:
        app.json(r)
    else:
        state = "closed" if r["closed"] else "was closed already"
        app.out(f"order {r['order']} {state}: {r['entries']} entr(ies), {r['codes']} code(s)")
        app.out(f"outbox: {r['outbox']['state']} {r['outbox'].get('path') or ''}".rstrip())
        if r["outbox"].get("error"):
            app.out(f"  error: {r['outbox']['error']}; `station ship close {r['order']}` retries")
        app.out(f"dispatch note: {r['note']['pdf']}; ticket {r['note']['ticket']}")
    return 2 if r["outbox"]["state"] == "error" else 0


def list_(app, args) -> int:
    """List orders."""
    from station.ship import orders

    app.require("view")
    rows = orders.list_orders(app.engine, args.state)
    if args.json:
        app.json({"orders": [v.to_json() for v in rows]})
        return 0
    for v in rows:
        app.out(f"{v.order:<20} {v.state:<7} {v.distributor:<20} {_counts(v)}")
    if not rows:
        app.out("no orders")
    return 0


def show(app, args) -> int:
    """Show one order."""
    from station.ship import orders

    app.require("view")
    v = orders.view(app.engine, args.order)
    if args.json:
        app.json(v.to_json())
        return 0
    app.out(f"order {v.order} to {v.distributor} (GLN {v.gln or '-'}): {v.state}, rev {v.revision}")
    app.out(
        f"created {v.created_at:%Y-%m-%d %H:%M} by {v.created_by}"
        + (f"; closed {v.closed_at:%Y-%m-%d %H:%M} by {v.closed_by}" if v.closed_at else "")
    )
    app.out(_counts(v))
    for e in v.items:
        app.out(f"  {e['level']:<7} {e['code']}  batch {e['batch_id']}  {e['codes']} code(s)")
    return 0


def release_batch(app, args) -> int:
    """QA releases a batch for shipping."""
    from station import users
    from station.ship.release import release_batch as release

    app.require("qa.sign")
    signer = users.sign(app)
    r = release(app.engine, args.batch, user=signer, reason=args.reason)
    if args.json:
        app.json(r)
    else:
        held = (
            f"; {r['codes_in_qa_hold']} code(s) still in QA hold" if r["codes_in_qa_hold"] else ""
        )
        app.out(f"batch {r['batch_id']} released by {r['released_by']} at {r['released_at']}{held}")
    return 0


def _register_web(subs, add) -> None:
    p = add(subs, "web", help="serve the handheld page (出库 scanning, code lookup)")
    p.add_argument("--port", type=int, help="TCP port (default [web].port; 0 picks a free one)")
    p.add_argument("--host", help="address to listen on (default [web].host)")
    p.set_defaults(func=web)


def web(app, args) -> int:
    """`station web`: serve the handheld page until Ctrl-C or SIGTERM."""
    from station.ship.settings import web_settings
    from station.web.server import serve_forever

    cfg = web_settings(app.settings)
    host = args.host or cfg.host
    port = cfg.port if args.port is None else args.port
    serve_forever(app.engine, app.settings, host, port, announce=app.out)
    return 0
