"""`station demo`, `station run`, `station check`, `station decode`, `station collect`, and
`station pallet` (close now, hold, resume, clear, merge, list: station/qa/pallet_line.py)."""

from __future__ import annotations

import json
import sys

TAKE_LOCK_HELP = (
    "take over the station's run lock held by a process that is gone on another host "
    "(one on this host is recognised by itself)"
)


def _locked(app, args):
    """The station's run lock for this process (LineBusy, exit 2, when another one runs)."""
    from station.line.runlock import RunLock

    lock = RunLock(app.engine, app.settings.station.id, take=args.take_lock)
    lock.acquire()
    if lock.note:
        app.console.print(f"[yellow]{lock.note}[/]")
    return lock


def register(subs, add) -> None:
    """Add the line commands."""
    p = add(subs, "demo", help="run a whole simulated line headless and summarise it")
    p.add_argument("--items", type=int, default=1000)
    p.add_argument("--batches", type=int, default=1)
    p.add_argument("--rate", type=int, default=3000, help="items per minute")
    p.add_argument("--defects", type=float, default=0.03, help="share of defective items")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--product", default=None)
    p.add_argument("--resume", action="store_true", help="continue an interrupted demo")
    p.add_argument("--ui", action="store_true", help="open the touchscreen UI on the demo")
    p.add_argument(
        "--quit-after",
        type=float,
        metavar="S",
        help="with --ui: close the window after S seconds (a smoke test of a line PC's screen)",
    )
    p.add_argument(
        "--upstream", metavar="URL", help="deliver closed batches here while the line runs"
    )
    p.add_argument(
        "--database", metavar="URL", help="store URL (overrides config; a plant's PostgreSQL)"
    )
    p.add_argument("--take-lock", action="store_true", help=TAKE_LOCK_HELP)
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=demo)
    p = add(subs, "run", help="run a batch on the configured devices (real, or `station sim`)")
    p.add_argument("--batch", help="batch id (default: the only released or running batch)")
    p.add_argument("--headless", action="store_true", help="no UI, even with a display")
    p.add_argument(
        "--finish-idle",
        type=float,
        default=3.0,
        metavar="S",
        help="after the planned quantity, end the batch once the line is quiet this long",
    )
    p.add_argument("--take-lock", action="store_true", help=TAKE_LOCK_HELP)
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=run)
    p = add(subs, "check", help="reconcile a batch: counts, links, duplicates")
    p.add_argument("--batch")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=check)
    p = add(subs, "decode", help="decode QR / Data Matrix codes in images")
    p.add_argument("images", nargs="+")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=decode)
    p = add(
        subs, "collect", help="manual collection (手工采集): scanned codes on stdin, one a line"
    )
    p.add_argument("--level", required=True, help="the container level collected (box, case)")
    p.add_argument("--partial", action="store_true", help="a container may close short (零箱)")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=collect)
    _register_pallet(subs, add)


PALLET_HELP = {
    "close": "强制满垛: close the open pallet now (partial if short) and print its label",
    "hold": "暂存: park the open pallet (shift end); the line starts a new one",
    "resume": "提取未成垛: reopen a held pallet by scanning any case on it (or its label)",
    "clear": "清空垛: take every case off the open pallet, retire its code (e-signature)",
    "merge": "合垛: move pallet B's cases onto A within A's capacity, retire B (e-signature)",
}


def _register_pallet(subs, add) -> None:
    g = add(subs, "pallet", help="pallet operations: close now, hold, resume, clear, merge")
    s = g.add_subparsers(dest="cmd", required=True)
    p = add(s, "list", help="open and held pallets (of running and released batches)")
    p.add_argument("--batch")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=pallet_list)
    for op, text in PALLET_HELP.items():
        p = add(s, op, help=text)
        if op == "merge":
            p.add_argument("a", help="the pallet that takes the cases (or a case on it)")
            p.add_argument("b", help="the pallet that is emptied and retired (or a case on it)")
        elif op == "resume":
            p.add_argument("code", help="any case on the held pallet, or the pallet's code")
        else:
            p.add_argument("code", nargs="?", help="a pallet or a case on it (default: open one)")
            p.add_argument("--batch", help="whose open pallet, when several batches have one")
        p.add_argument("--reason")
        p.add_argument("--json", action="store_true")
        p.set_defaults(func=pallet_op, op=op)


def pallet_list(app, args) -> int:
    """Open and held pallets."""
    from station.qa import pallets
    from station.store.db import read_engine

    app.require("view")
    with read_engine(app.engine).connect() as conn:
        rows = pallets.listing(conn, app.settings, batch_id=args.batch)
    if args.json:
        app.json({"pallets": [r.to_json() for r in rows]})
    for r in rows if not args.json else ():
        app.out(f"{r.code}  {r.status:<6} {r.cases}/{r.capacity} cases  batch {r.batch_id}")
    if not rows and not args.json:
        app.out("no open or held pallet")
    return 0


