"""The simulator's own contract: lifecycle, world hooks, guard rails."""

from __future__ import annotations

import pytest

from drivers.inkjet.sim import SimInkjet


def test_start_twice_is_refused(protocol: str) -> None:
    with SimInkjet(protocol) as sim, pytest.raises(RuntimeError, match="already"):
        sim.start()


def test_restart_keeps_port_and_state(protocol: str) -> None:
    sim = SimInkjet(protocol).start()
    try:
        port = sim.port
        sim.queue.append("KEPT")
        sim.stop()
        sim.start()
        assert sim.port == port and list(sim.queue) == ["KEPT"]
    finally:
        sim.stop()


def test_faults_by_name(protocol: str) -> None:
    sim = SimInkjet(protocol)
    with pytest.raises(ValueError, match="unknown fault"):
        sim.set_fault("paper_out")
    sim.set_fault("ink_low")
    sim.set_fault("head_fault")
    sim.clear_fault("head_fault")
    assert sim.faults == {"ink_low"}
    sim.clear_fault()
    assert sim.faults == set()


def test_trigger_without_host_still_prints(protocol: str) -> None:
    with SimInkjet(protocol, mode="single") as sim:
        assert sim.trigger() is None  # no field yet
        sim.field = "X"
        assert sim.trigger() == "X"
        assert sim.count == 1 and sim.printed == ["X"]


def test_drop_needs_tcp(protocol: str) -> None:
    with SimInkjet(protocol, transport="pty") as sim:
        assert sim.url.startswith("/dev/")
        with pytest.raises(RuntimeError, match="tcp"):
            sim.drop()


def test_bad_transport_named() -> None:
    with pytest.raises(ValueError, match="tcp or pty"):
        SimInkjet("binpacket", transport="udp")
