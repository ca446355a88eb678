"""Logged-in handhelds: random session tokens that expire after a quiet spell."""

from __future__ import annotations

import secrets
import threading
import time
from dataclasses import dataclass

COOKIE = "ls_session"


@dataclass
class Session:
    """Who is logged in on one handheld, and until when."""

    user: str
    role: str
    expires: float


class Sessions:
    """Token → Session; each use extends it by `minutes` (sliding expiry)."""

    def __init__(self, minutes: int, clock=time.monotonic) -> None:
        self.ttl_s = minutes * 60.0
        self._clock = clock
        self._lock = threading.Lock()
        self._by_token: dict[str, Session] = {}

    def open(self, user: str, role: str) -> str:
        """A new session for `user`; its token."""
        token = secrets.token_urlsafe(32)
        with self._lock:
            self._drop_expired()
            self._by_token[token] = Session(user, role, self._clock() + self.ttl_s)
        return token

    def get(self, token: str | None) -> Session | None:
        """The live session of `token` (extended), or None."""
        if not token:
            return None
        with self._lock:
            s = self._by_token.get(token)
            now = self._clock()
            if s is None or s.expires <= now:
                self._by_token.pop(token, None)
                return None
            s.expires = now + self.ttl_s
            return s

    def close(self, token: str | None) -> None:
        """Log the session out."""
        with self._lock:
            self._by_token.pop(token or "", None)

    def _drop_expired(self) -> None:
        now = self._clock()
        for t in [t for t, s in self._by_token.items() if s.expires <= now]:
            del self._by_token[t]
