"""`station backup [--out FILE] [--json]`: a consistent copy of the store while the line runs."""

from __future__ import annotations

from pathlib import Path


def register(subs, add) -> None:
    """Add the backup command."""
    p = add(
        subs,
        "backup",
        help="copy the SQLite store to a new file, consistently, while the line runs",
    )
    p.add_argument(
        "--out", help="the new file (default <data_dir>/backups/station-<date>-<time>.db)"
    )
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=backup)


def backup(app, args) -> int:
    """Copy, check and name the backup; print where it is and what it holds."""
    from station.store.backup import backup as copy

    user = app.require("store.backup")
    got = copy(app.engine, app.settings, Path(args.out) if args.out else None, user=user)
    if args.json:
        app.json(got)
        return 0
    app.out(
        f"{got['backup']}: {got['bytes']:,} bytes, {got['codes']:,} codes, "
        f"{got['batches']} batches, schema {got['schema']}, checked ok in {got['seconds']} s"
    )
    app.out(f"sha256 {got['sha256']}")
    app.out(
        "It holds the inner (prize) codes in full: keep it as safe as the station. To restore, "
        "stop the station and copy it over the store file (delete the store's -wal and -shm)."
    )
    return 0
