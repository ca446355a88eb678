"""`station sim` and `station devices check`."""

from __future__ import annotations

import signal
import threading


def register(subs, add) -> None:
    """Add the device commands."""
    p = add(subs, "sim", help="serve every configured device's simulator on its loopback port")
    p.add_argument(
        "--conveyor",
        type=int,
        default=0,
        help="items per minute the simulated PLC triggers (0: only on demand)",
    )
    p.add_argument("--seconds", type=float, default=0, help="stop after this long (0: until ^C)")
    p.set_defaults(func=sim)
    g = add(subs, "devices", help="configured devices")
    s = g.add_subparsers(dest="cmd", required=True)
    p = add(s, "check", help="connect to every configured device and print its status")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=check)


def sim(app, args) -> int:
    """Start the simulators on the config's ports and stay up."""
    from station.build import start_simulators

    app.require("devices")
    sims = start_simulators(app.settings, fixed_ports=True)
    try:
        for name, dev in sims.all():
            app.out(f"{name:<15} {dev.url}")
        if args.conveyor:
            sims.plc.conveyor(args.conveyor)
        app.out("simulators up; Ctrl-C stops them")
        stop = threading.Event()
        signal.signal(signal.SIGTERM, lambda *_: stop.set())
        try:
            stop.wait(args.seconds or None)
        except KeyboardInterrupt:
            pass
    finally:
        sims.stop()
    return 0


def _probe(name: str, dev) -> tuple[bool, str]:
    from drivers.errors import DriverError

    try:
        dev.connect()
        st = dev.status() if hasattr(dev, "status") else None
        if st is None and hasattr(dev, "heartbeat"):
            dev.poll_triggers()
            return True, "connected, triggers readable"
        if st is None:
            return True, "connected"
        ready = getattr(st, "ready", True)
        faults = ", ".join(getattr(st, "faults", ()) or ())
        return bool(ready), ("ready" if ready else "NOT READY") + (f" ({faults})" if faults else "")
    except DriverError as exc:
        return False, str(exc)
    finally:
        try:
            dev.close()
        except Exception:
            pass


def check(app, args) -> int:
    """One line per device: name, URL, status; exit 1 if any is not ready."""
    from station.build import open_devices

    app.require("devices")
    devs = open_devices(app.settings)
    results = []
    for name, dev in devs.items():
        if name == "decoder":
            continue
        ok, text = _probe(name, dev)
        results.append({"device": name, "url": getattr(dev, "url", ""), "ok": ok, "status": text})
        if not args.json:
            app.out(f"{'OK ' if ok else 'ERR'} {name:<15} {getattr(dev, 'url', ''):<32} {text}")
    if args.json:
        app.json({"ok": all(r["ok"] for r in results), "devices": results})
    return 0 if all(r["ok"] for r in results) else 1
