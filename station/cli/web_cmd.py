"""`station web`: the handheld (PDA) page for shipping and code lookup."""

from __future__ import annotations


def register(subs, add) -> None:
    """Add the web command."""
    p = add(subs, "web", help="serve the handheld page (出库 scanning, code lookup)")
    p.add_argument("--port", type=int, help="TCP port (default [web].port; 0 picks a free one)")
    p.add_argument("--host", help="address to listen on (default [web].host)")
    p.set_defaults(func=run)


def run(app, args) -> int:
    """Serve until Ctrl-C or SIGTERM."""
    from station.ship.settings import web_settings
    from station.web.server import serve_forever

    cfg = web_settings(app.settings)
    host = args.host or cfg.host
    port = cfg.port if args.port is None else args.port
    serve_forever(app.engine, app.settings, host, port, announce=app.out)
    return 0
