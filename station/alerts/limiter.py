"""A per-target rate limit: at most N sends in any window; pure logic on an injected clock."""

from __future__ import annotations

from collections import deque


class SendWindow:
    """A token bucket whose every token returns `window_s` after it was spent.

    WeCom and DingTalk robots refuse a 21st message within a minute. A classic bucket (capacity N,
    refilled at N per minute) lets almost 2N through in the first minute; returning each token a
    full window after its use keeps any window of `window_s` seconds at N sends or fewer.
    """

    def __init__(self, limit: int, window_s: float = 60.0) -> None:
        if limit < 1:
            raise ValueError(f"alerts: per-minute limit is {limit}; give 1 or more")
        if window_s <= 0:
            raise ValueError(f"alerts: rate window is {window_s} s; give seconds above 0")
        self.limit = limit
        self.window_s = window_s
        self._spent: deque[float] = deque()

    def _expire(self, now: float) -> None:
        while self._spent and self._spent[0] + self.window_s <= now:
            self._spent.popleft()

    def tokens(self, now: float) -> int:
        """How many sends are allowed at `now`."""
        self._expire(now)
        return self.limit - len(self._spent)

    def take(self, now: float) -> None:
        """Spend one token at `now`; the caller checked `tokens(now) > 0`."""
        self._expire(now)
        if len(self._spent) >= self.limit:
            raise RuntimeError("alerts: a send was taken from an empty rate window")
        self._spent.append(now)

    def wait_s(self, now: float) -> float:
        """Seconds from `now` until a token is back (0 when one is there)."""
        self._expire(now)
        if len(self._spent) < self.limit:
            return 0.0
        return self._spent[0] + self.window_s - now
