"""Data copied out of the station: `station export BATCH --format F … --out DIR` (a closed batch's
files, signed) and `station backup [--out FILE]` (a consistent copy of the store while the line
runs)."""

from __future__ import annotations

import json
from pathlib import Path

from sync.manifest import FORMATS


def register(subs, add) -> None:
    """Add the export and backup commands."""
    p = add(subs, "export", help="write a closed batch's files (EPCIS, CSV, 码上放心) and manifest")
    p.add_argument("batch")
    p.add_argument(
        "--format",
        dest="formats",
        action="append",
        choices=sorted(FORMATS),
        required=True,
        help="repeat for several formats",
    )
    p.add_argument("--out", required=True, help="folder for the files and manifest.json")
    p.add_argument("--overwrite", action="store_true", help="replace a file set already there")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=export)
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


def export(app, args) -> int:
    """Write the files and the signed manifest; print what was written."""
    from pathlib import Path

    from station.upstream.batchdata import batch_data
    from station.upstream.fileset import write_file_set

    app.require("export")
    s = app.settings
    data = batch_data(app.engine, s, args.batch)
    out = Path(args.out)
    if (out / "manifest.json").exists() and not args.overwrite:
        from station.errors import InputError

        raise InputError(
            f"{out} already holds a sealed file set; pass --overwrite or another --out"
        )
    path = write_file_set(s, data, out, list(dict.fromkeys(args.formats)), overwrite=args.overwrite)
    manifest = json.loads(path.read_text(encoding="utf-8"))
    files = [{k: f[k] for k in ("name", "format", "size", "sha256")} for f in manifest["files"]]
    if args.json:
        app.json(
            {"batch": args.batch, "dir": str(out), "files": files, "counts": manifest["counts"]}
        )
    else:
        for f in files:
            app.out(f"{out / f['name']}  {f['size']} bytes  sha256 {f['sha256']}")
        app.out(f"{path}  (signed)")
    return 0


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
