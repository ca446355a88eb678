"""S7 and MC faults over real TCP: silence, slowness, dropped links, restarts, refused addresses."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from drivers.errors import DriverConnectionError, DriverError, DriverTimeout
from drivers.plc.base import StackLight, Trigger, TriggersLost
from drivers.plc.factory import open_line_plc, start_plc_sim
from drivers.plc.handshake import HandshakePLC
from drivers.plc.mc.driver import MCRefused
from drivers.plc.mc.sim import SimMCPLC
from drivers.plc.s7.driver import S7Refused
from drivers.plc.s7.sim import SimS7PLC

TIMEOUT_S = 0.3
PROTOCOLS = ["s7", "mc"]


def _driver(proto: str, url: str, name: str = "line-plc") -> HandshakePLC:
    plc = open_line_plc(proto, url, name=name, timeout_s=TIMEOUT_S, heartbeat_timeout_ms=400)
    assert isinstance(plc, HandshakePLC)
    return plc


@pytest.fixture(params=PROTOCOLS)
def line(request: pytest.FixtureRequest) -> Iterator[tuple[str, Any, HandshakePLC]]:
    """(protocol, started simulator, connected driver)."""
    sim = start_plc_sim(request.param, first_seq=500, heartbeat_period_s=0.05)
    plc = _driver(request.param, sim.url)
    try:
        plc.connect()
        yield request.param, sim, plc
    finally:
        plc.close()
        sim.stop()


def _ok(fn: Callable[[], object]) -> bool:
    try:
        fn()
    except DriverError:
        return False
    return True


def test_silent_plc_times_out_naming_device_and_port(
    line: tuple[str, Any, HandshakePLC], wait_for: Callable[..., None]
) -> None:
    _, sim, plc = line
    sim.silent = True
    with pytest.raises(DriverTimeout, match=r"no answer within 0\.3 s") as info:
        plc.poll_triggers()
    assert "line-plc" in str(info.value) and sim.url in str(info.value)
    # The next calls reconnect first: S7 connects with an S7 exchange, which times out as a
    # connection error (then backoff); MC connects with TCP alone and times out on the request.
    for call in (lambda: plc.request_reject(5), plc.heartbeat):
        t0 = time.monotonic()
        with pytest.raises((DriverTimeout, DriverConnectionError)) as info:
            call()
        assert time.monotonic() - t0 < 3.0  # bounded by ours, not snap7's 5 s default
        assert "line-plc" in str(info.value) and sim.url in str(info.value)
    sim.silent = False
    seq = sim.trigger()
    got: list[Trigger] = []
    wait_for(lambda: _ok(lambda: got.extend(plc.poll_triggers())), timeout_s=3.0)
    assert got == [Trigger(seq, 1)]


def test_a_late_answer_is_never_taken_for_the_next_request(
    line: tuple[str, Any, HandshakePLC], wait_for: Callable[..., None]
) -> None:
    _, sim, plc = line
    sim.delay_s = TIMEOUT_S * 2
    with pytest.raises(DriverTimeout, match="set stack light"):
        plc.set_stack_light(StackLight.AMBER)
    sim.delay_s = 0.0
    seq = sim.trigger()
    got: list[Trigger] = []
    wait_for(lambda: _ok(lambda: got.extend(plc.poll_triggers())), timeout_s=3.0)
    assert got == [Trigger(seq, 1)]
    plc.set_stack_light(StackLight.GREEN)
    assert sim.stack_light is StackLight.GREEN


def test_dropped_connection_is_reopened_by_the_next_calls(
    line: tuple[str, Any, HandshakePLC], wait_for: Callable[..., None]
) -> None:
    _, sim, plc = line
    sim.drop_connections()
    seq = sim.trigger()
    got: list[Trigger] = []
    wait_for(lambda: _ok(lambda: got.extend(plc.poll_triggers())), timeout_s=3.0)
    assert got == [Trigger(seq, 1)]
    assert plc.bus.connects == 2


def test_a_stopped_server_is_a_connection_error_naming_device_and_port(
    line: tuple[str, Any, HandshakePLC], wait_for: Callable[..., None]
) -> None:
    _, sim, plc = line
    sim.stop()
    failures: list[DriverConnectionError] = []
    t0 = time.monotonic()
    while time.monotonic() - t0 < 0.5:
        t_call = time.monotonic()
        try:
            plc.poll_triggers()
        except DriverConnectionError as exc:
            failures.append(exc)
        assert time.monotonic() - t_call < 3.0  # never blocks for a library default (5 s)
        time.sleep(0.005)
    assert failures and all("line-plc" in str(e) and sim.url in str(e) for e in failures)
    attempts = [e for e in failures if "cannot connect" in str(e)]
    assert 1 <= len(attempts) < len(failures)  # backoff: most calls refused at once
    assert plc.bus.backoff_s >= 0.05
    sim.start()  # same port, memory kept: a server restart, not a power cycle
    seqs = [sim.trigger() for _ in range(3)]
    got: list[Trigger] = []
    wait_for(lambda: _ok(lambda: got.extend(plc.poll_triggers())), timeout_s=4.0)
    assert [t.seq for t in got] == seqs  # triggers during the outage are not lost
    plc.request_reject(seqs[0])
    assert sim.rejects() == [seqs[0]]


@pytest.mark.parametrize("proto", PROTOCOLS)
def test_no_plc_at_all_fails_fast_on_connect(proto: str) -> None:
    sim = start_plc_sim(proto)
    url = sim.url
    sim.stop()
    plc = _driver(proto, url, name="gone")
    t0 = time.monotonic()
    with pytest.raises(DriverConnectionError, match=r"gone at (s7|mc)://127\.0\.0\.1"):
        plc.connect()
    assert time.monotonic() - t0 < 3.0  # refused at once, not after a library's 5 s
    plc.close()


def test_plc_reboot_is_reported_and_the_driver_carries_on(
    line: tuple[str, Any, HandshakePLC], wait_for: Callable[..., None]
) -> None:
    _, sim, plc = line
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

    wait_for(poll, timeout_s=4.0)
    assert caught and caught[0].restarted
    assert "went back from 40 to 2" in str(caught[0])
    assert [t.seq for t in caught[0].triggers] == after
    assert [t.counter for t in caught[0].triggers] == [41, 42]
    plc.request_reject(after[1])  # the reject pointer follows the rebooted PLC
    assert sim.rejects() == [after[1]]
    assert sim.errors == []


def test_s7_db_shorter_than_the_map_is_refused_with_a_hint() -> None:
    with SimS7PLC(db_bytes=80) as sim:  # DB10 ends at byte 80: the rings fit, DBW82 does not
        plc = _driver("s7", sim.url)
        with plc:
            plc.set_stack_light(StackLight.RED)
            with pytest.raises(S7Refused, match=r"DB10\.DBW82") as info:
                plc.report_case(3, 1)  # DBW82 is past the end
            assert "optimized block access" in str(info.value)
            seq = sim.trigger()
            assert plc.poll_triggers() == [Trigger(seq, 1)]  # the link stays usable


def test_mc_device_beyond_the_cpu_is_refused_with_its_end_code() -> None:
    with SimMCPLC(d_points=170) as sim:  # D0..D169: the rings fit, the case result (D180) not
        with _driver("mc", sim.url) as plc:
            plc.set_stack_light(StackLight.RED)
            with pytest.raises(MCRefused, match="D180") as info:
                plc.report_case(3, 1)
            assert info.value.code == 0xC056 and "check the mc map" in str(info.value)
            sim.end_code = 0xC059
            with pytest.raises(MCRefused, match="0xC059"):
                plc.poll_triggers()
            sim.end_code = None
            seq = sim.trigger()
            assert plc.poll_triggers() == [Trigger(seq, 1)]


def test_poll_round_trip_on_loopback(line: tuple[str, Any, HandshakePLC]) -> None:
    """One read per poll; its round trip bounds the line rate (-s prints it)."""
    proto, sim, plc = line
    sim.conveyor(6000)
    n, got, times = 300, 0, []
    deadline = time.monotonic() + 30  # a busy machine may tick the conveyor late: poll on
    while len(times) < n or (got == 0 and time.monotonic() < deadline):
        t0 = time.perf_counter()
        got += len(plc.poll_triggers())
        times.append(time.perf_counter() - t0)
        if len(times) >= n:
            time.sleep(0.01)
    sim.conveyor(0)
    times.sort()
    print(f"\n{proto} poll_triggers on loopback: median {times[n // 2] * 1000:.2f} ms, "
          f"p99 {times[int(n * 0.99)] * 1000:.2f} ms")  # fmt: skip
    assert got > 0
