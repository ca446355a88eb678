"""Pallet numbers from a pattern (`[line] pallet_number`), each issued once, across power cuts.

A pattern is Python format text with these fields:

- `{seq}` (required, once): the counter, e.g. `{seq:04d}`. One counter per everything else the
  pattern renders to, so with `{date:%Y%m%d}` in it the count starts again at 1 each day;
- `{date}`: the station's local date and time, with a strftime spec, e.g. `{date:%Y%m%d}`;
- `{line}`: `station.line` (e.g. "A"); `{station}`: `station.id`.

`V{date:%Y%m%d}{seq:04d}{line}` gives V202612070001A, V202612070002A, … V202612080001A.

Issuing a number is one committed transaction: the counter row (`meta`, key `pallet_no:…`)
moves on, and the number enters the codes table as a reserved pallet code of the batch, audited.
Only then may it go onto a label. A power cut after that commit leaves the number reserved, and
the restart voids it (like any code that may have left for a printer): the counter has moved on,
so the number is skipped and never issued again. A number already in the store (a counter lost
with an old backup) is skipped too.
"""

from __future__ import annotations

import hashlib
import string
from datetime import datetime
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.engine import Connection, Engine

from station.errors import ConfigError
from station.store import audit, lifecycle
from station.store.lifecycle import State
from station.store.models import Code, Meta

FIELDS = ("seq", "date", "line", "station")
_codes = Code.__table__
_meta = Meta.__table__
_SAMPLE = datetime(2026, 12, 7, 8, 30, 0)
KEY_PREFIX = "pallet_no:"
TRIES = 1000  # numbers skipped at most because they are already in the store


class _Mark:
    """Stands for {seq} when rendering the counter's key: the same text whatever the count."""

    def __format__(self, spec: str) -> str:
        return "{seq}"


def check(pattern: str) -> str:
    """The pattern if it is usable; ValueError saying what is wrong and how to write it."""
    try:
        parts = list(string.Formatter().parse(pattern))
    except ValueError as exc:
        raise ValueError(f"{pattern!r}: {exc}; write fields as {{seq:04d}}") from None
    names = [f for _lit, f, _spec, _conv in parts if f is not None]
    unknown = sorted({n for n in names if n not in FIELDS})
    if unknown:
        known = ", ".join("{" + f + "}" for f in FIELDS)
        raise ValueError(f"{pattern!r}: unknown field {{{unknown[0]}}}; use {known}")
    if names.count("seq") != 1:
        raise ValueError(
            f"{pattern!r}: needs {{seq}} exactly once (the daily counter), e.g. {{seq:04d}}"
        )
    if any(conv for *_x, conv in parts if conv):
        raise ValueError(f"{pattern!r}: no !r/!s conversions; write {{seq:04d}}")
    try:
        sample = render(pattern, when=_SAMPLE, seq=1, line="A", station="S1")
    except (ValueError, TypeError) as exc:
        raise ValueError(f"{pattern!r}: {exc}; e.g. {{date:%Y%m%d}}{{seq:04d}}") from None
    bad = sorted({c for c in sample if not (c.isascii() and c.isprintable()) or c in ' ,"'})
    if bad:
        raise ValueError(
            f"{pattern!r} makes {sample!r}: {', '.join(repr(c) for c in bad)} cannot be in a "
            "code (printable ASCII only, no space, comma or double quote)"
        )
    return pattern


def render(pattern: str, *, when: datetime, seq: Any, line: str, station: str) -> str:
    """The pallet number for these values."""
    return pattern.format(seq=seq, date=when, line=line, station=station)


def counter_key(pattern: str, *, when: datetime, line: str, station: str) -> str:
    """The meta key of the counter this number counts in: one per rendered prefix (per day)."""
    shape = render(pattern, when=when, seq=_Mark(), line=line, station=station)
    key = KEY_PREFIX + shape
    if len(key) > 64:  # meta.key is String(64)
        key = KEY_PREFIX + hashlib.sha256(shape.encode()).hexdigest()[:40]
    return key


def _bump(conn: Connection, key: str) -> int:
    """The counter's next value, written in the caller's transaction."""
    value = conn.execute(select(_meta.c.value).where(_meta.c.key == key)).scalar()
    n = int(value) + 1 if value is not None else 1
    if value is None:
        conn.execute(insert(_meta).values(key=key, value=str(n)))
    else:
        conn.execute(_meta.update().where(_meta.c.key == key).values(value=str(n)))
    return n


def issue(
    engine: Engine,
    settings,
    batch_id: str,
    *,
    user: str,
    level: str = "pallet",
    when: datetime | None = None,
) -> tuple[int, str]:
    """Issue the next pallet number: (code id, number), committed as a reserved code of the batch.

    ConfigError when no pattern is configured (the pool's SSCCs are used then).
    """
    pattern = settings.line.pallet_number
    if not pattern:
        raise ConfigError("no [line] pallet_number pattern: pallet codes come from the pool")
    when = when or datetime.now()
    line, station = settings.station.line, settings.station.id
    key = counter_key(pattern, when=when, line=line, station=station)
    with engine.begin() as conn:
        for _ in range(TRIES):
            seq = _bump(conn, key)
            number = render(pattern, when=when, seq=seq, line=line, station=station)
            taken = conn.execute(select(_codes.c.id).where(_codes.c.code == number)).first()
            if taken is None:
                break
        else:
            raise ConfigError(
                f"[line] pallet_number {pattern!r}: the next {TRIES} numbers are all in the "
                "store already; change the pattern"
            )
        code_id = conn.execute(
            insert(_codes)
            .values(code=number, level=level, state=State.AVAILABLE.value, batch_id=batch_id)
            .returning(_codes.c.id)
        ).scalar_one()
        lifecycle.move(
            conn,
            [code_id],
            State.RESERVED,
            user=user,
            reason="pallet number issued",
            batch_id=batch_id,
            expect=State.AVAILABLE,
            labels=[number],
        )
        audit.record(
            conn,
            user,
            [audit.Change("pallet.number", number, None, str(seq), key, batch_id)],
        )
    return code_id, number
