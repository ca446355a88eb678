"""Tell a keyboard-wedge scanner from a person typing: fast keystrokes that end in Enter."""

from __future__ import annotations


class WedgeDetector:
    """Collects keystrokes; `key()` returns the scanned text when a fast burst ends in Enter.

    A wedge scanner "types" a whole code in a few milliseconds per character; a person needs
    well over 50 ms between keys. A pause longer than `max_gap_ms` starts a new burst.
    """

    def __init__(self, *, max_gap_ms: float = 50.0, min_length: int = 4) -> None:
        self.max_gap_ms = max_gap_ms
        self.min_length = min_length
        self._buf: list[str] = []
        self._last_ms: float | None = None

    def key(self, text: str, t_ms: float) -> str | None:
        """Feed one keystroke (`"\\r"` or `"\\n"` for Enter) at time `t_ms`; the scan or None."""
        gap_ok = self._last_ms is not None and t_ms - self._last_ms <= self.max_gap_ms
        self._last_ms = t_ms
        if text in ("\r", "\n"):
            scanned = "".join(self._buf) if gap_ok or not self._buf else None
            self._buf.clear()
            if scanned is not None and len(scanned) >= self.min_length:
                return scanned
            return None
        if not gap_ok:
            self._buf.clear()
        self._buf.append(text)
        return None

    def reset(self) -> None:
        """Forget a partial burst."""
        self._buf.clear()
        self._last_ms = None