def pallet_op(app, args) -> int:
    """One pallet operation: by the running line's runner, or on the store when none runs."""
    from station import users
    from station.qa import pallets
    from station.qa.pallet_line import perform

    if args.op in pallets.SIGNED:
        app.require("pallet.rework")
        user = users.sign(app)  # the e-signature: the PIN again
    else:
        user = app.require("line.run")
    keys = ("code", "a", "b", "batch", "reason")
    op_args = {k: getattr(args, k) for k in keys if getattr(args, k, None)}
    r = perform(app.engine, app.settings, args.op, op_args, user=user)
    if args.json:
        app.json(r)
        return 0
    what = {
        "close": lambda: f"pallet {r['pallet']} closed {r['status']} with {r['cases']} cases",
        "hold": lambda: f"pallet {r['pallet']} held with {r['cases']} cases",
        "resume": lambda: (
            f"pallet {r['pallet']} open again with {r['cases']} cases"
            + (f"; pallet {r['held']} held in its place" if r.get("held") else "")
        ),
        "clear": lambda: f"pallet {r['pallet']} cleared: {len(r['cases'])} cases off, code retired",
        "merge": lambda: (
            f"{len(r['moved'])} cases of pallet {r['from']} moved onto {r['into']} "
            f"({r['cases']} now, {r['status']}); {r['from']} retired"
        ),
    }[args.op]()
    app.out(f"{what} ({'by the running line' if r['via'] == 'line' else 'on the store'})")
    if r.get("label_note") and not r.get("printed"):
        app.console.print(f"[yellow]{r['label_note']}[/]")
    return 0


def demo(app, args) -> int:
    """Run the simulated line (every line of a plant file at once)."""
    import os

    from station.cli import plant_cmd
    from station.config import ENV_DATABASE
    from station.sim.demo import DemoPlan

    _check_demo_options(args)
    plant = plant_cmd.plant_of(app)
    if plant is not None:
        return plant_cmd.demo(app, args, plant)
    if args.database:
        os.environ[ENV_DATABASE] = args.database
    user = app.require("line.run")
    s = app.settings
    if args.product:
        s.product(args.product)  # ConfigError naming the known products
    plan = DemoPlan(
        items=args.items,
        batches=args.batches,
        rate=args.rate,
        defects=args.defects,
        seed=args.seed,
        product=args.product or s.products[0].sku,
    )
    lock = _locked(app, args)
    try:
        return _demo(app, args, plan, user)
    finally:
        lock.release()


def _demo(app, args, plan, user) -> int:
    from station.sim.demo import run_demo

    s = app.settings
    if args.ui:
        from ui.display import has_display

        if has_display():  # a screen, or QT_QPA_PLATFORM forces one (offscreen, vnc…)
            from ui.app import run_demo as run_ui

            return run_ui(
                app.engine,
                s,
                user=user,
                items=plan.items,
                rate=plan.rate,
                defects=plan.defects,
                product=plan.product,
                quit_after_s=args.quit_after,
            )
        app.console.print("[yellow]demo --ui: no display (DISPLAY unset); running headless[/]")
    last = [0.0]

    def progress(done: int, total: int) -> None:
        import time

        if time.monotonic() - last[0] > 5:
            last[0] = time.monotonic()
            app.console.print(f"demo: {done}/{total} items")

    from station.events import LineSignals
    from station.service.links import open_links

    signals = LineSignals()
    with open_links(s, app.engine) as links:  # [opcua] and [alerts], when configured
        links.attach(signals)
        summary = run_demo(
            app.engine,
            s,
            plan,
            user=user,
            resume=args.resume,
            on_progress=progress,
            upstream=args.upstream,
            signals=signals,
        )
    if not summary.get("batches"):  # a demo that ran nothing failed, with the reason
        reason = (
            "no interrupted demo batch to resume"
            if args.resume
            else f"this store holds the {plan.batches} planned demo batch(es) already; use a "
            "fresh data folder (a copy of config.toml elsewhere) or a larger --batches"
        )
        summary["error"] = f"demo: nothing ran: {reason}"
        app.console.print(f"[red]{summary['error']}[/]")
    if args.json:
        app.json(summary)
    else:
        app.out(json.dumps(summary, ensure_ascii=False, indent=2))
    if not summary.get("batches"):
        return 1
    ok = summary.get("world_mismatches", 1) == 0 and summary.get("duplicates", 1) == 0
    return 0 if ok else 1


def _check_demo_options(args) -> None:
    """InputError naming the option: the demo's numbers must make a line that can run."""
    from station.errors import InputError

    if args.items < 1 or args.batches < 1 or args.rate < 1:
        raise InputError("--items, --batches and --rate (items per minute) must be at least 1")
    if not 0 <= args.defects <= 1:
        raise InputError(f"--defects {args.defects:g}: give a share between 0 and 1 (0.03 = 3%)")


