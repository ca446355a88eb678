"""`station config check`, `station sim` and `station devices check|test`: is the line set up."""

from __future__ import annotations

import signal
import threading
from pathlib import Path

from station.errors import InputError


def register(subs, add) -> None:
    """Add the config and device commands."""
    _register_config(subs, add)
    p = add(subs, "sim", help="serve every configured device's simulator on its loopback port")
    p.add_argument(
        "--conveyor",
        type=int,
        default=0,
        help="items per minute the simulated PLC triggers (0: only on demand)",
    )
    p.add_argument("--seconds", type=float, default=0, help="stop after this long (0: until ^C)")
    p.add_argument(
        "--world",
        type=int,
        default=0,
        metavar="ITEMS",
        help="also run the simulated world: ITEMS items along the conveyor once the station "
        "shows green, marked by the inkjet, seen by the cameras, packed and palletized",
    )
    p.add_argument("--rate", type=int, default=1200, help="world: items per minute")
    p.add_argument("--defects", type=float, default=0.03, help="world: share of defective items")
    p.add_argument("--seed", type=int, default=1, help="world: random seed")
    p.add_argument("--caps", metavar="FILE", help="world: inner cap codes, one per line")
    p.add_argument(
        "--journal", metavar="FILE", help="world: where it writes what physically happened"
    )
    p.set_defaults(func=sim)
    g = add(subs, "devices", help="configured devices")
    s = g.add_subparsers(dest="cmd", required=True)
    p = add(s, "check", help="connect to every configured device and print its status")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=check)
    p = add(
        s,
        "test",
        help="test one device through its driver: a test label or ticket, a camera frame, "
        "the stack light colours",
    )
    p.add_argument("device", help="plc, inkjet, case_labeler, pallet_labeler, ticket, "
                   "verify_camera, case_camera, reader or scanner")  # fmt: skip
    p.add_argument("--save-frame", metavar="PNG", help="cameras: write the grabbed frame here")
    p.add_argument("--timeout", type=float, default=5.0, help="seconds to wait for the device")
    p.add_argument("--force", action="store_true", help="even if a batch is marked running")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=test)


def sim(app, args) -> int:
    """Start the simulators on the config's ports and stay up."""
    from station.build import start_simulators

    if args.seconds < 0 or args.conveyor < 0 or args.world < 0:
        raise InputError("--seconds, --conveyor and --world take 0 or more")
    if args.world and not (args.rate > 0 and 0 <= args.defects <= 1):
        raise InputError("--rate must be at least 1 item/min and --defects between 0 and 1")
    app.require("devices")
    caps = _caps(args.caps) if args.world and args.caps else []
    _ports_free(app.settings)
    from station.line.runner import raise_priority

    # The simulators stand for hardware beside the PC: a busy PC must not slow them either.
    raise_priority(app.settings.line.nice)
    sims = start_simulators(app.settings, fixed_ports=True)
    world = None
    try:
        for name, dev in sims.all():
            app.out(f"{name:<15} {dev.url}")
        if args.conveyor:
            sims.plc.conveyor(args.conveyor)
        world = _world(app, args, sims, caps) if args.world else None
        app.out("simulators up; Ctrl-C stops them")
        stop = threading.Event()
        signal.signal(signal.SIGTERM, lambda *_: stop.set())
        try:
            stop.wait(args.seconds or None)
        except KeyboardInterrupt:
            pass
    finally:
        if world is not None:
            world.close()
        sims.stop()
    if world is not None and world.error is not None:
        app.console.print(f"[red]the simulated world failed: {world.error!r}[/]")
        return 1
    return 0


def _caps(path: str) -> list[str]:
    """Inner cap codes from --caps (one per line, or inner,outer pairs); InputError names it."""
    from station.codes.files import decode_bytes

    try:
        raw = Path(path).read_bytes()
    except OSError as exc:
        raise InputError(f"--caps {path}: cannot read: {exc.strerror or exc}") from None
    text, _ = decode_bytes(raw, None, path)
    return [ln.split(",")[0].strip() for ln in text.splitlines() if ln.strip()]


