"""`station config check`."""

from __future__ import annotations


def register(subs, add) -> None:
    """Add the config group."""
    g = add(subs, "config", help="check the configuration")
    s = g.add_subparsers(dest="cmd", required=True)
    c = add(s, "check", help="validate config.toml; exit 2 naming the bad key")
    c.add_argument("--json", action="store_true")
    c.set_defaults(func=check)


def check(app, args) -> int:
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
