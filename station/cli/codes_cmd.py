"""`station codes generate|import|stats|export|packs|withdraw-pack`."""

from __future__ import annotations

import os
import time
from pathlib import Path

from station.codes import files as codefile
from station.codes import packs, pools
from station.errors import InputError


def register(subs, add) -> None:
    """Add the codes group."""
    g = add(subs, "codes", help="code pools and packs: generate, import, count, export")
    s = g.add_subparsers(dest="cmd", required=True)
    p = add(s, "generate", help="generate new codes for a level")
    p.add_argument("--level", required=True)
    p.add_argument("--count", type=int, required=True)
    p.add_argument("--scheme", choices=["random", "sequential", "sgtin", "sscc"])
    p.add_argument("--product", help="SKU or GTIN (needed for sgtin)")
    p.add_argument("--prefix", default="", help="prefix of sequential codes")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=generate)
    p = add(s, "import", help="import a code file, all or nothing")
    p.add_argument("file")
    p.add_argument(
        "--level", help="level of the codes (with --pairs: optional, inner or outer; the pairs "
        "fill both)"
    )  # fmt: skip
    p.add_argument("--pairs", action="store_true", help="lines are inner,outer pairs")
    p.add_argument("--encoding", help="force the file's encoding (default: detect)")
    p.add_argument(
        "--pack", metavar="NAME", help="import the file as the code pack (码包) NAME; without it "
        "the codes are a plain pool, in no pack"
    )  # fmt: skip
    p.add_argument("--source", help="the pack's supplier (with --pack)")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=import_)
    p = add(s, "stats", help="counts by level and state")
    p.add_argument("--level")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=stats)
    p = add(s, "export", help="write codes one per line (pairs as inner,outer)")
    p.add_argument("--level", required=True)
    p.add_argument("--state")
    p.add_argument("--out", required=True)
    p.set_defaults(func=export)
    p = add(s, "packs", help="code packs (码包): counts of used, available and withdrawn codes")
    p.add_argument("--level")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=list_packs)
    p = add(s, "withdraw-pack", help="void every code of a pack none of whose codes is used yet")
    p.add_argument("name", metavar="NAME")
    p.add_argument("--reason", required=True, help="why (goes into the audit trail)")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=withdraw_pack)


def _scheme(app, level: str, product: str | None) -> tuple[str, str | None]:
    s = app.settings
    if product:
        prod = s.product(product)
        return prod.schemes.get(level, "random"), prod.gtin
    return "random", None


MAX_GENERATE = 10_000_000
"""Codes one `codes generate` makes at most (~70 s and ~2 GB of store); more: run it again."""


def generate(app, args) -> int:
    """Generate codes into a new pool."""
    if args.count > MAX_GENERATE:
        raise InputError(
            f"--count {args.count}: at most {MAX_GENERATE:,} codes per command (about 2 GB of "
            "store); run the command again for more"
        )
    user = app.require("codes.manage")
    packs.level_settings(app.settings, args.level)
    default_scheme, gtin = _scheme(app, args.level, args.product)
    scheme = args.scheme or ("sscc" if args.level == "pallet" else default_scheme)
    if scheme == "imported":
        scheme = "random"
    t0 = time.perf_counter()
    with app.progress(args.count, "generate") as bar:
        task = bar.add_task(f"generating {args.level}", total=args.count)
        n = pools.generate(
            app.engine,
            app.settings,
            args.level,
            args.count,
            scheme,
            user=user,
            gtin=gtin,
            prefix=args.prefix,
            progress=lambda k: bar.advance(task, k),
        )
    dt = time.perf_counter() - t0
    if args.json:
        app.json({"level": args.level, "scheme": scheme, "generated": n, "seconds": round(dt, 3)})
    else:
        app.out(f"generated {n} {scheme} codes for level {args.level} in {dt:.1f} s")
    return 0


