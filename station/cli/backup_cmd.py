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
    p.add_argument(
        "--auto",
        action="store_true",
        help="the daily backup: copy only when station.backup_every_hours have passed since the "
        "last one, then delete copies older than station.backup_keep_days (for a timer)",
    )
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=backup)


def backup(app, args) -> int:
    """Copy, check and name the backup; print where it is and what it holds."""
    from station.store.backup import auto_backup
    from station.store.backup import backup as copy

    user = app.require("store.backup")
    if args.auto:
        if args.out:
            from station.errors import InputError

            raise InputError("--auto writes to <data_dir>/backups; leave --out away")
        done = auto_backup(app.engine, app.settings, user=user)
        if args.json:
            app.json(done)
            return 0
        made = done["made"]
        app.out(f"backed up to {made['backup']}" if made else "no backup due")
        for path in done["pruned"]:
            app.out(f"deleted {path} (older than {app.settings.station.backup_keep_days} days)")
        return 0
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
