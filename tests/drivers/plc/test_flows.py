"""The driver against SimPLC over real Modbus TCP: triggers, rejects, outputs, heartbeat."""

from __future__ import annotations

import time
from collections.abc import Callable

import pytest

from drivers.errors import DeviceFault
from drivers.plc.base import RegisterMap, StackLight, Trigger, TriggersLost
from drivers.plc.factory import open_plc
from drivers.plc.modbus import ModbusPLC
from drivers.plc.sim import SimPLC


def test_trigger_ring_round_trip(sim: SimPLC, plc: ModbusPLC) -> None:
    assert plc.poll_triggers() == []
    seqs = [sim.trigger() for _ in range(3)]
    assert seqs == [500, 501, 502]
    assert plc.poll_triggers() == [Trigger(500, 1), Trigger(501, 2), Trigger(502, 3)]
    assert plc.poll_triggers() == []


def test_triggers_before_connect_are_not_reported(sim: SimPLC) -> None:
    for _ in range(5):
        sim.trigger()
    with open_plc(sim.url, timeout_s=0.3) as plc:
        assert plc.poll_triggers() == []
        seq = sim.trigger()
        assert plc.poll_triggers() == [Trigger(seq, 6)]


def test_a_full_ring_between_polls_loses_nothing(sim: SimPLC, plc: ModbusPLC) -> None:
    got: list[int] = []
    sent: list[int] = []
    for burst in (16, 1, 15, 16, 7, 16):  # the slots wrap several times
        sent += [sim.trigger() for _ in range(burst)]
        got += [t.seq for t in plc.poll_triggers()]
    assert got == sent
    assert plc.trigger_count == len(sent) == sim.triggered


def test_counter_wrap_at_65536(sim: SimPLC) -> None:
    sim.set_register(sim.map.trigger_counter, 65530)
    with open_plc(sim.url, timeout_s=0.3) as plc:
        sent = [sim.trigger() for _ in range(12)]
        got = plc.poll_triggers()
    assert [t.seq for t in got] == sent
    assert [t.counter for t in got] == list(range(65531, 65543))
    assert sim.register(sim.map.trigger_counter) == 6


def test_ring_overrun_is_reported_with_the_count_lost(sim: SimPLC, plc: ModbusPLC) -> None:
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


def test_many_reject_requests_all_arrive_in_order(sim: SimPLC, plc: ModbusPLC) -> None:
    seqs = list(range(1000, 1040))  # 2.5 times round the ring
    for seq in seqs:
        plc.request_reject(seq)
    assert sim.rejects() == seqs
    assert sim.errors == []


def test_rejects_wait_in_the_ring_while_the_plc_is_busy(sim: SimPLC, plc: ModbusPLC) -> None:
    sim.hold_rejects = True
    for seq in range(16):
        plc.request_reject(seq)
    assert sim.rejects() == []
    plc.poll_triggers()  # the poll read also refreshes the PLC's rejects_done
    with pytest.raises(DeviceFault, match="reject ring full"):
        plc.request_reject(99)
    sim.hold_rejects = False
    assert sim.rejects() == list(range(16))
    plc.request_reject(99)
    assert sim.rejects() == [99]


def test_reject_pointer_survives_a_driver_restart(sim: SimPLC, plc: ModbusPLC) -> None:
    plc.request_reject(7)
    plc.close()
    with open_plc(sim.url, timeout_s=0.3) as again:
        again.request_reject(8)
    assert sim.rejects() == [7, 8]
    assert sim.register(sim.map.rejects_done) == 2


def test_reject_ring_apart_from_its_pointer_uses_two_writes() -> None:
    rmap = RegisterMap(reject_write_ptr=60, reject_ring=40)
    assert not rmap.reject_block
    with SimPLC(rmap) as sim, open_plc(sim.url, register_map=rmap, timeout_s=0.3) as plc:
        for seq in range(20):
            plc.request_reject(seq)
        assert sim.rejects() == list(range(20))


def test_reject_coil_mode_kicks_the_last_triggered_item() -> None:
    rmap = {"reject_coil": 3}
    with SimPLC(rmap) as sim, open_plc(sim.url, register_map=rmap, timeout_s=0.3) as plc:
        sim.trigger()
        seq = sim.trigger()
        plc.request_reject(seq)
        assert sim.rejects() == [seq]


def test_stack_light_and_buzzer(sim: SimPLC, plc: ModbusPLC) -> None:
    for light in StackLight:
        plc.set_stack_light(light)
        assert (sim.stack_light, sim.buzzer) == (light, False)
    plc.set_stack_light(StackLight.RED, buzzer=True)
    assert (sim.stack_light, sim.buzzer) == (StackLight.RED, True)
    assert sim.register(sim.map.stack_light) == 4 | 8


def test_line_stop_coil_halts_the_conveyor(
    sim: SimPLC, plc: ModbusPLC, wait_for: Callable[..., None]
) -> None:
    plc.set_line_stop(True)
    assert sim.line_stop
    sim.conveyor(6000)
    time.sleep(0.1)  # a stopped conveyor must stay still for a while: nothing to wait on
    assert sim.triggered == 0
    plc.set_line_stop(False)
    assert not sim.line_stop
    wait_for(lambda: sim.triggered > 0)
    sim.conveyor(0)


def test_line_stop_as_a_register() -> None:
    rmap = {"line_stop_coil": None, "line_stop_register": 45}
    with SimPLC(rmap) as sim, open_plc(sim.url, register_map=rmap, timeout_s=0.3) as plc:
        plc.set_line_stop(True)
        assert sim.line_stop and sim.register(45) == 1
        plc.set_line_stop(False)
        assert not sim.line_stop


def test_heartbeat_both_ways(sim: SimPLC, plc: ModbusPLC, wait_for: Callable[..., None]) -> None:
    assert not sim.station_alive
    plc.heartbeat()
    assert sim.station_alive
    first = sim.register(sim.map.station_heartbeat)
    plc.heartbeat()
    assert sim.register(sim.map.station_heartbeat) == first + 1
    sim.set_heartbeat_running(False)
    t0 = time.monotonic()

    def faulted() -> bool:
        try:
            plc.heartbeat()
        except DeviceFault as exc:
            assert "heartbeat stuck" in str(exc) and "line-plc" in str(exc)
            return True
        return False

    wait_for(faulted, timeout_s=2.0)
    assert 0.35 <= time.monotonic() - t0 < 1.5  # heartbeat_timeout_ms=400
    sim.set_heartbeat_running(True)
    wait_for(lambda: not _raises(plc.heartbeat), timeout_s=1.0)


def _raises(fn: Callable[[], object]) -> bool:
    try:
        fn()
    except DeviceFault:
        return True
    return False


def test_conveyor_rate_gives_the_expected_count(sim: SimPLC, plc: ModbusPLC) -> None:
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
    assert abs(sim.triggered - 50 * elapsed) <= 0.15 * 50 * elapsed + 2


def test_ring_full_is_caught_when_rejects_done_is_outside_the_poll_read() -> None:
    rmap = RegisterMap(rejects_done=200)
    assert rmap.poll_span == (0, 19)
    with SimPLC(rmap) as sim, open_plc(sim.url, register_map=rmap, timeout_s=0.3) as plc:
        sim.hold_rejects = True
        for seq in range(16):
            plc.request_reject(seq)
        with pytest.raises(DeviceFault, match="reject ring full"):
            plc.request_reject(16)
        sim.hold_rejects = False
        plc.request_reject(16)
        assert sim.rejects() == list(range(17))
