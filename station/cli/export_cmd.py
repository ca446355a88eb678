"""`station export BATCH --format F [--format F …] --out DIR`: a closed batch's files, signed."""

from __future__ import annotations

import json

from sync.manifest import FORMATS


def register(subs, add) -> None:
    """Add the export command."""
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
