"""Code packs (码包): a supplier's file of pre-printed codes for one level (小标 item codes at
`outer`, 中标 box codes at `box`, 大标 case codes at `case`), imported, listed and withdrawn as one
unit; and the per-level code length check (码长, `[[levels]] code_length`).

A pack is recorded only when the import names one (`--pack NAME`); a plain import stays a pool
with no pack, as before. Its digest is the SHA-256 of the normalised content (the codes as
imported, one per line, `\\n` after each, case folded where the alphabet has one case), so the
same codes re-saved as UTF-16 with CRLF line ends are the same pack.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from typing import Any

from sqlalchemy import Engine, func, select, update
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError

from station.codes import pools
from station.codes.files import ParsedFile
from station.codes.masking import mask
from station.config import LEVEL_ORDER, LevelSettings, Settings
from station.errors import CheckFailed, ConfigError, ImportRejected, InputError, NotFound
from station.store import audit, lifecycle
from station.store.lifecycle import State
from station.store.models import Code, Pack

_codes = Code.__table__
_packs = Pack.__table__
NAME_MAX = 200
SHORT_SHA = 12  # hex digits of the digest shown in the listing
_LABELS = {
    "inner": ("盖内码", "Inner cap code", 1),
    "outer": ("盖外码", "Outer code", 1),
    "box": ("盒码", "Box code", 6),
    "case": ("箱码", "Case code", 24),
    "pallet": ("垛码", "Pallet code", 20),
}


def level_settings(settings: Settings, level: str) -> LevelSettings:
    """settings.level(level); when the line lacks it, ConfigError saying what to add to
    config.toml (a [[levels]] table, and where)."""
    try:
        return settings.level(level)
    except ConfigError:
        pass
    names = settings.level_names
    if level not in LEVEL_ORDER:
        raise ConfigError(
            f"level {level!r} does not exist; levels are {', '.join(LEVEL_ORDER)} "
            f"(this line uses {', '.join(names)})"
        ) from None
    zh, en, capacity = _LABELS[level]
    after = [n for n in names if LEVEL_ORDER.index(n) < LEVEL_ORDER.index(level)]
    where = f"after the [[levels]] table of {after[-1]}" if after else "before the first [[levels]]"
    raise ConfigError(
        f"level {level!r} is not configured in config.toml (this line uses {', '.join(names)}); "
        f"to use it, add {where}:\n"
        f'[[levels]]\nname = "{level}"\nlabel_zh = "{zh}"\nlabel_en = "{en}"\n'
        f"capacity = {capacity}  # children per {level}\n"
        "then check it with `station config check`"
    ) from None


def length_ok(settings: Settings, level: str, code: str) -> bool:
    """True unless `level` has a `code_length` and `code` (its characters, as read) has another.

    Pure; a level the line does not use has no length rule.
    """
    want = next((lv.code_length for lv in settings.levels if lv.name == level), None)
    return want is None or len(code) == want


def check_lengths(
    settings: Settings,
    parsed: ParsedFile,
    level: str,
    pair_levels: tuple[str, str] = ("inner", "outer"),
) -> None:
    """ImportRejected naming each line whose code has not its level's `code_length`."""
    levels = pair_levels if parsed.pairs is not None else (level,)
    want = {lv.name: lv.code_length for lv in settings.levels if lv.name in levels}
    if all(n is None for n in want.values()):
        return
    per_line = len(levels)
    problems = []
    for i, code in enumerate(parsed.codes):
        lv = levels[i % per_line]
        n = want.get(lv)
        if n is not None and len(code) != n:
            why = f"{len(code)} characters, level {lv} codes have {n} (code_length)"
            problems.append((parsed.first_line + i // per_line, f"{why}: {mask(code, lv)}"))
    if problems:
        raise ImportRejected(parsed.path, problems, len(problems))


def content_sha256(parsed: ParsedFile) -> str:
    """SHA-256 of the normalised content: the codes, one per line, case folded as they compare."""
    text = "\n".join(parsed.codes) + "\n"
    if parsed.fold is not None:
        text = parsed.fold(text)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _valid_name(name: str) -> str:
    name = name.strip()
    if not name or len(name) > NAME_MAX or not name.isprintable():
        raise InputError(
            f"--pack {name!r}: a pack name is 1 to {NAME_MAX} printable characters "
            "(e.g. the supplier's delivery number)"
        )
    return name


def check_options(pack: str | None, source: str | None, *, pairs: bool) -> str | None:
    """The pack's name as stored (stripped), or None; InputError for options that do not go
    together (a pairing file as a pack, a supplier without a pack) or a bad name."""
    if pack is None:
        if source is not None:
            raise InputError("--source names a pack's supplier: give --pack NAME too")
        return None
    if pairs:
        raise InputError(
            "--pack with --pairs: a pack is one level's codes; import a pairing file without --pack"
        )
    return _valid_name(pack)


def _describe(p: Any) -> str:
    when = p.imported_at.isoformat(timespec="seconds")
    gone = f", withdrawn {p.withdrawn_at.isoformat(timespec='seconds')}" if p.withdrawn_at else ""
    by = p.imported_by
    return f"pack {p.name} (level {p.level}, {p.count} codes, imported {when} by {by}{gone})"


def _refuse_pack(conn: Connection, name: str, sha256: str, path: str) -> None:
    """InputError when the name is taken or the same content is a pack already."""
    p = conn.execute(select(_packs).where(_packs.c.name == name)).first()
    if p is not None:
        raise InputError(
            f"--pack {name}: {_describe(p)} exists already; give this pack another name "
            "(`station codes packs` lists them); nothing was imported"
        )
    p = conn.execute(select(_packs).where(_packs.c.sha256 == sha256)).first()
    if p is not None:
        raise InputError(
            f"{path}: the same codes (sha256 {sha256[:SHORT_SHA]}…) were imported already as "
            f"{_describe(p)}; a pack is imported once; nothing was imported"
        )


def import_codes(
    engine: Engine,
    settings: Settings,
    parsed: ParsedFile,
    level: str,
    *,
    user: str,
    pack: str | None = None,
    source: str | None = None,
    pair_levels: tuple[str, str] = ("inner", "outer"),
    progress: Callable[[int], None] | None = None,
) -> tuple[int, dict | None]:
    """Import `parsed` all or nothing after the length check; with `pack`, as that pack.

    Returns how many codes and the pack recorded (name, source, sha256) or None. Refused
    (nothing stored): a code of the wrong length, a pack name in use, content that is a pack
    already, a code held already (each line named).
    """
    name = check_options(pack, source, pairs=parsed.pairs is not None)
    check_lengths(settings, parsed, level, pair_levels)
    values = None
    if name is not None:
        values = {"name": name, "source": source, "sha256": content_sha256(parsed)}
        with engine.connect() as conn:
            _refuse_pack(conn, name, values["sha256"], parsed.path)
    try:
        n = pools.import_file(
            engine,
            parsed,
            level,
            user=user,
            pair_levels=pair_levels,
            progress=progress,
            pack=values,
        )
    except IntegrityError:
        if values is not None:  # another import took the name or the content meanwhile
            with engine.connect() as conn:
                _refuse_pack(conn, values["name"], values["sha256"], parsed.path)
        raise
    return n, values


def list_packs(conn: Connection, level: str | None = None) -> list[dict]:
    """Every pack (oldest first), with how many of its codes are available, used, withdrawn.

    `count` = `available` + `used` + `withdrawn`: used are codes no longer available (reserved,
    printed, verified, linked, rejected, void on the line …), withdrawn those voided by
    `withdraw`. `states` has the count per state.
    """
    stmt = select(_packs).order_by(_packs.c.id)
    counts = select(_codes.c.pack_id, _codes.c.state, func.count()).where(
        _codes.c.pack_id.is_not(None)
    )
    if level:
        stmt = stmt.where(_packs.c.level == level)
        counts = counts.where(
            _codes.c.pack_id.in_(select(_packs.c.id).where(_packs.c.level == level))
        )
    states: dict[int, dict[str, int]] = {}
    for pack_id, state, n in conn.execute(counts.group_by(_codes.c.pack_id, _codes.c.state)):
        states.setdefault(pack_id, {})[state] = n
    out = []
    for p in conn.execute(stmt):
        st = states.get(p.id, {})
        available = st.get(State.AVAILABLE, 0)
        withdrawn = st.get(State.VOID, 0) if p.withdrawn_at else 0
        out.append(
            {
                "name": p.name,
                "level": p.level,
                "count": p.count,
                "used": sum(st.values()) - available - withdrawn,
                "available": available,
                "withdrawn": withdrawn,
                "source": p.source,
                "sha256": p.sha256,
                "sha256_short": p.sha256[:SHORT_SHA],
                "file": p.origin,
                "imported_at": p.imported_at.isoformat(timespec="seconds"),
                "imported_by": p.imported_by,
                "withdrawn_at": p.withdrawn_at.isoformat(timespec="seconds")
                if p.withdrawn_at
                else None,
                "withdrawn_by": p.withdrawn_by,
                "withdraw_reason": p.withdraw_reason,
                "states": st,
            }
        )
    return out


def table(rows: list[dict]) -> list[str]:
    """The listing as text lines: a header, then one line per pack (list_packs' rows)."""
    nums = ("count", "used", "available", "withdrawn")
    out = [
        f"{'name':<20} {'level':<6} "
        + " ".join(f"{h:>9}" for h in nums)
        + f"  {'source':<16} {'sha256':<12} imported"
    ]
    for r in rows:
        gone = (
            f"  withdrawn {r['withdrawn_at']}: {r['withdraw_reason']}" if r["withdrawn_at"] else ""
        )
        out.append(
            f"{r['name']:<20} {r['level']:<6} "
            + " ".join(f"{r[k]:>9}" for k in nums)
            + f"  {r['source'] or '-':<16} {r['sha256_short']:<12} "
            f"{r['imported_at']} {r['imported_by']}{gone}"
        )
    return out


def withdraw(
    engine: Engine,
    name: str,
    *,
    user: str,
    reason: str,
    progress: Callable[[int], None] | None = None,
) -> dict:
    """Withdraw pack `name`: every code available → void (one audit entry each, reason
    `pack withdrawn: …`), the pack marked withdrawn and audited, in one transaction.

    CheckFailed (nothing changed) when any code of the pack is used already or the pack was
    withdrawn before; NotFound when there is no such pack.
    """
    reason = reason.strip()
    if not reason:
        raise InputError("--reason: say why the pack is withdrawn (it goes into the audit trail)")
    when = audit.now()
    with engine.begin() as conn:
        p = conn.execute(select(_packs).where(_packs.c.name == name)).first()
        if p is None:
            raise NotFound(f"no pack named {name!r}; `station codes packs` lists the packs")
        if p.withdrawn_at is not None:
            at = p.withdrawn_at.isoformat(timespec="seconds")
            raise CheckFailed(
                f"pack {name} was withdrawn already, {at} by {p.withdrawn_by} "
                f"({p.withdraw_reason}); nothing was changed"
            )
        in_pack = _codes.c.pack_id == p.id
        used = conn.execute(
            select(func.count()).where(in_pack, _codes.c.state != State.AVAILABLE)
        ).scalar_one()
        if used:
            ex = conn.execute(
                select(_codes.c.code, _codes.c.state, _codes.c.batch_id)
                .where(in_pack, _codes.c.state != State.AVAILABLE)
                .order_by(_codes.c.id)
                .limit(1)
            ).one()
            batch = f", batch {ex.batch_id}" if ex.batch_id else ""
            raise CheckFailed(
                f"pack {name}: {used} of {p.count} codes are used already (e.g. "
                f"{mask(ex.code, p.level)}: {ex.state}{batch}); a pack can be withdrawn only "
                "while all its codes are available; nothing was changed"
            )
        rows = conn.execute(
            select(_codes.c.id, _codes.c.code).where(in_pack).order_by(_codes.c.id)
        ).all()
        why = f"pack withdrawn: {reason}"
        for i in range(0, len(rows), pools.CHUNK):
            part = rows[i : i + pools.CHUNK]
            lifecycle.move(
                conn,
                [r.id for r in part],
                State.VOID,
                user=user,
                reason=why,
                expect=State.AVAILABLE,
                labels=[r.code for r in part],
            )
            if progress:
                progress(len(part))
        conn.execute(
            update(_packs)
            .where(_packs.c.id == p.id)
            .values(withdrawn_at=when, withdrawn_by=user, withdraw_reason=reason)
        )
        audit.record(
            conn, user, [audit.Change("pack.withdraw", name, str(len(rows)), "withdrawn", why)]
        )
    return {"name": name, "level": p.level, "voided": len(rows), "reason": reason}
