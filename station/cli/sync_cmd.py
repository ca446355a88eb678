"""`station sync status|push|retry|resend|mark-delivered|reject-batch` and `station receiver`."""

from __future__ import annotations

import argparse
import sys

from station.errors import InputError


def register(subs, add) -> None:
    """Add the sync group and the receiver command."""
    g = add(subs, "sync", help="deliver closed batches upstream (the outbox)")
    s = g.add_subparsers(dest="cmd", required=True)
    p = add(s, "status", help="the outbox: each batch's delivery state, corrections waiting")
    p.add_argument("--pallets", action="store_true", help="each unit: pallets, close, verdicts")
    p.add_argument("--batch", action="append", help="only this batch (repeatable)")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=status)
    p = add(s, "push", help="send queued batches now")
    p.add_argument("batch", nargs="?", help="only this batch (queued first if it is not yet)")
    p.add_argument(
        "--wait", action="store_true", help="until all are acknowledged or parked (exit 1: parked)"
    )
    p.add_argument("--upstream", metavar="URL", help="send here instead of [upstream]")
    p.add_argument("--timeout", type=float, default=600.0, help="seconds --wait waits at most")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=push)
    p = add(s, "retry", help="re-queue a parked batch (or queue a closed batch missing)")
    p.add_argument("batch")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=retry)

    for name, text, func in (
        ("resend", "send a unit again with the next push (e-signature)", resend),
        ("mark-delivered", "a unit reached upstream by other means (e-signature)", delivered),
    ):
        p = add(s, name, help=text)
        p.add_argument("unit", help="its key as `sync status --pallets` shows it (B#P2, B)")
        p.add_argument("--reason", required=True)
        p.add_argument("--json", action="store_true")
        p.set_defaults(func=func)
    p = add(s, "reject-batch", help="QA: reject a closed batch, decommissioned upstream (e-sign)")
    p.add_argument("batch")
    p.add_argument("--reason", required=True)
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=reject_batch)

    p = add(subs, "receiver", help="run the reference upstream receiver (tests, demos)")
    p.add_argument("--port", type=int, default=8780, help="TCP port (0 picks a free one)")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--store", default="receiver-store", help="folder for received batches")
    p.add_argument("--fail-rate", type=float, default=0.0, help="share of requests answered 5xx")
    p.add_argument("--delay", type=float, default=0.0, help="seconds before each answer")
    p.add_argument("--reset-rate", type=float, default=0.0, help="share of connections dropped")
    p.add_argument("--key-file", help="HMAC key file (or Ed25519 public key PEM)")
    p.add_argument("--seed", type=int)
    p.add_argument("--view", action="store_true", help="print what --store holds, replayed; exit")
    p.set_defaults(func=receiver)


def _print_entries(app, rows: list[dict]) -> None:
    for r in rows:
        line = f"{r['batch_id']}  {r['state']:<12} attempts {r['attempts']}"
        if r["state"] in ("pending", "sending"):
            line += f"  next {r['next_attempt_at']}"
        if r["state"] == "acknowledged":
            line += f"  {r['answer']}"
        elif r["last_error"]:
            line += f"  last error: {r['last_error']}"
        app.out(line)
    if not rows:
        app.out("outbox empty")


def status(app, args) -> int:
    """Show the outbox, the corrections waiting and, with --pallets, each unit."""
    from station.upstream import ledger, outbox

    app.require("view")
    rows = outbox.entries(app.engine, args.batch)
    counts = outbox.counts(app.engine)
    where = outbox.describe_upstream(app.settings)
    fixes = ledger.pending(app.engine, args.batch)
    units = ledger.units_status(app.engine, args.batch) if args.pallets else None
    if args.json:
        out = {
            "upstream": where,
            "counts": counts,
            "entries": rows,
            "all_acknowledged": all(r["state"] == "acknowledged" for r in rows),
            "corrections_pending": fixes,
        }
        if units is not None:
            out["units"] = units
        app.json(out)
        return 0
    app.out(f"upstream: {where or 'none configured (batches are sealed and kept locally)'}")
    app.out("  ".join(f"{k} {v}" for k, v in counts.items()) or "no entries")
    if units is None:
        _print_entries(app, rows)
    else:
        _print_units(app, units)
    for batch, n in fixes.items():
        app.out(f"corrections pending: batch {batch}: {n} QA change(s) go with the next push")
    return 0


def _print_units(app, units: list[dict]) -> None:
    batch = None
    for u in units:
        if u["batch"] != batch:
            batch = u["batch"]
            app.out(f"batch {batch}")
        what = f"pallet {u['pallet']}" if u["pallet"] else u["kind"]
        line = f"  {u['unit']:<24} {what:<28} {u['state']:<12} attempts {u['attempts']}"
        if u["waiting_behind"]:
            line += f"  waits for {u['waiting_behind']}"
        if u["state"] == "acknowledged":
            line += f"  {u['answer']}"
        elif u["last_error"]:
            line += f"  upstream said: {u['last_error']}"
        app.out(line)
    if not units:
        app.out("no units yet")


