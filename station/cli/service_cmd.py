"""`station serve` (the line's headless core as a service) and `station alerts test`."""

from __future__ import annotations

from station.errors import ConfigError, InputError


def register(subs, add) -> None:
    """Add the service commands."""
    p = add(
        subs,
        "serve",
        help="run released batches headless, one after another, with the OPC UA face, alerts "
        "and the outbox sender, until SIGTERM (what a service manager starts)",
    )
    p.add_argument("--retry", type=float, default=10.0, metavar="S",
                   help="after a fault, start the held batch again after S seconds")  # fmt: skip
    p.add_argument("--poll", type=float, default=2.0, metavar="S",
                   help="look for a released batch every S seconds while idle")  # fmt: skip
    p.add_argument("--finish-idle", type=float, default=3.0, metavar="S",
                   help="end a batch once the line is quiet S s after its quantity")  # fmt: skip
    p.set_defaults(func=serve)
    g = add(subs, "alerts", help="alerts to phones ([alerts] in config.toml)")
    s = g.add_subparsers(dest="cmd", required=True)
    p = add(s, "test", help="send one test alert to every target and say what each answered")
    p.add_argument("--timeout", type=float, default=30.0, metavar="S")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=alerts_test)


def serve(app, args) -> int:
    """Serve until SIGTERM; one JSON line per batch run on stdout."""
    from station.service.serve import Serve, stop_on_signals

    if min(args.retry, args.poll, args.finish_idle) < 0 or args.poll == 0:
        raise InputError("--retry, --finish-idle take 0 or more seconds, --poll more than 0")
    user = app.require("line.run")
    d = app.settings.devices
    if d.plc is None or d.verify_camera is None:
        raise ConfigError("`station serve` runs the line: it needs [devices.plc] and "
                          "[devices.verify_camera]")  # fmt: skip
    svc = Serve(app.settings, app.engine, user)
    stop_on_signals(svc.stop)
    app.out(f"serving line {app.settings.station.line}; SIGTERM stops it")
    try:
        svc.run(
            idle_poll_s=args.poll, retry_s=args.retry, finish_idle_s=args.finish_idle,
            on_summary=app.json,
        )  # fmt: skip
    except KeyboardInterrupt:  # a second ^C while stopping
        pass
    return 0


def alerts_test(app, args) -> int:
    """One test alert to every target; exit 1 if any did not take it."""
    from station.alerts import send_test

    cfg = app.settings.alerts
    if cfg is None or not cfg.targets:
        raise ConfigError("no [alerts] targets in config.toml; add e.g. "
                          '[alerts] targets = ["wecombot://BOTKEY"]')  # fmt: skip
    if args.timeout <= 0:
        raise InputError("--timeout takes seconds above 0")
    from station.alerts.targets import masked

    got = send_test(cfg, app.settings.station.line, timeout_s=args.timeout)
    rows = [
        {"target": masked(t) if "://" in t else t, "delivered": st.alerts_delivered,
         "error": st.last_error}
        for t, st in zip(cfg.targets, got, strict=True)
    ]  # fmt: skip
    ok = all(r["delivered"] for r in rows)
    if args.json:
        app.json({"ok": ok, "targets": rows})
    else:
        for r in rows:
            app.out(f"{'OK ' if r['delivered'] else 'ERR'} {r['target']} {r['error'] or ''}")
    return 0 if ok else 1
