"""The ZPL driver against the simulator over TCP (and a pty): labels, status, faults, links."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable

import pytest
import zxingcpp

from drivers.errors import (
    DeviceFault,
    DriverConnectionError,
    DriverProtocolError,
    DriverTimeout,
)
from drivers.labels.base import LabelPrinter
from drivers.labels.factory import open_label_printer
from drivers.labels.sim import SimZplPrinter, SimZplSerialPrinter
from drivers.labels.templates import case_label, pallet_label
from drivers.labels.zebra import ZplPrinter

SSCC = "106141411234567897"
TIMEOUT_S = 0.4  # the `printer` fixture's timeout (conftest)
Wait = Callable[..., None]


def test_driver_meets_the_protocol(printer: ZplPrinter) -> None:
    assert isinstance(printer, LabelPrinter)


def test_labels_arrive_whole_and_in_order(
    zpl_sim: SimZplPrinter, printer: ZplPrinter, wait_until: Wait
) -> None:
    sent = [case_label(f"C{i}", product="Tea", lot="L1", count=6) for i in range(5)]
    sent.append(pallet_label(SSCC, product="Tea", lot="L1", cases=5))
    for zpl in sent:
        printer.print_label(zpl)
    wait_until(lambda: len(zpl_sim.received()) == len(sent))
    assert zpl_sim.received() == sent


def test_printed_labels_decode_to_what_was_sent(
    zpl_sim: SimZplPrinter, printer: ZplPrinter, wait_until: Wait
) -> None:
    code = "https://id.example.com/01/09506000134352/21/Z9"
    printer.print_label(case_label(code, product="Tea", lot="L1", count=6))
    printer.print_label(pallet_label(SSCC, product="Tea", lot="L1", cases=5))
    wait_until(lambda: len(zpl_sim.received()) == 2)
    case, pallet = zpl_sim.pop_label(), zpl_sim.pop_label()
    assert case is not None and pallet is not None
    assert [b.text for b in zxingcpp.read_barcodes(zpl_sim.render(case))] == [code]
    texts = {b.format: b.text for b in zxingcpp.read_barcodes(zpl_sim.render(pallet))}
    assert texts[zxingcpp.BarcodeFormat.Code128] == f"(00){SSCC}"


def test_print_label_refuses_a_fragment(printer: ZplPrinter) -> None:
    with pytest.raises(ValueError, match="\\^XA"):
        printer.print_label("^FO1,1^FDx^FS")


def test_status_ready(printer: ZplPrinter) -> None:
    status = printer.status()
    assert status.ready and status.faults == () and status.labels_remaining == 0


@pytest.mark.parametrize(
    ("fault", "attribute", "name"),
    [
        ("paper_out", "paper_out", "paper out"),
        ("ribbon_out", "ribbon_out", "ribbon out"),
        ("head_open", "head_open", "head open"),
        ("paused", "paused", "paused"),
    ],
)
def test_each_fault_is_surfaced(
    zpl_sim: SimZplPrinter, printer: ZplPrinter, fault: str, attribute: str, name: str
) -> None:
    zpl_sim.set_fault(**{fault: True})
    status = printer.status()
    assert not status.ready and getattr(status, attribute) and status.faults == (name,)
    with pytest.raises(DeviceFault, match=name) as caught:
        printer.ensure_ready()
    assert caught.value.device == "case-labeler" and caught.value.port == zpl_sim.url
    zpl_sim.set_fault(**{fault: False})
    assert printer.ensure_ready().ready


def test_labels_wait_in_the_printer_while_paused(
    zpl_sim: SimZplPrinter, printer: ZplPrinter, wait_until: Wait
) -> None:
    zpl_sim.set_fault(paused=True)
    printer.print_label(case_label("C1", product="P", lot="L", count=1))
    wait_until(lambda: len(zpl_sim.received()) == 1)
    assert printer.status().labels_remaining == 1 and zpl_sim.pop_label() is None
    zpl_sim.set_fault(paused=False)
    assert zpl_sim.pop_label() is not None and printer.status().labels_remaining == 0


def test_peer_closing_mid_answer_is_a_connection_error(
    zpl_sim: SimZplPrinter, printer: ZplPrinter
) -> None:
    zpl_sim.set_behavior(drop_mid_answer=True)
    with pytest.raises(DriverConnectionError, match="mid-answer") as caught:
        printer.status()
    assert caught.value.device == "case-labeler" and caught.value.port == zpl_sim.url
    zpl_sim.set_behavior(drop_mid_answer=False)
    assert printer.status().ready  # the next call reconnects


def test_garbage_answer_is_a_protocol_error_naming_device_and_port(
    zpl_sim: SimZplPrinter, printer: ZplPrinter
) -> None:
    zpl_sim.set_behavior(garbage=True)
    start = time.monotonic()
    with pytest.raises(DriverProtocolError) as caught:
        printer.status()
    assert time.monotonic() - start < TIMEOUT_S  # detected at once, not at the timeout
    assert "case-labeler" in str(caught.value) and zpl_sim.url in str(caught.value)
    assert "ERR" in str(caught.value)


@pytest.mark.parametrize("behavior", [{"silent": True}, {"answer_delay_s": 3.0}])
def test_silent_or_slow_printer_times_out_within_the_timeout(
    zpl_sim: SimZplPrinter, printer: ZplPrinter, behavior: dict[str, object]
) -> None:
    zpl_sim.set_behavior(**behavior)
    start = time.monotonic()
    with pytest.raises(DriverTimeout, match="no ~HS answer") as caught:
        printer.status()
    elapsed = time.monotonic() - start
    assert TIMEOUT_S * 0.9 <= elapsed < TIMEOUT_S + 0.3
    assert caught.value.port == zpl_sim.url
    zpl_sim.set_behavior(silent=False, answer_delay_s=0.0)
    assert printer.status().ready  # no stale late answer confuses the next query


def test_silent_peer_that_accepts_but_never_reads_or_answers() -> None:
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(1)
    url = f"tcp://127.0.0.1:{listener.getsockname()[1]}"
    try:
        with ZplPrinter(url, name="mute", timeout_s=0.2) as driver:
            start = time.monotonic()
            with pytest.raises(DriverTimeout):
                driver.status()
            assert time.monotonic() - start < 0.5
    finally:
        listener.close()


def test_reconnects_after_the_simulator_restarts(
    zpl_sim: SimZplPrinter, printer: ZplPrinter, wait_until: Wait
) -> None:
    assert printer.status().ready
    zpl_sim.stop()
    with pytest.raises(DriverConnectionError) as caught:
        printer.status()
    assert caught.value.port == zpl_sim.url
    zpl_sim.start()
    assert printer.status().ready
    printer.print_label(case_label("AFTER", product="P", lot="L", count=1))
    wait_until(lambda: any("AFTER" in z for z in zpl_sim.received()))


def test_print_after_the_printer_dropped_the_link_reconnects_first(
    zpl_sim: SimZplPrinter, printer: ZplPrinter, wait_until: Wait
) -> None:
    assert printer.status().ready
    zpl_sim.drop_connections()
    time.sleep(0.05)  # let the FIN reach our socket, as it would in the field
    printer.print_label(case_label("AGAIN", product="P", lot="L", count=1))
    wait_until(lambda: any("AGAIN" in z for z in zpl_sim.received()))


def test_connect_to_nothing_names_device_and_port() -> None:
    probe = socket.socket()
    probe.bind(("127.0.0.1", 0))
    url = f"tcp://127.0.0.1:{probe.getsockname()[1]}"
    probe.close()
    with pytest.raises(DriverConnectionError, match="cannot connect") as caught:
        open_label_printer(url, name="pallet-labeler", timeout_s=0.3)
    assert caught.value.device == "pallet-labeler" and caught.value.port == url


def test_concurrent_print_and_status_do_not_interleave(
    zpl_sim: SimZplPrinter, printer: ZplPrinter, wait_until: Wait
) -> None:
    sent = [case_label(f"T{i}", product="P", lot="L", count=1) for i in range(20)]
    errors: list[BaseException] = []

    def poll() -> None:
        try:
            for _ in range(20):
                printer.status()
        except BaseException as exc:  # surfaced below
            errors.append(exc)

    poller = threading.Thread(target=poll)
    poller.start()
    for zpl in sent:
        printer.print_label(zpl)
    poller.join(timeout=5)
    assert not errors
    wait_until(lambda: len(zpl_sim.received()) == len(sent))
    assert zpl_sim.received() == sent


def test_serial_over_a_pty(wait_until: Wait) -> None:
    with SimZplSerialPrinter() as sim:
        driver = open_label_printer(sim.url, name="serial-labeler", timeout_s=TIMEOUT_S)
        try:
            zpl = case_label("SERIAL-1", product="P", lot="L", count=1)
            driver.print_label(zpl)
            sim.set_fault(head_open=True)
            wait_until(lambda: sim.received() == [zpl])
            assert driver.status().head_open
            sim.set_behavior(garbage=True)
            with pytest.raises(DriverProtocolError, match=sim.url):
                driver.status()
            sim.set_behavior(garbage=False, silent=True)
            start = time.monotonic()
            with pytest.raises(DriverTimeout, match="serial-labeler"):
                driver.status()
            assert time.monotonic() - start < TIMEOUT_S + 0.3
            sim.set_behavior(silent=False)
            sim.set_fault(head_open=False)
            assert driver.status().ready
        finally:
            driver.close()


def test_designer_settings_format_prints_nothing_and_pq_prints_copies(
    zpl_sim: SimZplPrinter, printer: ZplPrinter, wait_until: Wait
) -> None:
    printer.print_label("^XA~TA000~JSN^LT0^MNW^MTT^PON^PMN^LH0,0^JMA^PR4,4~SD15^LRN^CI0^XZ")
    label = "^XA^FO20,20^A0N,30,30^FDtwice^FS^PQ2,0,1,Y^XZ"
    printer.print_label(label)
    wait_until(lambda: zpl_sim.received() == [label])
    assert len(zpl_sim.model.settings()) == 1
    assert [zpl_sim.pop_label(), zpl_sim.pop_label(), zpl_sim.pop_label()] == [label, label, None]


def test_firmware_silent_during_a_fault_times_out_with_a_hint(
    zpl_sim: SimZplPrinter, printer: ZplPrinter
) -> None:
    zpl_sim.set_behavior(silent_on_fault=True)
    assert printer.status().ready
    zpl_sim.set_fault(ribbon_out=True)
    with pytest.raises(DriverTimeout, match="silent on ~HS during a fault"):
        printer.status()