def _ports_free(settings) -> None:
    """InputError naming the device and port when a simulator's fixed port is taken."""
    import socket
    from urllib.parse import urlsplit

    for name, dev in settings.devices:
        url = getattr(dev, "url", None) or getattr(dev, "source", None)
        parts = urlsplit(url or "")
        try:
            host, port = parts.hostname, parts.port
        except ValueError:
            continue  # not host:port; start_simulators reports it
        if not host or not port or host not in ("127.0.0.1", "localhost", "0.0.0.0", "::1"):
            continue
        with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET) as sk:
            sk.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                sk.bind((host, port))
            except OSError as exc:
                raise InputError(
                    f"{name} at {url}: cannot serve its simulator: {exc.strerror or exc}; "
                    "another `station sim` (or a device program) holds the port: stop it, "
                    "or change the port in config.toml"
                ) from None


def _world(app, args, sims, caps: list[str]):
    """The simulated world in this process, heard by the station only through its devices."""
    from drivers.camera.decode import make_decoder
    from station.sim.demo import preprinted_codes
    from station.sim.world import World

    s = app.settings
    if "inner" in s.level_names and not caps:
        app.console.print("[yellow]sim --world: no --caps file; items get no inner cap code[/]")
    journal = Path(args.journal) if args.journal else s.data_dir / "world-sim.jsonl"
    world = World(
        s,
        sims,
        items=args.world,
        rate_per_min=args.rate,
        defects=args.defects,
        seed=args.seed,
        journal=journal,
        caps=caps,
        decoder=make_decoder(),
        remote=True,
        preprinted=preprinted_codes(app.engine, s, args.world),
    )
    threading.Thread(target=world.run, name="world", daemon=True).start()
    app.out(f"world          {args.world} items at {args.rate}/min, journal {journal}")
    return world


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
    except Exception as exc:  # a driver gap must not hide the other devices' status
        return False, f"{name} at {getattr(dev, 'url', '?')}: {type(exc).__name__}: {exc}"
    finally:
        try:
            dev.close()
        except Exception:
            pass


def check(app, args) -> int:
    """One line per device: name, URL, status; exit 1 if any is not ready."""
    from station.build import open_devices, open_frame_source

    app.require("devices")
    devs = open_devices(app.settings)
    for name in dict.fromkeys(("verify_camera", "case_camera", *app.settings.shape.cameras)):
        cam = getattr(app.settings.devices, name)
        if cam is not None and cam.source != "sim":  # 'sim': the demo's in-process world
            devs[name] = open_frame_source(name, cam.source)
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


def test(app, args) -> int:
    """Run one device's test; exit 1 if it failed."""
    from station.line.device_test import test_device

    app.require("devices")
    if args.timeout <= 0:
        raise InputError("--timeout takes a number of seconds above 0")
    got = test_device(
        app.settings, args.device, engine=app.engine, force=args.force, timeout_s=args.timeout
    )
    if args.save_frame and got.frame is not None:
        import cv2

        if not cv2.imwrite(args.save_frame, got.frame):
            raise InputError(f"--save-frame {args.save_frame}: not written (use a .png name)")
    if args.json:
        app.json(got.as_dict())
    else:
        app.out(f"{'OK ' if got.ok else 'ERR'} {got.device:<15} {got.url:<32} {got.text}")
        for code in got.codes:
            app.out(f"    {code}")
    return 0 if got.ok else 1


def _register_config(subs, add) -> None:
    g = add(subs, "config", help="check the configuration")
    s = g.add_subparsers(dest="cmd", required=True)
    c = add(s, "check", help="validate config.toml; exit 2 naming the bad key")
    c.add_argument("--json", action="store_true")
    c.set_defaults(func=check_config)


def check_config(app, args) -> int:
    """Validate the config and print a summary."""
    s = app.settings
    summary = {
        "ok": True,
        "station": s.station.id,
        "levels": list(s.level_names),
        "products": [p.sku for p in s.products],
        "devices": [k for k, v in s.devices if v is not None],
        "database": s.database_url,
    }
    if args.json:
        app.json(summary)
    else:
        app.out(
            f"config OK: station {s.station.id}, levels {', '.join(s.level_names)}, "
            f"{len(s.products)} product(s), devices {', '.join(summary['devices']) or 'none'}"
        )
    return 0
