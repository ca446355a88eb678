"""`station batch create|list|show|close`."""

from __future__ import annotations

import sys

from station.store import batches
from station.store.batches import BatchState


def register(subs, add) -> None:
    """Add the batch group."""
    g = add(subs, "batch", help="work orders")
    s = g.add_subparsers(dest="cmd", required=True)
    p = add(s, "create", help="create a batch (work order)")
    p.add_argument("--product", required=True)
    p.add_argument("--lot", required=True)
    p.add_argument("--quantity", type=int, required=True)
    p.add_argument("--produced")
    p.add_argument("--expires")
    p.add_argument("--id", dest="batch_id")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=create)
    p = add(s, "list", help="list batches")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=list_)
    p = add(s, "show", help="one batch with its code counts")
    p.add_argument("batch")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=show)
    p = add(s, "close", help="complete a batch: partial containers closed, unused codes released")
    p.add_argument("batch")
    p.add_argument("--abort", action="store_true", help="abort instead of complete")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=close)


def create(app, args) -> int:
    """Create a batch."""
    user = app.require("batch.manage")
    b = batches.create(
        app.engine,
        app.settings,
        product=args.product,
        lot=args.lot,
        quantity=args.quantity,
        produced=batches.parse_date(args.produced, "--produced"),
        expires=batches.parse_date(args.expires, "--expires"),
        batch_id=args.batch_id,
        user=user,
    )
    if args.json:
        app.json(b.to_json())
    else:
        app.out(f"batch {b.id}: {b.product_sku} lot {b.lot}, {b.quantity} planned, {b.state}")
    return 0


def list_(app, args) -> int:
    """List batches."""
    app.require("view")
    rows = batches.list_all(app.engine)
    if args.json:
        app.json({"batches": [b.to_json() for b in rows]})
        return 0
    for b in rows:
        app.out(f"{b.id}  {b.state:<9} {b.product_sku:<12} lot {b.lot:<12} {b.quantity}")
    if not rows:
        app.out("no batches")
    return 0


def show(app, args) -> int:
    """Show a batch."""
    app.require("view")
    with app.engine.connect() as conn:
        b = batches.get(conn, args.batch)
        counts = batches.counts(conn, args.batch)
    if args.json:
        app.json({**b.to_json(), "codes": counts})
        return 0
    app.out(
        f"batch {b.id} ({b.state})\n  product {b.product_sku} {b.product_name}\n"
        f"  lot {b.lot}  planned {b.quantity}  produced {b.produced}  expires {b.expires}"
    )
    for level, states in counts.items():
        app.out(f"  {level}: " + ", ".join(f"{k} {v}" for k, v in sorted(states.items())))
    return 0


def close(app, args) -> int:
    """Close a batch."""
    from station.batch import closing

    user = app.require("batch.run")
    summary = closing.close_batch(
        app.engine,
        app.settings,
        args.batch,
        user=user,
        state=BatchState.ABORTED if args.abort else BatchState.COMPLETED,
    )
    if args.json:
        app.json(summary)
    else:
        app.out(
            f"batch {args.batch} {summary['state']}: {summary['partial_containers']} partial "
            f"container(s) closed, {summary['released']} unused code(s) released, "
            f"{summary['voided']} voided"
        )
    sealed = summary.get("outbox") or {}
    if sealed.get("state") == "error":  # closed, but its file set is not sealed: say so
        print(
            f"error: batch {args.batch} is closed, but its file set could not be sealed: "
            f"{sealed.get('error')}; fix that, then `station sync retry {args.batch}`",
            file=sys.stderr,
            flush=True,
        )
        return 1
    return 0
