"""S7PLC against snap7's own S7 server and MCPLC against SimMCPLC's 3E port, over real TCP.

Each test runs for both protocols: the handshakes are the Modbus driver's, on data-block words
(S7, big-endian) and D registers / M relays (MELSEC, 3E binary).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from drivers.errors import DeviceFault
from drivers.plc.base import CASE_ACCEPTED, CASE_REJECTED, StackLight, Trigger, TriggersLost
from drivers.plc.factory import open_line_plc, start_plc_sim
from drivers.plc.handshake import HandshakePLC

PROTOCOLS = ["s7", "mc"]
# The same alternative maps in each vendor's notation.
APART = {
    "s7": {"reject_write_ptr": "DB10.DBW130", "reject_ring": "DB10.DBW88", "cases_placed": "none"},
    "mc": {"reject_write_ptr": "D200", "reject_ring": "D160", "case_result": "none"},
}
KICK = {
    "s7": {"reject_bit": "DB10.DBX80.1", "line_stop_bit": "DB10.DBX80.0"},
    "mc": {"reject_bit": "M101", "line_stop_bit": "M100"},
}
STOP_WORD = {"s7": {"line_stop_word": "DB11.DBW0"}, "mc": {"line_stop_word": "D300"}}
FAR_DONE = {"s7": {"rejects_done": "DB12.DBW0"}, "mc": {"rejects_done": "D2000"}}


def sim_for(proto: str, amap: dict | None = None, **kw: Any) -> Any:
    """A started simulator: seqs from 500 (unlike counts), a fast heartbeat."""
    return start_plc_sim(proto, amap, first_seq=500, heartbeat_period_s=0.05, **kw)


def driver_for(proto: str, sim: Any, amap: dict | None = None) -> HandshakePLC:
    """A driver for the simulator, not connected."""
    plc = open_line_plc(
        proto, sim.url, address_map=amap, name="line-plc", timeout_s=0.3,
        heartbeat_timeout_ms=400,
    )  # fmt: skip
    assert isinstance(plc, HandshakePLC)
    return plc


@pytest.fixture(params=PROTOCOLS)
def line(request: pytest.FixtureRequest) -> Iterator[tuple[str, Any, HandshakePLC]]:
    """(protocol, simulator, connected driver) with default maps."""
    sim = sim_for(request.param)
    plc = driver_for(request.param, sim)
    try:
        plc.connect()
        yield request.param, sim, plc
    finally:
        plc.close()
        sim.stop()


def preset_counter(sim: Any, value: int) -> None:
    """Put the PLC's trigger counter near its wrap."""
    with sim.core.lock:
        sim.core.store.put(sim.core.layout.trigger_counter, value)


def test_trigger_ring_round_trip(line: tuple[str, Any, HandshakePLC]) -> None:
    _, sim, plc = line
    assert not plc.kicks_now
    assert plc.poll_triggers() == []
    seqs = [sim.trigger() for _ in range(3)]
    assert seqs == [500, 501, 502]
    assert plc.poll_triggers() == [Trigger(500, 1), Trigger(501, 2), Trigger(502, 3)]
    assert plc.poll_triggers() == []


@pytest.mark.parametrize("proto", PROTOCOLS)
def test_triggers_before_connect_are_not_reported(proto: str) -> None:
    sim = sim_for(proto)
    try:
        for _ in range(5):
            sim.trigger()
        with driver_for(proto, sim) as plc:
            assert plc.poll_triggers() == []
            seq = sim.trigger()
            assert plc.poll_triggers() == [Trigger(seq, 6)]
    finally:
        sim.stop()


def test_a_full_ring_between_polls_loses_nothing(line: tuple[str, Any, HandshakePLC]) -> None:
    _, sim, plc = line
    got: list[int] = []
    sent: list[int] = []
    for burst in (16, 1, 15, 16, 7, 16):
        sent += [sim.trigger() for _ in range(burst)]
        got += [t.seq for t in plc.poll_triggers()]
    assert got == sent
    assert plc.trigger_count == len(sent) == sim.triggered


