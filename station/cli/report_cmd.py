"""`station report BATCH [--format html|pdf|json] [--out FILE]`."""

from __future__ import annotations

import os
from pathlib import Path

from station import users
from station.batch import report
from station.errors import InputError
from station.store.db import read_engine


def register(subs, add) -> None:
    """Add the report command."""
    p = add(subs, "report", help="batch report: planned vs actual, rejects, rework, signatures")
    p.add_argument("batch")
    p.add_argument("--format", choices=["html", "pdf", "json"], default="html")
    p.add_argument("--out", help="write here (default: stdout for html and json)")
    p.set_defaults(func=run)


def _write(path: Path, data: bytes) -> None:
    tmp = path.with_name(path.name + ".part")
    with open(tmp, "wb") as fh:
        fh.write(data)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)


def run(app, args) -> int:
    """Build and write the report."""
    app.require("report")
    reveal = app._auth[1] in users.SECRET_VIEWERS
    with read_engine(app.engine).connect() as conn:
        data = report.gather(conn, app.settings, args.batch, reveal=reveal)
    if args.format == "json":
        if args.out:
            import json

            _write(Path(args.out), json.dumps(data, ensure_ascii=False, indent=1).encode())
            app.out(f"report of {args.batch} written to {args.out}")
        else:
            app.json(data)
        return 0
    if args.format == "pdf":
        if not args.out:
            raise InputError("--format pdf needs --out FILE")
        from station.batch import report_pdf

        _write(Path(args.out), report_pdf.render(data))
        app.out(f"report of {args.batch} written to {args.out}")
        return 0
    html = report.to_html(data)
    if args.out:
        _write(Path(args.out), html.encode("utf-8"))
        app.out(f"report of {args.batch} written to {args.out}")
    else:
        app.out(html)
    return 0
