"""Is there a screen? Asked before Qt is imported (`station demo --ui` on a headless box)."""

from __future__ import annotations

import os


def has_display() -> bool:
    """True when Qt can open a window here (X11/Wayland), or a platform is forced."""
    return bool(
        os.environ.get("DISPLAY")
        or os.environ.get("WAYLAND_DISPLAY")
        or os.environ.get("QT_QPA_PLATFORM")
    )
