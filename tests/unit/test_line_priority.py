"""The line's threads at raised priority (nice is per thread on Linux), or a clear word."""

from __future__ import annotations

import errno
import logging
import os
import threading

import pytest

from station.line.runner import raise_priority


@pytest.mark.skipif(not hasattr(os, "setpriority"), reason="no nice values on this system")
def test_the_calling_thread_and_the_threads_it_starts_get_the_nice_value() -> None:
    got: dict[str, int] = {}

    def line() -> None:
        want = 5 if os.geteuid() else -5  # without root only a lower priority is allowed
        ok = raise_priority(want)
        got["ok"], got["want"] = ok, want
        got["line"] = os.getpriority(os.PRIO_PROCESS, threading.get_native_id())

        def child() -> None:
            got["child"] = os.getpriority(os.PRIO_PROCESS, threading.get_native_id())

        t = threading.Thread(target=child)
        t.start()
        t.join()

    t = threading.Thread(target=line)
    t.start()
    t.join()
    assert got["ok"] and got["line"] == got["want"] and got["child"] == got["want"]
    # the test's own thread is untouched: nice belongs to a thread
    assert os.getpriority(os.PRIO_PROCESS, threading.get_native_id()) != got["want"]


def test_without_the_right_the_line_runs_and_says_what_to_do(monkeypatch, caplog) -> None:
    def refuse(*_a) -> None:
        raise PermissionError(errno.EACCES, "Permission denied")

    monkeypatch.setattr(os, "setpriority", refuse)
    with caplog.at_level(logging.WARNING, logger="station.line.runner"):
        assert raise_priority(-10) is False
    assert "CAP_SYS_NICE" in caplog.text and "nice = 0" in caplog.text
    assert raise_priority(0) is False  # 0 leaves it: nothing tried, nothing said
