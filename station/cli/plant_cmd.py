"""`station plant status|claim|release|report|check`, the plant side of `demo` and `check`.

Plant link (a line on its own SQLite with [station] plant_database): `claim` copies the claimed
block into the local store, `report` pushes the line's local work to the plant, `check` checks
the line's batches on the plant database, `status` shows the plant and what the line has not
reported yet (station/plantlink.py).
"""

from __future__ import annotations

import json
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
    q = add(psub, "report", help="plant link: push what this line did locally to the plant")
    q.add_argument("--max-rounds", type=int, default=None, help="stop after N transactions")
    q.add_argument("--json", action="store_true")
    q.set_defaults(func=report)
    q = add(psub, "check", help="plant link: check this line's batches on the plant database")
    q.add_argument("--batch")
    q.add_argument("--json", action="store_true")
    q.set_defaults(func=check_line)


def plant_of(app):
    """The plant file given as --config, or None for a line config."""
    from station.sim.plant_demo import load_plant

    return load_plant(resolve_config_path(app.config_path))


def as_line(app, plant, database: str | None = None):
    """Point `app` at the plant's first line config and the plant database (for reads)."""
    from station.cli.app import App
    from station.sim.plant_demo import with_database

    plant = with_database(plant, database)
    os.environ[ENV_DATABASE] = plant.database
    return App(config=str(plant.lines[0]), user=app.user_name), plant


def status(app, args) -> int:
    """Print the plant snapshot."""
    from station.errors import InputError
    from station.plant.status import plant_status, render

    plant = plant_of(app)
    if plant is not None:
        app, _ = as_line(app, plant, args.database)
    elif args.database:
        os.environ[ENV_DATABASE] = args.database
    app.require("view")
    if args.database is None and _linked(app):
        return _link_status(app, args)
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


def _linked(app) -> bool:
    from station.plant.link import plant_url

    return plant_url(app.settings) is not None


def _link_status(app, args) -> int:
    """The plant snapshot seen from a plant-link line, with what it holds and has not reported."""
    from station.plant.link import local_available, plant_engine
    from station.plant.link_report import pending
    from station.plant.status import plant_status, render

    snap = plant_status(plant_engine(app.settings))
    snap["link"] = {
        "station_id": app.settings.station.id,
        "local_available": local_available(app.engine),
        "unreported": pending(app.engine, app.settings),
    }
    if args.json:
        app.json(snap)
    else:
        app.out(render(snap))
        link = snap["link"]
        app.out(
            f"this line ({link['station_id']}, plant link): local codes "
            f"{json.dumps(link['local_available'])}; not yet reported "
            f"{json.dumps(link['unreported'])}"
        )
    return 0


def claim(app, args) -> int:
    """Top up this line's block of `level` (plant link: claimed in the plant, copied here)."""
    from station.plant import blocks as plant

    if args.count is not None and args.count < 1:
        from station.errors import InputError

        raise InputError(f"--count {args.count}: give the number of codes to hold (1 or more)")
    user = app.require("codes.manage")
    app.settings.level(args.level)
    want = args.count or plant.BLOCK
    if _linked(app):
        from station.plant.link import claim_to

        held = claim_to(app.engine, app.settings, args.level, want, user=user)
    else:
        held = plant.top_up(app.engine, app.settings.station.id, args.level, want, user=user)
    result = {"line": app.settings.station.id, "level": args.level, "held": held}
    app.json(result) if args.json else app.out(f"{result['line']} holds {held} {args.level} codes")
    return 0 if held >= want else 1


def release(app, args) -> int:
    """Return this line's available held codes to the plant pool."""
    from station.plant import blocks as plant

    user = app.require("codes.manage")
    if args.level:
        app.settings.level(args.level)
    if _linked(app):
        from station.errors import InputError

        raise InputError(
            "plant link: this line's held codes are copied into its local store and may be "
            "printed there; releasing them in the plant would let another line print them too. "
            "Run the line's codes down, `station plant report`, then release"
        )
    n = plant.release(app.engine, app.settings.station.id, args.level, user=user)
    result = {"line": app.settings.station.id, "released": n}
    app.json(result) if args.json else app.out(f"released {n} codes to the plant pool")
    return 0


def report(app, args) -> int:
    """Push this plant-link line's local work to the plant until nothing is left (or N rounds)."""
    from station.errors import InputError
    from station.plant.link_report import report as push

    app.require("view")
    if not _linked(app):
        raise InputError(
            "station plant report needs a plant-link line config: [station] database = a local "
            "sqlite:/// store and plant_database = the plant's postgresql:// URL"
        )
    result = push(app.engine, app.settings, max_rounds=args.max_rounds)
    if args.json:
        app.json(result)
    else:
        app.out(
            f"reported to the plant: {result['codes']} code(s), {result['links']} link(s), "
            f"{result['rejects']} reject(s), {result['batches']} batch(es), "
            f"{result['audit']} audit entries" + ("" if result["done"] else "; more to report")
        )
        if result["not_in_plant"]:
            app.out(f"{result['not_in_plant']} local code(s) are not this line's in the plant")
    return 0


def check_line(app, args) -> int:
    """`station plant check`: this plant-link line's batches, checked on the plant database."""
    from sqlalchemy import select

    from station.batch.check import check_batches
    from station.errors import InputError
    from station.plant.link import plant_engine
    from station.store.models import Batch

    app.require("view")
    if not _linked(app):
        raise InputError("station plant check needs a plant-link line config (plant_database)")
    peng = plant_engine(app.settings)
    if args.batch:
        ids = [args.batch]
    else:
        t = Batch.__table__
        with peng.connect() as conn:
            ids = list(
                conn.execute(
                    select(t.c.id)
                    .where(t.c.station_id == app.settings.station.id)
                    .order_by(t.c.created_at)
                ).scalars()
            )
    found = [check_batches(peng, b)["batches"][0] for b in ids]
    result = {"ok": all(b["ok"] for b in found), "batches": found}
    if args.json:
        app.json(result)
    else:
        for b in found:
            app.out(f"{b['batch']}: {'OK' if b['ok'] else 'FAILED'} (plant)")
            for p in b["problems"][:50]:
                app.out(f"  - {p}")
    return 0 if result["ok"] else 1


def demo(app, args, plant) -> int:
    """`station demo --config plant-config.toml`: every line at once on the plant database."""
    from station.sim.plant_demo import prepare, run_lines, with_database

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
    from station.batch.check import check_batches

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
