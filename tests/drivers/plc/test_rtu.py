"""The same driver over Modbus RTU, through a pair of pseudo-terminals."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator

import pytest

from drivers.errors import DriverConnectionError, DriverProtocolError, DriverTimeout
from drivers.plc.base import StackLight, Trigger, TriggersLost
from drivers.plc.factory import open_plc
from drivers.plc.modbus import ModbusPLC
from drivers.plc.sim import SimPLC


@pytest.fixture
def rtu() -> Iterator[tuple[SimPLC, ModbusPLC]]:
    """A SimPLC serving RTU on a pty and a connected driver on the other end."""
    with SimPLC(transport="rtu", first_seq=40) as sim:
        assert sim.url.startswith("modbus-rtu:///dev/")
        plc = open_plc(sim.url, name="rtu-plc", timeout_s=0.3)
        plc.connect()
        try:
            yield sim, plc  # type: ignore[misc]
        finally:
            plc.close()


def test_rtu_triggers_rejects_and_outputs(rtu: tuple[SimPLC, ModbusPLC]) -> None:
    sim, plc = rtu
    sent = [sim.trigger() for _ in range(16)]
    assert plc.poll_triggers() == [Trigger(s, i + 1) for i, s in enumerate(sent)]
    for _ in range(17):
        sim.trigger()
    with pytest.raises(TriggersLost) as info:
        plc.poll_triggers()
    assert info.value.lost == 1
    for seq in sent:
        plc.request_reject(seq)
    assert sim.rejects() == sent
    plc.set_stack_light(StackLight.AMBER, buzzer=True)
    plc.set_line_stop(True)
    plc.heartbeat()
    assert (sim.stack_light, sim.buzzer, sim.line_stop) == (StackLight.AMBER, True, True)
    assert sim.station_alive


def test_rtu_silent_times_out_then_recovers(rtu: tuple[SimPLC, ModbusPLC]) -> None:
    sim, plc = rtu
    sim.silent = True
    t0 = time.monotonic()
    with pytest.raises(DriverTimeout, match="rtu-plc at modbus-rtu:///dev/"):
        plc.poll_triggers()
    assert time.monotonic() - t0 < 0.8
    sim.silent = False
    seq = sim.trigger()
    assert plc.poll_triggers() == [Trigger(seq, 1)]


def test_rtu_late_answers_are_never_taken_for_the_next_request(
    rtu: tuple[SimPLC, ModbusPLC], wait_for: Callable[..., None]
) -> None:
    """RTU has no transaction id: an answer that arrives after the timeout must not be used."""
    sim, plc = rtu
    sim.delay_s = 0.45
    with pytest.raises(DriverTimeout):
        plc.set_stack_light(StackLight.RED)
    sim.delay_s = 0.0
    seqs = [sim.trigger()]
    got: list[Trigger] = []

    def poll() -> bool:
        try:
            got.extend(plc.poll_triggers())
        except (DriverTimeout, DriverProtocolError):
            return False
        return True

    wait_for(poll, timeout_s=3.0)
    wait_for(lambda: sim.stack_light is StackLight.RED)  # served late, answer dropped or refused
    time.sleep(0.05)  # let the late answer reach our port: it must be refused, not used
    seqs.append(sim.trigger())
    wait_for(poll, timeout_s=3.0)
    assert got == [Trigger(s, i + 1) for i, s in enumerate(seqs)]
    plc.set_stack_light(StackLight.GREEN)
    assert sim.stack_light is StackLight.GREEN


def test_missing_serial_port_is_a_clear_connection_error() -> None:
    plc = open_plc("modbus-rtu:///dev/ttyNOPE9?baudrate=9600", name="rtu-plc", timeout_s=0.2)
    with pytest.raises(DriverConnectionError, match="cannot open serial port /dev/ttyNOPE9"):
        plc.connect()
    with pytest.raises(DriverConnectionError, match="next attempt in"):
        plc.poll_triggers()  # inside the backoff wait: refused at once, no new attempt
    plc.close()
