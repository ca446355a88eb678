"""Masking of secret codes: inner (盖内码) prize codes never shown in full outside allowed roles."""

from __future__ import annotations

SECRET_LEVELS = frozenset({"inner"})


def mask(code: str | None, level: str | None, *, reveal: bool = False) -> str:
    """`ABC***********YZ` for a secret level's code (first 3 and last 2 kept); others unchanged."""
    if code is None:
        return ""
    if reveal or level not in SECRET_LEVELS or len(code) <= 5:
        return code if reveal or level not in SECRET_LEVELS else "*" * len(code)
    return code[:3] + "*" * (len(code) - 5) + code[-2:]
