"""The life of a code, as names: the one enum of code states, used by every package.

It lives here, at the bottom of the layers, so the pure rules of aggregation/ and the store in
station/ spell states the same way (station.store.lifecycle enforces the legal moves).
"""

from __future__ import annotations

from enum import StrEnum


class CodeState(StrEnum):
    """A code's state (a str: it compares equal to the value stored in the database)."""

    AVAILABLE = "available"
    RESERVED = "reserved"
    PRINTED = "printed"
    VERIFIED = "verified"
    LINKED = "linked"
    REJECTED = "rejected"
    DECOMMISSIONED = "decommissioned"
    VOID = "void"
