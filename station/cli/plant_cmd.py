"""`station plant status|claim|release`, and the plant side of `station demo` and `check`."""

from __future__ import annotations

import os

from station.config import ENV_DATABASE, resolve_config_path


def register(subs, add) -> None:
    """Add the plant commands."""
    p = add(subs, "plant", help="many lines on one PostgreSQL plant database")
    psub = p.add_subparsers(dest="plant_cmd", metavar="COMMAND", required=True)
    q = add(psub, "status", help="lines, their batches, rates, alarms and outbox")
    q.add_argument("--database", metavar="URL", help="the plant database (default: config's)")
    q.add_argument("--json", action="store_true")
    q.set_defaults(func=status)
    q = add(psub, "claim", help="claim a block of the plant pool for this line now")
    q.add_argument("--level", required=True)
    q.add_argument("--count", type=int, default=None, help="codes to hold at least")
    q.add_argument("--json", action="store_true")
    q.set_defaults(func=claim)
    q = add(psub, "release", help="hand this line's unused codes back to the plant pool")
    q.add_argument("--level")
    q.add_argument("--json", action="store_true")
    q.set_defaults(func=release)


def plant_of(app):
    """The plant file given as --config, or None for a line config."""
    from station.plant_demo import load_plant

    return load_plant(resolve_config_path(app.config_path))


def as_line(app, plant, database: str | None = None):
    """Point `app` at the plant's first line config and the plant database (for reads)."""
    from station.cli.app import App
    from station.plant_demo import with_database

    plant = with_database(plant, database)
    os.environ[ENV_DATABASE] = plant.database
    return App(config=str(plant.lines[0]), user=app.user_name), plant


def status(app, args) -> int:
    """Print the plant snapshot."""
    from station.errors import InputError
    from station.plant_status import plant_status, render

    plant = plant_of(app)
    if plant is not None:
        app, _ = as_line(app, plant, args.database)
    elif args.database:
        os.environ[ENV_DATABASE] = args.database
    app.require("view")
    if app.engine.dialect.name != "postgresql":
        raise InputError(
            "station.database is not a PostgreSQL plant database; a plant shares one "
            "postgresql:// URL (see plant-config.toml)"
        )
    snap = plant_status(app.engine)
    if args.json:
        app.json(snap)
    else:
        app.out(render(snap))
    return 0


def claim(app, args) -> int:
    """Top up this line's block of `level`."""
    from station import plant

    user = app.require("codes.manage")
    want = args.count or plant.BLOCK
    held = plant.top_up(app.engine, app.settings.station.id, args.level, want, user=user)
    result = {"line": app.settings.station.id, "level": args.level, "held": held}
    app.json(result) if args.json else app.out(f"{result['line']} holds {held} {args.level} codes")
    return 0 if held >= want else 1


def release(app, args) -> int:
    """Return this line's available held codes to the plant pool."""
    from station import plant

    user = app.require("codes.manage")
    n = plant.release(app.engine, app.settings.station.id, args.level, user=user)
    result = {"line": app.settings.station.id, "released": n}
    app.json(result) if args.json else app.out(f"released {n} codes to the plant pool")
    return 0


def demo(app, args, plant) -> int:
    """`station demo --config plant-config.toml`: every line at once on the plant database."""
    import json

    from station.plant_demo import prepare, run_lines, with_database

    plant = with_database(plant, args.database)
    line_app, plant = as_line(app, plant)
    user = line_app.require("line.run")
    prepare(plant, args.items, args.batches, user)
    demo_args = [
        *("--items", str(args.items), "--batches", str(args.batches)),
        *("--rate", str(args.rate), "--defects", str(args.defects), "--seed", str(args.seed)),
    ]
    if args.product:
        demo_args += ["--product", args.product]
    if args.upstream:
        demo_args += ["--upstream", args.upstream]
    summary = run_lines(plant, demo_args)
    if args.json:
        app.json(summary)
    else:
        app.out(json.dumps(summary, ensure_ascii=False, indent=2))
    ok = summary["ok"] and all(
        (ln["summary"] or {}).get("world_mismatches", 1) == 0 for ln in summary["lines"]
    )
    return 0 if ok else 1


def check(app, args, plant) -> int:
    """`station check --config plant-config.toml`: every batch of every line."""
    from station.check import check_batches

    line_app, _ = as_line(app, plant, getattr(args, "database", None))
    line_app.require("view")
    result = check_batches(line_app.engine, args.batch)
    if args.json:
        app.json(result)
    else:
        for b in result["batches"]:
            app.out(f"{b['batch']}: {'OK' if b['ok'] else 'FAILED'}")
            for p in b["problems"][:50]:
                app.out(f"  - {p}")
    return 0 if result["ok"] else 1
