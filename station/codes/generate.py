"""Code generation: unguessable serials, sequential ranges, GS1 SGTIN (Digital Link) and SSCC."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator

from sqlalchemy import select
from sqlalchemy.engine import Connection

from station.codes import gs1
from station.config import CodeSettings
from station.errors import InputError
from station.store.models import Code, Meta

SCHEMES = ("random", "sequential", "sgtin", "sscc")
_codes = Code.__table__
_meta = Meta.__table__


def random_serials(alphabet: str, length: int, count: int) -> list[str]:
    """`count` serials of `length` characters drawn uniformly from `alphabet` by os.urandom.

    Bytes at or above the largest multiple of len(alphabet) are dropped (rejection sampling), so
    every character is equally likely; the mapping runs in C through bytes.translate.
    """
    n = len(alphabet)
    limit = 256 - 256 % n
    table = bytes(ord(alphabet[b % n]) if b < limit else 0 for b in range(256))
    drop = bytes(range(limit, 256))
    need = count * length
    out = bytearray()
    while len(out) < need:
        chunk = os.urandom(int((need - len(out)) * 256 / limit) + 64)
        out += chunk.translate(table, drop)
    text = out[:need].decode("ascii")
    return [text[i : i + length] for i in range(0, need, length)]


def _next_counter(conn: Connection, key: str, count: int, start: int = 1) -> int:
    """Reserve `count` numbers of counter `key` in the caller's transaction; returns the first."""
    value = conn.execute(select(_meta.c.value).where(_meta.c.key == key)).scalar()
    first = int(value) if value is not None else start
    if value is None:
        conn.execute(_meta.insert().values(key=key, value=str(first + count)))
    else:
        conn.execute(_meta.update().where(_meta.c.key == key).values(value=str(first + count)))
    return first


def generator(
    conn: Connection,
    settings: CodeSettings,
    scheme: str,
    level: str,
    *,
    gtin: str | None = None,
    prefix: str = "",
    width: int = 10,
) -> Callable[[int], list[str]]:
    """A function making `n` new codes of `scheme`; counters advance in `conn`'s transaction."""
    if prefix and scheme != "sequential":
        raise InputError(f"--prefix is for the sequential scheme only, not {scheme}; leave it out")
    if scheme == "random":
        return lambda n: random_serials(settings.alphabet, settings.length, n)
    if scheme == "sgtin":
        if not gtin:
            raise InputError("scheme sgtin needs a product with a GTIN: pass --product SKU")

        def sgtins(n: int) -> list[str]:
            serials = random_serials(settings.alphabet, settings.length, n)
            if settings.sgtin_format == "element-string":
                return [gs1.element_string(gtin, s) for s in serials]
            return [gs1.digital_link(settings.resolver, gtin, s) for s in serials]

        return sgtins
    if scheme == "sscc":

        def ssccs(n: int) -> list[str]:
            first = _next_counter(conn, "sscc_next", n)
            return [
                gs1.sscc(settings.sscc_extension, settings.company_prefix, first + i)
                for i in range(n)
            ]

        return ssccs
    if scheme == "sequential":
        _check_prefix(prefix, settings.max_length - width)

        def sequential(n: int) -> list[str]:
            first = _next_counter(conn, f"seq_next:{level}:{prefix}", n)
            return [f"{prefix}{first + i:0{width}d}" for i in range(n)]

        return sequential
    raise InputError(f"unknown scheme {scheme!r}; use one of {', '.join(SCHEMES)}")


def _check_prefix(prefix: str, room: int) -> None:
    """InputError when codes with this prefix could not be imported back (`codes import`)."""
    from station.codes.files import code_problem

    if not prefix:
        return
    if len(prefix) > room:
        raise InputError(f"--prefix {prefix!r}: at most {room} characters (codes.max_length)")
    bad = [c for c in prefix if code_problem(c) is not None]
    if bad:
        raise InputError(
            f"--prefix {prefix!r}: {', '.join(repr(c) for c in dict.fromkeys(bad))} cannot be "
            "in a code (printable ASCII only, no space, comma or double quote); choose letters "
            "and digits, e.g. --prefix L1-"
        )


def existing(conn: Connection, codes: list[str], chunk: int = 500) -> Iterator[str]:
    """The members of `codes` already in the store, in any state."""
    for i in range(0, len(codes), chunk):
        part = codes[i : i + chunk]
        yield from conn.execute(select(_codes.c.code).where(_codes.c.code.in_(part))).scalars()