def import_(app, args) -> int:
    """Import a code file."""
    user = app.require("codes.manage")
    level = args.level
    if args.pairs:
        names = app.settings.level_names
        if "inner" not in names or "outer" not in names:
            raise InputError("--pairs needs the levels inner and outer in config.toml")
        if level not in (None, "inner", "outer"):  # it was silently ignored (issue 13)
            raise InputError(
                f"--level {level} with --pairs: a pairing file fills the levels inner and outer "
                "(its two columns); leave --level out or give one of them"
            )
        level = level or "inner"
    elif level is None:
        raise InputError("codes import: give --level (one of the levels in config.toml)")
    else:
        packs.level_settings(app.settings, level)
    packs.check_options(args.pack, args.source, pairs=args.pairs)  # before reading the file
    t0 = time.perf_counter()
    parsed = codefile.parse(
        args.file,
        pairs=args.pairs,
        max_length=app.settings.codes.max_length,
        encoding=args.encoding,
        alphabet=app.settings.codes.alphabet,
    )
    total = len(parsed.codes)
    with app.progress(total, "import") as bar:
        task = bar.add_task(f"importing {Path(args.file).name}", total=total)
        n, pack = packs.import_codes(
            app.engine,
            app.settings,
            parsed,
            level,
            user=user,
            pack=args.pack,
            source=args.source,
            progress=lambda k: bar.advance(task, k),
        )
    dt = time.perf_counter() - t0
    if args.json:
        app.json(
            {
                "file": args.file,
                "imported": n,
                "encoding": parsed.encoding,
                "pairs": bool(args.pairs),
                "level": level,
                "pack": pack,
                "seconds": round(dt, 3),
            }
        )
    else:
        kind = f"{n // 2} pairs" if args.pairs else f"{n} codes"
        into = f" as pack {pack['name']} (sha256 {pack['sha256'][:12]})" if pack else ""
        app.out(f"imported {kind} from {args.file} ({parsed.encoding}){into} in {dt:.1f} s")
    return 0


def stats(app, args) -> int:
    """Counts by level and state."""
    app.require("view")
    if args.level:
        packs.level_settings(app.settings, args.level)
    with app.engine.connect() as conn:
        counts = pools.stats(conn, args.level)
    if args.json:
        app.json({"levels": counts, "total": sum(sum(v.values()) for v in counts.values())})
        return 0
    if not counts:
        app.out("no codes")
    for level, states in counts.items():
        parts = ", ".join(f"{st} {n}" for st, n in sorted(states.items()))
        app.out(f"{level}: {parts}")
    return 0


def export(app, args) -> int:
    """Export codes to a file, atomically."""
    from station.store.lifecycle import State

    app.require("codes.manage")
    packs.level_settings(app.settings, args.level)
    if args.state and args.state not in set(State):
        raise InputError(
            f"--state {args.state!r} is not a code state; use one of {', '.join(State)}"
        )
    out = Path(args.out)
    tmp = out.with_name(out.name + ".part")
    n = 0
    with app.engine.connect() as conn, open(tmp, "w", encoding="utf-8", newline="\n") as fh:
        for line in pools.export_lines(conn, args.level, args.state):
            fh.write(line + "\n")
            n += 1
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, out)
    app.out(f"exported {n} lines to {out}")
    return 0


def list_packs(app, args) -> int:
    """The code packs, oldest first."""
    app.require("view")
    if args.level:
        packs.level_settings(app.settings, args.level)
    with app.engine.connect() as conn:
        rows = packs.list_packs(conn, args.level)
    if args.json:
        app.json({"packs": rows, "total": len(rows)})
        return 0
    if not rows:
        app.out("no packs" + (f" of level {args.level}" if args.level else ""))
        return 0
    for line in packs.table(rows):
        app.out(line)
    return 0


def withdraw_pack(app, args) -> int:
    """Void a pack none of whose codes is used; exit 1 naming how many are used otherwise."""
    user = app.require("codes.manage")
    with app.progress(0, "withdraw") as bar:
        task = bar.add_task(f"withdrawing {args.name}", total=None)
        done = packs.withdraw(
            app.engine,
            args.name,
            user=user,
            reason=args.reason,
            progress=lambda k: bar.advance(task, k),
        )
    if args.json:
        app.json(done)
    else:
        app.out(f"withdrew pack {done['name']}: {done['voided']} {done['level']} codes are void")
    return 0
