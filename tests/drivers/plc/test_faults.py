"""Faults over real Modbus TCP: silence, slowness, dropped links, restarts, exception responses."""

from __future__ import annotations

import time
from collections.abc import Callable

import pytest

from drivers.errors import DriverConnectionError, DriverError, DriverTimeout
from drivers.plc.base import ModbusRefused, StackLight, Trigger, TriggersLost
from drivers.plc.factory import open_plc
from drivers.plc.modbus import ModbusPLC
from drivers.plc.sim import SimPLC

TIMEOUT_S = 0.3


def _call_ok(fn: Callable[[], object]) -> bool:
    try:
        fn()
    except DriverError:
        return False
    return True


def test_silent_plc_times_out_naming_device_and_port(sim: SimPLC, plc: ModbusPLC) -> None:
    sim.silent = True
    for call in (plc.poll_triggers, lambda: plc.request_reject(5), plc.heartbeat):
        t0 = time.monotonic()
        with pytest.raises(DriverTimeout) as info:
            call()
        took = time.monotonic() - t0
        assert TIMEOUT_S * 0.9 <= took < TIMEOUT_S * 2 + 0.2, took
        assert "line-plc" in str(info.value) and sim.url in str(info.value)
        assert "no answer within 0.3 s" in str(info.value)
    sim.silent = False
    seq = sim.trigger()
    assert plc.poll_triggers() == [Trigger(seq, 1)]


def test_slow_answers_time_out_then_recover(sim: SimPLC, plc: ModbusPLC) -> None:
    sim.delay_s = TIMEOUT_S * 2
    with pytest.raises(DriverTimeout, match="set stack light"):
        plc.set_stack_light(StackLight.AMBER)
    sim.delay_s = 0.0
    # The late answer of the timed-out request must not be taken for this one.
    seq = sim.trigger()
    assert plc.poll_triggers() == [Trigger(seq, 1)]
    plc.set_stack_light(StackLight.GREEN)
    assert sim.stack_light is StackLight.GREEN


def test_dropped_connection_is_reopened_by_the_next_calls(
    sim: SimPLC, plc: ModbusPLC, wait_for: Callable[..., None]
) -> None:
    sim.drop_connections()
    seq = sim.trigger()
    got: list[Trigger] = []
    wait_for(lambda: _call_ok(lambda: got.extend(plc.poll_triggers())), timeout_s=2.0)
    assert got == [Trigger(seq, 1)]
    assert plc.link.connects == 2


def test_server_restart_reconnects_with_backoff(
    sim: SimPLC, plc: ModbusPLC, wait_for: Callable[..., None]
) -> None:
    sim.stop()
    failures: list[DriverConnectionError] = []
    t0 = time.monotonic()
    while time.monotonic() - t0 < 0.4:
        t_call = time.monotonic()
        try:
            plc.poll_triggers()
        except DriverConnectionError as exc:
            failures.append(exc)
        assert time.monotonic() - t_call < TIMEOUT_S + 0.1  # never blocks past the timeout
        time.sleep(0.005)
    assert failures and all(sim.url in str(e) for e in failures)
    attempts = [e for e in failures if "cannot connect" in str(e)]
    # Backoff: 50, 100, 200 ms... so a few real attempts in 0.4 s, the rest refused at once.
    assert 2 <= len(attempts) <= 5 < len(failures)
    assert plc.link.backoff_s >= 0.2
    sim.start()  # same port, registers kept: a Modbus server restart, not a PLC reboot
    seqs = [sim.trigger() for _ in range(3)]
    got: list[Trigger] = []
    wait_for(lambda: _call_ok(lambda: got.extend(plc.poll_triggers())), timeout_s=3.0)
    assert [t.seq for t in got] == seqs  # triggers during the outage are not lost
    assert plc.link.backoff_s == 0.0
    plc.request_reject(seqs[0])
    assert sim.rejects() == [seqs[0]]


def test_no_plc_at_all_fails_fast_on_connect() -> None:
    with SimPLC() as sim:
        url = sim.url
    plc = open_plc(url, name="gone", timeout_s=TIMEOUT_S)
    t0 = time.monotonic()
    with pytest.raises(DriverConnectionError, match=r"gone at modbus-tcp://127\.0\.0\.1"):
        plc.connect()
    assert time.monotonic() - t0 < TIMEOUT_S + 0.1
    plc.close()


@pytest.mark.parametrize(("code", "text"), [(2, "illegal data address"), (6, "busy")])
def test_exception_response_is_a_clear_error(
    sim: SimPLC, plc: ModbusPLC, code: int, text: str
) -> None:
    sim.exception = code
    with pytest.raises(ModbusRefused) as info:
        plc.set_line_stop(True)
    assert info.value.code == code
    assert f"exception {code}" in str(info.value) and text in str(info.value)
    assert "clear line stop" not in str(info.value) and "set line stop" in str(info.value)
    sim.exception = None
    plc.set_line_stop(True)
    assert sim.line_stop


def test_a_map_beyond_the_plc_gets_illegal_address(sim: SimPLC) -> None:
    with open_plc(sim.url, register_map={"stack_light": 300}, timeout_s=TIMEOUT_S) as plc:
        with pytest.raises(ModbusRefused, match="check the plc register map") as info:
            plc.set_stack_light(StackLight.RED)
        assert info.value.code == 2
        seq = sim.trigger()
        assert plc.poll_triggers() == [Trigger(seq, 1)]  # the link stays usable


def test_poll_round_trip_on_loopback(sim: SimPLC, plc: ModbusPLC) -> None:
    """The poll is one FC03; its round trip bounds the line rate (report: -s prints it)."""
    sim.conveyor(6000)
    n, got = 300, 0
    times = []
    for _ in range(n):
        t0 = time.perf_counter()
        got += len(plc.poll_triggers())
        times.append(time.perf_counter() - t0)
    sim.conveyor(0)
    times.sort()
    median_ms, p99_ms = times[n // 2] * 1000, times[int(n * 0.99)] * 1000
    print(f"\npoll_triggers over TCP loopback: median {median_ms:.2f} ms, p99 {p99_ms:.2f} ms")
    assert median_ms < 10
    assert got > 0


def test_plc_reboot_is_reported_and_the_driver_carries_on(
    sim: SimPLC, plc: ModbusPLC, wait_for: Callable[..., None]
) -> None:
    for _ in range(40):
        sim.trigger()
    with pytest.raises(TriggersLost):
        plc.poll_triggers()
    plc.request_reject(7)
    assert sim.rejects() == [7]
    sim.reboot()
    after = [sim.trigger(), sim.trigger()]
    caught: list[TriggersLost] = []

    def poll() -> bool:
        try:
            plc.poll_triggers()
        except TriggersLost as exc:
            caught.append(exc)
            return True
        except DriverConnectionError:
            return False
        return True

    wait_for(poll, timeout_s=3.0)
    assert caught and caught[0].restarted
    assert "went back from 40 to 2" in str(caught[0])
    assert [t.seq for t in caught[0].triggers] == after
    assert [t.counter for t in caught[0].triggers] == [41, 42]  # our count stays monotonic
    plc.request_reject(after[1])  # the reject pointer follows the rebooted PLC
    assert sim.rejects() == [after[1]]
    assert sim.errors == []
