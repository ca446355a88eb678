"""Handheld sessions: random tokens, a sliding expiry, logout."""

from __future__ import annotations

from station.web.sessions import Sessions


def test_a_session_lasts_while_used_and_ends_when_quiet() -> None:
    now = [1000.0]
    s = Sessions(minutes=10, clock=lambda: now[0])
    token = s.open("wh1", "warehouse")
    assert s.get(token).user == "wh1"
    now[0] += 9 * 60
    assert s.get(token) is not None  # used: extended by another 10 minutes
    now[0] += 9 * 60
    assert s.get(token) is not None
    now[0] += 10 * 60 + 1
    assert s.get(token) is None  # quiet too long: log in again
    other = s.open("wh1", "warehouse")
    assert other != token and s.get(other) is not None
    s.close(other)
    assert s.get(other) is None and s.get(None) is None and s.get("forged") is None