@pytest.mark.parametrize("proto", PROTOCOLS)
def test_counter_wrap_at_65536(proto: str) -> None:
    sim = sim_for(proto)
    try:
        preset_counter(sim, 65530)
        with driver_for(proto, sim) as plc:
            sent = [sim.trigger() for _ in range(12)]
            got = plc.poll_triggers()
        assert [t.seq for t in got] == sent
        assert [t.counter for t in got] == list(range(65531, 65543))
    finally:
        sim.stop()


def test_ring_overrun_is_reported_with_the_count_lost(
    line: tuple[str, Any, HandshakePLC],
) -> None:
    _, sim, plc = line
    sent = [sim.trigger() for _ in range(21)]
    with pytest.raises(TriggersLost) as info:
        plc.poll_triggers()
    err = info.value
    assert err.lost == 5
    assert "5 triggers lost" in str(err) and "line-plc" in str(err) and sim.url in str(err)
    assert [t.seq for t in err.triggers] == sent[5:]
    assert [t.counter for t in err.triggers] == list(range(6, 22))
    nxt = sim.trigger()
    assert plc.poll_triggers() == [Trigger(nxt, 22)]


def test_many_reject_requests_all_arrive_in_order(line: tuple[str, Any, HandshakePLC]) -> None:
    _, sim, plc = line
    seqs = list(range(1000, 1040))  # 2.5 times round the ring
    for seq in seqs:
        plc.request_reject(seq)
    assert sim.rejects() == seqs
    assert sim.errors == []


def test_rejects_wait_in_the_ring_while_the_plc_is_busy(
    line: tuple[str, Any, HandshakePLC],
) -> None:
    _, sim, plc = line
    sim.hold_rejects = True
    for seq in range(16):
        plc.request_reject(seq)
    assert sim.rejects() == []
    plc.poll_triggers()  # the poll read also refreshes the PLC's rejects done
    with pytest.raises(DeviceFault, match="reject ring full"):
        plc.request_reject(99)
    sim.hold_rejects = False
    assert sim.rejects() == list(range(16))
    plc.request_reject(99)
    assert sim.rejects() == [99]


@pytest.mark.parametrize("proto", PROTOCOLS)
def test_ring_full_is_caught_when_rejects_done_is_elsewhere(proto: str) -> None:
    sim = sim_for(proto, FAR_DONE[proto])
    try:
        with driver_for(proto, sim, FAR_DONE[proto]) as plc:
            sim.hold_rejects = True
            for seq in range(16):
                plc.request_reject(seq)
            with pytest.raises(DeviceFault, match="reject ring full"):
                plc.request_reject(16)
            sim.hold_rejects = False
            plc.request_reject(16)
        assert sim.rejects() == list(range(17))
    finally:
        sim.stop()


def test_reject_pointer_survives_a_driver_restart(line: tuple[str, Any, HandshakePLC]) -> None:
    proto, sim, plc = line
    plc.request_reject(7)
    plc.close()
    with driver_for(proto, sim) as again:
        again.request_reject(8)
    assert sim.rejects() == [7, 8]


@pytest.mark.parametrize("proto", PROTOCOLS)
def test_reject_ring_apart_from_its_pointer_uses_two_writes(proto: str) -> None:
    sim = sim_for(proto, APART[proto])
    try:
        with driver_for(proto, sim, APART[proto]) as plc:
            assert not plc.layout.reject_block
            for seq in range(20):
                plc.request_reject(seq)
        assert sim.rejects() == list(range(20))
    finally:
        sim.stop()


@pytest.mark.parametrize("proto", PROTOCOLS)
def test_kick_bit_kicks_the_last_item_and_leaves_the_line_stop_bit_alone(proto: str) -> None:
    sim = sim_for(proto, KICK[proto])
    try:
        with driver_for(proto, sim, KICK[proto]) as plc:
            assert plc.kicks_now
            plc.set_line_stop(True)  # the bit beside the kick bit (S7: the same byte)
            sim.trigger()
            seq = sim.trigger()
            plc.request_reject(seq)
            assert sim.rejects() == [seq]
            assert sim.line_stop  # a bit write set one bit, not the byte
            plc.request_reject(seq)  # the PLC reset the kick bit: a second kick is seen again
            assert sim.rejects() == [seq]
            plc.set_line_stop(False)
            assert not sim.line_stop
            assert sim.rejects() == []  # clearing line stop kicked nothing
    finally:
        sim.stop()


