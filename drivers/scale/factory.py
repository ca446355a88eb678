"""`open_checkweigher`, the one way to get a checkweigher; apart from base.py (the Protocol)."""

from __future__ import annotations

from drivers.scale.base import Checkweigher
from drivers.scale.mtsics import MtSicsScale


def open_checkweigher(
    url: str,
    *,
    name: str = "checkweigher",
    timeout_s: float = 1.0,
    stable_timeout_s: float = 3.0,
    baudrate: int = 9600,
) -> Checkweigher:
    """Build an MT-SICS checkweigher for a URL (tcp://host:port or any pyserial URL).

    ``timeout_s`` bounds one answer; ``stable_timeout_s`` how long weigh() waits for a stable
    weight. Call connect() to open it.
    """
    return MtSicsScale(
        url, name=name, timeout_s=timeout_s, stable_timeout_s=stable_timeout_s, baudrate=baudrate
    )