def resend(app, args) -> int:
    """IT sends a unit again (e-signature)."""
    from station import users
    from station.upstream import ledger

    app.require("sync")
    signer = users.sign(app)
    was = ledger.resend(app.engine, args.unit, user=signer, reason=args.reason)
    if args.json:
        app.json({"unit": args.unit, "was": was, "state": "pending", "signed_by": signer})
    else:
        app.out(f"{args.unit}: {was} → pending; it goes with the next push (signed by {signer})")
    return 0


def delivered(app, args) -> int:
    """IT records a unit delivered by other means (e-signature)."""
    from station import users
    from station.upstream import ledger

    app.require("sync")
    signer = users.sign(app)
    was = ledger.mark_delivered(app.engine, args.unit, user=signer, reason=args.reason)
    if args.json:
        app.json({"unit": args.unit, "was": was, "state": "acknowledged", "signed_by": signer})
    else:
        app.out(f"{args.unit}: {was} → delivered by other means (signed by {signer})")
    return 0


def reject_batch(app, args) -> int:
    """QA rejects a closed batch (e-signature); the verdict goes with the next push."""
    from station import users
    from station.upstream import ledger

    app.require("qa.sign")
    signer = users.sign(app)
    r = ledger.reject_batch(app.engine, args.batch, user=signer, reason=args.reason)
    if args.json:
        app.json(r)
    else:
        app.out(f"batch {args.batch} rejected by {signer}: its codes go upstream decommissioned")
    return 0


def push(app, args) -> int:
    """Send now; with --wait until settled. Exit 1: a batch parked, not delivered, or timed out."""
    from station.upstream.sender import push as do_push

    if args.timeout < 0:
        raise InputError(f"--timeout {args.timeout:g}: give seconds, 0 or more")
    user = app.require("sync")
    result = do_push(
        app.engine,
        app.settings,
        user=user,
        batch_ids=[args.batch] if args.batch else None,
        upstream=args.upstream,
        wait=args.wait,
        timeout_s=args.timeout,
    )
    if args.json:
        app.json(result)
    else:
        _print_entries(app, result["entries"])
        if result["timed_out"]:
            app.out(f"timed out after {args.timeout:g} s; still waiting: {result['waiting']}")
    if result["parked"]:
        app.console.print(
            f"parked: {', '.join(result['parked'])}; read the error, fix it, then "
            "`station sync retry BATCH`"
        )
    # Without --wait one attempt was made: a batch it could not deliver is a failed push.
    failed = [
        r for r in result["entries"] if r["state"] == "pending" and r["last_error"]
    ] if not args.wait else []  # fmt: skip
    for r in failed:
        print(
            f"not delivered: {r['batch_id']}: {r['last_error']}; it waits in the outbox: fix "
            "the cause, then `station sync push` again (or --wait)",
            file=sys.stderr,
            flush=True,
        )
    return 1 if result["parked"] or result["timed_out"] or failed else 0


def retry(app, args) -> int:
    """Re-queue a parked batch; a closed batch without an outbox entry is sealed and queued."""
    from station.upstream import outbox

    user = app.require("sync")
    if outbox.find(app.engine, args.batch) is None:
        q = outbox.queue_batch(app.engine, app.settings, args.batch, user=user)
        was, text = None, f"batch {args.batch} sealed and queued ({q.path})"
    else:
        was = outbox.requeue(app.engine, args.batch, user=user)
        text = (
            f"batch {args.batch}: was waiting to retry; due now, it goes with the next push"
            if was == "pending"
            else f"batch {args.batch}: {was} → pending; it goes with the next push"
        )
    if args.json:
        app.json({"batch": args.batch, "was": was, "state": "pending"})
    else:
        app.out(text)
    return 0


def receiver(app, args: argparse.Namespace) -> int:
    """Run sync.receiver.main with these options until Ctrl-C or SIGTERM."""
    from sync.receiver import main

    if not 0 <= args.port <= 65535:
        raise InputError(f"--port {args.port}: give a TCP port from 0 to 65535 (0: any free one)")

    argv = [
        "--port", str(args.port), "--host", args.host, "--store", args.store,
        "--fail-rate", str(args.fail_rate), "--delay", str(args.delay),
        "--reset-rate", str(args.reset_rate),
    ]  # fmt: skip
    if args.key_file:
        argv += ["--key-file", args.key_file]
    if args.seed is not None:
        argv += ["--seed", str(args.seed)]
    if args.view:
        argv.append("--view")
    return main(argv)
