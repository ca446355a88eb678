"""Driver against a misbehaving simulator (TCP): drops, garbage, bad frames, silence, faults."""

from __future__ import annotations

import time
from collections.abc import Callable

import pytest

from drivers.errors import (
    DeviceFault,
    DriverConnectionError,
    DriverError,
    DriverProtocolError,
    DriverTimeout,
)
from drivers.inkjet.driver import InkjetDriver
from drivers.inkjet.factory import open_inkjet
from drivers.inkjet.messages import PrintEnd
from drivers.inkjet.sim import SimInkjet

TIMEOUT_S = 0.3
Confirm = Callable[..., list[str]]


def test_in_flight_after_link_drop_lists_exactly_the_queued_codes(
    sim: SimInkjet, printer: InkjetDriver, confirm_n: Confirm, wait_for: Callable
) -> None:
    for t in ("D1", "D2", "D3"):
        printer.send(t)
    sim.trigger()
    assert confirm_n(printer, 1) == ["D1"]
    sim.drop()
    with pytest.raises(DriverConnectionError, match="cap-printer") as err:
        printer.confirmations(timeout_s=1.0)
    assert err.value.port == sim.url
    assert printer.in_flight() == ["D2", "D3"]
    with pytest.raises(DriverConnectionError):
        printer.send("D4")
    assert printer.in_flight() == ["D2", "D3"]


def test_confirmations_received_before_a_drop_are_still_delivered(
    sim: SimInkjet, printer: InkjetDriver, wait_for: Callable
) -> None:
    printer.send("E1")
    printer.send("E2")
    sim.trigger()
    wait_for(lambda: printer.in_flight() == ["E2"])
    sim.drop()
    assert printer.confirmations(timeout_s=1.0) == ["E1"]
    with pytest.raises(DriverConnectionError):
        printer.confirmations(timeout_s=1.0)
    assert printer.in_flight() == ["E2"]


def test_peer_closes_mid_message(sim: SimInkjet, printer: InkjetDriver) -> None:
    printer.send("M1")
    sim.drop_mid_message(PrintEnd(sim.count + 1, "M1"))
    with pytest.raises(DriverConnectionError):
        printer.confirmations(timeout_s=1.0)
    assert printer.in_flight() == ["M1"]  # half a print-end message proves nothing


def test_peer_closes_while_waiting_for_an_answer(sim: SimInkjet, printer: InkjetDriver) -> None:
    sim.silent = True
    start = time.monotonic()
    sim.drop()
    with pytest.raises(DriverConnectionError):
        printer.send("W1")
    assert time.monotonic() - start < TIMEOUT_S + 0.5


def test_reconnect_after_simulator_comes_back(
    protocol: str, sim: SimInkjet, printer: InkjetDriver, confirm_n: Confirm
) -> None:
    printer.send("R1")
    sim.stop()
    with pytest.raises(DriverConnectionError):
        printer.confirmations(timeout_s=1.0)
    with pytest.raises(DriverConnectionError, match="cannot open") as err:
        printer.connect()
    assert err.value.device == "cap-printer" and err.value.port == sim.url
    assert printer.in_flight() == ["R1"]
    sim.start()
    printer.connect()
    assert sim.connections == 2
    assert printer.in_flight() == []  # connect() clears the printer's queue: R1 is void
    printer.send("R2")
    sim.trigger()
    assert confirm_n(printer, 1) == ["R2"]


def test_garbage_between_frames_is_skipped(
    sim: SimInkjet, printer: InkjetDriver, confirm_n: Confirm
) -> None:
    sim.send_garbage()
    printer.send("G1")
    sim.send_garbage(b"\x7f\x80junk")
    sim.trigger()
    assert confirm_n(printer, 1) == ["G1"]
    assert printer.protocol_errors >= 2
    err = printer.last_protocol_error
    assert err is not None and "garbage" in str(err) and err.port == sim.url


def test_truncated_print_end_is_made_good_by_the_next_counter(
    sim: SimInkjet, printer: InkjetDriver, confirm_n: Confirm
) -> None:
    printer.send("T1")
    printer.send("T2")
    sim.truncate_next()
    sim.trigger()
    sim.trigger()
    assert confirm_n(printer, 2) == ["T1", "T2"]
    assert printer.protocol_errors >= 1


def test_bad_checksum_on_print_end_is_made_good_by_the_next_counter(
    sim: SimInkjet, printer: InkjetDriver, confirm_n: Confirm
) -> None:
    printer.send("K1")
    printer.send("K2")
    sim.corrupt_next()
    sim.trigger()
    assert printer.confirmations(timeout_s=0.1) == []
    assert printer.status().print_count == 1
    assert printer.confirmations(timeout_s=0.5) == ["K1"]
    sim.trigger()
    assert confirm_n(printer, 1) == ["K2"]