def test_stack_light_and_buzzer(line: tuple[str, Any, HandshakePLC]) -> None:
    _, sim, plc = line
    for light in StackLight:
        plc.set_stack_light(light)
        assert (sim.stack_light, sim.buzzer) == (light, False)
    plc.set_stack_light(StackLight.RED, buzzer=True)
    assert (sim.stack_light, sim.buzzer) == (StackLight.RED, True)


def test_line_stop_halts_the_conveyor(
    line: tuple[str, Any, HandshakePLC], wait_for: Callable[..., None]
) -> None:
    _, sim, plc = line
    plc.set_line_stop(True)
    assert sim.line_stop
    sim.conveyor(6000)
    time.sleep(0.1)  # a stopped conveyor must stay still for a while: nothing to wait on
    assert sim.triggered == 0
    plc.set_line_stop(False)
    assert not sim.line_stop
    wait_for(lambda: sim.triggered > 0)
    sim.conveyor(0)


@pytest.mark.parametrize("proto", PROTOCOLS)
def test_line_stop_as_a_word(proto: str) -> None:
    sim = sim_for(proto, STOP_WORD[proto])
    try:
        with driver_for(proto, sim, STOP_WORD[proto]) as plc:
            plc.set_line_stop(True)
            assert sim.line_stop
            plc.set_line_stop(False)
            assert not sim.line_stop
    finally:
        sim.stop()


def test_heartbeat_both_ways(
    line: tuple[str, Any, HandshakePLC], wait_for: Callable[..., None]
) -> None:
    _, sim, plc = line
    assert not sim.station_alive
    plc.heartbeat()
    assert sim.station_alive
    sim.set_heartbeat_running(False)

    def faulted() -> bool:
        try:
            plc.heartbeat()
        except DeviceFault as exc:
            assert "heartbeat stuck" in str(exc) and "line-plc" in str(exc)
            assert sim.url in str(exc)
            return True
        return False

    wait_for(faulted, timeout_s=3.0)
    sim.set_heartbeat_running(True)
    wait_for(lambda: _heartbeat_ok(plc), timeout_s=2.0)


def _heartbeat_ok(plc: HandshakePLC) -> bool:
    try:
        plc.heartbeat()
    except DeviceFault:
        return False
    return True


def test_case_verdicts_and_cases_placed(line: tuple[str, Any, HandshakePLC]) -> None:
    proto, sim, plc = line
    assert sim.case_result is None
    plc.report_case(7, CASE_ACCEPTED)
    assert sim.case_result == (7, CASE_ACCEPTED)
    plc.report_case(65537, CASE_REJECTED)  # case numbers wrap with the 16-bit word
    assert sim.case_result == (1, CASE_REJECTED)
    for _ in range(3):
        plc.case_placed()
    plc.close()
    with driver_for(proto, sim) as again:  # a restarted station continues the count
        again.case_placed()
    assert sim.cases_placed == 4


def test_conveyor_rate_gives_the_expected_count(line: tuple[str, Any, HandshakePLC]) -> None:
    _, sim, plc = line
    got: list[Trigger] = []
    seen: list[int] = []
    sim.on_trigger = seen.append
    sim.conveyor(3000)  # 50 items/s
    t0 = time.monotonic()
    while time.monotonic() - t0 < 0.8:
        got += plc.poll_triggers()
        time.sleep(0.02)
    sim.conveyor(0)
    elapsed = time.monotonic() - t0
    got += plc.poll_triggers()
    assert [t.seq for t in got] == list(range(500, 500 + sim.triggered)) == seen
    assert abs(sim.triggered - 50 * elapsed) <= 0.25 * 50 * elapsed + 3