def run(app, args) -> int:
    """A production run: the batch on the configured devices until done (or a fault)."""
    from station.line.run import pick_batch

    if args.finish_idle < 0:
        from station.errors import InputError

        raise InputError(f"--finish-idle {args.finish_idle:g}: give seconds, 0 or more")
    user = app.require("line.run")
    batch_id = pick_batch(app.engine, args.batch)
    lock = _locked(app, args)
    try:
        return _run(app, args, user, batch_id)
    finally:
        lock.release()


def _run(app, args, user: str, batch_id: str) -> int:
    import signal
    import threading
    import time

    from station.line.run import run_production

    if not args.headless:
        from ui.display import has_display

        if has_display():
            from station.line.controller import LineController
            from ui.app import run as run_ui

            ctl = LineController(app.settings, app.engine, user, simulate=False)
            links = ctl.open_links()  # [opcua] and [alerts], when configured
            try:
                return run_ui(ctl)
            finally:
                links.close()
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        try:
            signal.signal(sig, lambda *_: stop.set())
        except ValueError:  # not the main thread (in-process tests): ^C is theirs
            pass
    last = [0.0]

    def progress(st: dict) -> None:
        if time.monotonic() - last[0] > 5:
            last[0] = time.monotonic()
            app.console.print(
                f"run {batch_id}: {st['state']}, {st['triggered']} items, {st['verified']} "
                f"verified, {st['rejected']} rejected, {st['cases']} cases, {st['pallets']} pallets"
            )

    from station.events import LineSignals
    from station.service.links import open_links

    signals = LineSignals()

    def stop_job(job_batch: str) -> str | None:  # an MES's Stop of the batch on the line
        if job_batch != batch_id:
            return None
        stop.set()
        return f"stopping batch {batch_id}: it is held and can be started again"

    with open_links(app.settings, app.engine, on_stop=stop_job) as links:
        links.attach(signals)
        summary = run_production(
            app.engine,
            app.settings,
            batch_id,
            user=user,
            signals=signals,
            on_progress=progress,
            finish_idle_s=args.finish_idle,
            stop=stop,
        )
    if args.json:
        app.json(summary)
    else:
        app.out(json.dumps(summary, ensure_ascii=False, indent=2))
    if "fault" in summary:
        app.console.print(f"[red]the line stopped: {summary['fault']}[/]")
        return 1
    return 0


def check(app, args) -> int:
    """Integrity check of one batch or all (of every line, given a plant file)."""
    from station.batch.check import check_batches
    from station.cli import plant_cmd

    plant = plant_cmd.plant_of(app)
    if plant is not None:
        return plant_cmd.check(app, args, plant)
    app.require("view")
    result = check_batches(app.engine, args.batch)
    if args.json:
        app.json(result)
    else:
        for b in result["batches"]:
            app.out(f"{b['batch']}: {'OK' if b['ok'] else 'FAILED'}")
            for p in b["problems"][:50]:
                app.out(f"  - {p}")
            for w in b.get("warnings", [])[:50]:
                app.out(f"  ! {w}")
    return 0 if result["ok"] else 1


def decode(app, args) -> int:
    """Decode images; one JSON object per image (``{"image", "error"}`` for one it cannot read).

    A missing or unreadable file does not stop the others; the exit code is 1 if any failed.
    """
    from drivers.camera.decode import make_decoder
    from drivers.camera.decode_files import decode_file, error_object
    from drivers.errors import DriverError

    decoder = make_decoder()  # local: no zxing-cpp object outlives the command
    failed = 0
    for path in args.images:
        try:
            obj = decode_file(path, decoder)
        except DriverError as exc:
            failed += 1
            obj = error_object(path, exc)
            print(f"error: {exc}", file=sys.stderr, flush=True)
        app.out(json.dumps(obj, ensure_ascii=False))
    return 1 if failed else 0


def _stdin_chunks():
    """Standard input as it arrives (a handheld ends a scan with CR or LF, not both)."""
    raw = sys.stdin.buffer
    read = getattr(raw, "read1", raw.read)
    while chunk := read(4096):
        yield chunk


def collect(app, args) -> int:
    """Link children to their containers from scanned codes; exit 1 if any container refused."""
    from station.line.collect import Collector, scans

    user = app.require("line.run")
    col = Collector(app.engine, app.settings, args.level, user=user, partial=args.partial)
    if not args.json and sys.stdin.isatty():
        app.out(f"scan {col.capacity} {col.child_level} codes, then the {col.level} code")
    results = []

    def show(out) -> None:
        results.append(out)
        if args.json:
            return
        if out.ok:
            app.out(f"{out.level} {out.parent}: {len(out.children)} linked ({out.status})")
        else:
            print(f"refused: {out.reason}; nothing of it linked", file=sys.stderr, flush=True)

    for code in scans(_stdin_chunks()):
        out = col.scan(code)
        if out is not None:
            show(out)
    end = col.finish()
    if end is not None:
        show(end)
    refused = [r for r in results if not r.ok]
    if args.json:
        app.json(
            {
                "level": col.level,
                "containers": [r.to_json() for r in results],
                "linked": sum(1 for r in results if r.ok),
                "refused": len(refused),
            }
        )
    return 1 if refused else 0