def test_bad_checksum_on_an_answer_is_a_protocol_error(
    sim: SimInkjet, printer: InkjetDriver
) -> None:
    sim.corrupt_next()
    start = time.monotonic()
    with pytest.raises(DriverProtocolError, match=r"cap-printer.*no valid answer") as err:
        printer.send("P1")
    assert time.monotonic() - start < TIMEOUT_S + 0.5
    assert err.value.port == sim.url
    assert printer.in_flight() == ["P1"]  # the printer took it: it may still print
    printer.connect()
    assert printer.status().ready


def test_silent_peer_times_out_naming_device_and_port(
    sim: SimInkjet, printer: InkjetDriver
) -> None:
    sim.silent = True
    start = time.monotonic()
    with pytest.raises(DriverTimeout) as err:
        printer.send("S1")
    elapsed = time.monotonic() - start
    assert TIMEOUT_S <= elapsed < TIMEOUT_S + 0.3
    assert err.value.device == "cap-printer" and err.value.port == sim.url
    assert sim.url in str(err.value) and "within 0.3 s" in str(err.value)
    assert printer.in_flight() == ["S1"]
    with pytest.raises(DriverConnectionError):
        printer.status()  # no answer means the stream is out of step: reconnect first


def test_silent_peer_on_connect(protocol: str, sim: SimInkjet) -> None:
    sim.silent = True
    p = open_inkjet(protocol, sim.url, name="tij-2", timeout_s=TIMEOUT_S)
    start = time.monotonic()
    with pytest.raises(DriverTimeout, match="tij-2"):
        p.connect()
    assert time.monotonic() - start < TIMEOUT_S + 0.3
    p.close()


def test_slow_peer_within_timeout_works(
    sim: SimInkjet, printer: InkjetDriver, confirm_n: Confirm
) -> None:
    sim.delay_s = 0.1
    printer.send("L1")
    sim.trigger()
    assert confirm_n(printer, 1) == ["L1"]


def test_slow_peer_beyond_timeout(sim: SimInkjet, printer: InkjetDriver) -> None:
    sim.delay_s = 0.6
    with pytest.raises(DriverTimeout):
        printer.status()


@pytest.mark.parametrize("fault", ["ink_out", "head_fault", "not_ready"])
def test_blocking_fault_in_status_and_on_send(
    fault: str, sim: SimInkjet, printer: InkjetDriver
) -> None:
    sim.set_fault(fault)
    st = printer.status()
    assert not st.ready and fault in st.faults
    with pytest.raises(DeviceFault, match=fault) as err:
        printer.send("F1")
    assert err.value.port == sim.url
    assert printer.in_flight() == []
    assert sim.trigger() is None
    sim.clear_fault()
    printer.send("F1")
    assert printer.status().ready


def test_buffer_full_on_send(sim: SimInkjet, printer: InkjetDriver) -> None:
    sim.set_fault("buffer_full")
    assert "buffer_full" in printer.status().faults
    with pytest.raises(DeviceFault, match="buffer_full"):
        printer.send("B1")
    assert printer.in_flight() == []


def test_printer_smaller_than_driver_depth_says_buffer_full(protocol: str) -> None:
    with (
        SimInkjet(protocol, depth=2) as sim,
        open_inkjet(protocol, sim.url, depth=4, timeout_s=TIMEOUT_S) as p,
    ):
        p.send("A")
        p.send("B")
        with pytest.raises(DeviceFault, match="buffer_full"):
            p.send("C")
        assert p.in_flight() == ["A", "B"]


def test_ink_low_is_a_warning(sim: SimInkjet, printer: InkjetDriver, confirm_n: Confirm) -> None:
    sim.set_fault("ink_low")
    sim.ink_level_pct = 9
    st = printer.status()
    assert st.ready and st.faults == ("ink_low",) and st.ink_level_pct == 9
    printer.send("I1")
    sim.trigger()
    assert confirm_n(printer, 1) == ["I1"]


def test_missed_trigger_counted(sim: SimInkjet, printer: InkjetDriver, wait_for: Callable) -> None:
    sim.trigger()
    wait_for(lambda: printer.missed_triggers == 1)


def test_text_that_cannot_travel_is_refused_before_sending(
    sim: SimInkjet, printer: InkjetDriver
) -> None:
    with pytest.raises(DriverError, match="cannot send"):
        printer.send("bad\x02text")
    assert printer.in_flight() == []
    assert sim.queue == type(sim.queue)()


def test_connection_refused_names_device_and_port(protocol: str) -> None:
    with SimInkjet(protocol) as sim:
        url = sim.url
    p = open_inkjet(protocol, url, name="cij-1", timeout_s=TIMEOUT_S)
    with pytest.raises(DriverConnectionError, match="cij-1") as err:
        p.connect()
    assert err.value.port == url
