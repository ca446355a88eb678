"""Which alarms reach the screens: new ones and changed faults, not every repeat of a warning."""

from __future__ import annotations

from types import SimpleNamespace

from station.events import Alarm, LineSignals
from station.line.runner import LineRunner


def _runner():
    signals = LineSignals()
    raised: list[Alarm] = []
    signals.alarm_raised.connect(raised.append)
    return SimpleNamespace(_alarms={}, signals=signals), raised


def _fault(message: str, key: str = "printer_fault") -> Alarm:
    return Alarm("fault:inkjet", "inkjet", message, "check the printer", key=key)


def _late(seq: int) -> Alarm:
    return Alarm(
        "late", "line", f"item {seq}: no decision", "slow the line", "warning",
        key="late_decision", args=(("seq", str(seq)),),
    )  # fmt: skip


def test_a_changed_fault_of_the_same_device_is_raised_again() -> None:
    r, raised = _runner()
    LineRunner._alarm(r, _fault("inkjet tcp://10.0.0.5:9000: ink out"))
    LineRunner._alarm(r, _fault("inkjet tcp://10.0.0.5:9000: ink out"))  # the same: once
    LineRunner._alarm(r, _fault("inkjet tcp://10.0.0.5:9000: head fault"))
    LineRunner._alarm(r, _fault("no answer", key="printer_reconnect_failed"))
    assert [a.message for a in raised] == [
        "inkjet tcp://10.0.0.5:9000: ink out",
        "inkjet tcp://10.0.0.5:9000: head fault",
        "no answer",
    ]
    assert r._alarms["fault:inkjet"].key == "printer_reconnect_failed"  # the snapshot: latest


def test_a_warning_repeated_per_item_is_raised_once_and_kept_fresh() -> None:
    r, raised = _runner()
    for seq in range(1, 50):
        LineRunner._alarm(r, _late(seq))
    assert [a.args for a in raised] == [(("seq", "1"),)]
    assert r._alarms["late"].args == (("seq", "49"),)


def test_status_from_another_thread_while_the_line_decides() -> None:
    """`station run` and the screens ask for the status while the line thread appends decisions:
    at 12,000 items/min iterating the live window raised "deque mutated during iteration"."""
    import threading
    from collections import Counter, deque

    from station.events import RunState
    from station.line.parts import RunStats

    window: deque[float] = deque(maxlen=2000)
    r = SimpleNamespace(
        _rate_window=window, stats=RunStats(reasons=Counter()), state=RunState.RUNNING,
        store=SimpleNamespace(batch_id="B"), planned=1, _alarms={},
    )  # fmt: skip
    stop = threading.Event()

    def line() -> None:
        import time

        while not stop.is_set():
            for _ in range(500):
                window.append(time.monotonic())

    t = threading.Thread(target=line)
    t.start()
    try:
        for _ in range(3000):
            assert LineRunner.status(r).rate_per_min >= 0
    finally:
        stop.set()
        t.join()
