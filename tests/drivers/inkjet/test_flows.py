"""Driver against the simulator over TCP and a pty: job select, FIFO and SINGLE flows."""

from __future__ import annotations

import random
import threading
from collections.abc import Callable, Iterator

import pytest

from drivers.errors import DeviceFault, DriverError
from drivers.inkjet.base import InkjetPrinter, PrintMode
from drivers.inkjet.factory import open_inkjet
from drivers.inkjet.sim import SimInkjet

Confirm = Callable[..., list[str]]


@pytest.fixture(params=["tcp", "pty"])
def transport(request: pytest.FixtureRequest) -> str:
    """Run over a TCP socket (pyserial socket://) and over a pseudo-terminal (/dev/pts/N)."""
    return request.param


@pytest.fixture
def line(protocol: str, transport: str, request: pytest.FixtureRequest) -> Iterator[tuple]:
    """(sim, printer) in the mode given by the test's `mode` marker (default fifo)."""
    marker = request.node.get_closest_marker("mode")
    mode = marker.args[0] if marker else "fifo"
    print_end = not (marker and "counter" in marker.args)
    with SimInkjet(protocol, mode=mode, depth=4, transport=transport, print_end=print_end) as sim:
        p = open_inkjet(
            protocol, sim.url, depth=4, mode=mode, timeout_s=0.5, poll_counter=not print_end
        )
        p.connect()
        try:
            yield sim, p
        finally:
            p.close()


def test_connect_selects_job_and_clears_queue(line: tuple) -> None:
    sim, p = line
    assert sim.job == "LINESTATION"
    assert sim.queue == type(sim.queue)()
    p.select_job("OTHER")
    assert sim.job == "OTHER"
    assert p.status().print_count == 0


def test_unknown_job_is_device_fault(protocol: str) -> None:
    with SimInkjet(protocol, jobs=("CAPS",)) as sim:
        p = open_inkjet(protocol, sim.url, job="CAPS", timeout_s=0.5)
        with p:
            with pytest.raises(DeviceFault, match=r"NOPE.*unknown_job") as err:
                p.select_job("NOPE")
            assert err.value.port == sim.url
            assert sim.job == "CAPS"


def test_fifo_confirmations_in_order_and_depth_never_exceeded(
    line: tuple, confirm_n: Confirm
) -> None:
    sim, p = line
    for i in range(4):
        p.send(f"C{i}")
    with pytest.raises(DriverError, match="depth 4"):
        p.send("C4")
    assert list(sim.queue) == ["C0", "C1", "C2", "C3"]
    assert p.in_flight() == ["C0", "C1", "C2", "C3"]
    assert [sim.trigger() for _ in range(3)] == ["C0", "C1", "C2"]
    assert confirm_n(p, 3) == ["C0", "C1", "C2"]
    assert p.in_flight() == ["C3"]
    p.send("C4")
    assert sim.trigger() == "C3"
    assert sim.trigger() == "C4"
    assert confirm_n(p, 2) == ["C3", "C4"]
    assert p.in_flight() == []


def test_fifo_empty_trigger_prints_nothing(line: tuple) -> None:
    sim, p = line
    assert sim.trigger() is None
    assert p.confirmations(timeout_s=0.05) == []
    assert p.status().print_count == 0
    assert sim.printed == []


def test_fifo_random_run_keeps_depth_and_order(line: tuple, confirm_n: Confirm) -> None:
    sim, p = line
    rng = random.Random(7)
    sent: list[str] = []
    printed: list[str] = []
    confirmed: list[str] = []
    high = 0
    for i in range(200):
        if rng.random() < 0.55:
            try:
                p.send(f"R{i}")
                sent.append(f"R{i}")
            except DriverError:
                assert len(p.in_flight()) == p.depth
        else:
            text = sim.trigger()
            if text is not None:
                printed.append(text)
        high = max(high, len(sim.queue))
        confirmed += p.confirmations()
    confirmed += confirm_n(p, len(printed) - len(confirmed))
    assert high <= 4
    assert printed == sent[: len(printed)]
    assert confirmed == printed
    assert p.in_flight() == sent[len(printed) :]


@pytest.mark.mode("single")
def test_single_late_update_reprints_old_text(line: tuple, confirm_n: Confirm) -> None:
    sim, p = line
    assert p.mode is PrintMode.SINGLE and p.depth == 1
    p.send("A1")
    assert sim.field == "A1"
    with pytest.raises(DriverError, match="not printed yet"):
        p.send("A2")
    assert sim.trigger() == "A1"
    assert confirm_n(p, 1) == ["A1"]
    assert sim.trigger() == "A1"  # the update came late: the printer marks the old text again
    assert confirm_n(p, 1) == ["A1"]
    p.send("A2")
    assert p.in_flight() == ["A2"]
    assert sim.trigger() == "A2"
    assert confirm_n(p, 1) == ["A2"]
    assert p.in_flight() == []


@pytest.mark.mode("single", "counter")
def test_single_confirmed_by_polling_counter(line: tuple, confirm_n: Confirm) -> None:
    sim, p = line
    p.send("B1")
    assert sim.trigger() == "B1"
    assert confirm_n(p, 1) == ["B1"]
    assert sim.trigger() == "B1"
    p.send("B2")
    assert sim.trigger() == "B2"
    assert confirm_n(p, 2) == ["B1", "B2"]


@pytest.mark.mode("fifo", "counter")
def test_fifo_confirmed_by_polling_counter(line: tuple, confirm_n: Confirm) -> None:
    sim, p = line
    for t in ("F1", "F2", "F3"):
        p.send(t)
    sim.trigger()
    sim.trigger()
    assert confirm_n(p, 2) == ["F1", "F2"]
    assert p.in_flight() == ["F3"]


def test_clear_queue_drops_in_flight(line: tuple) -> None:
    sim, p = line
    p.send("Q1")
    p.send("Q2")
    p.clear_queue()
    assert p.in_flight() == []
    assert len(sim.queue) == 0
    assert sim.trigger() is None


def test_is_an_inkjet_printer(line: tuple) -> None:
    _, p = line
    printer: InkjetPrinter = p
    assert printer.name == "inkjet" and printer.depth == 4


def test_unknown_protocol_named() -> None:
    with pytest.raises(ValueError, match="unknown inkjet protocol 'nosuch'; known: binpacket"):
        open_inkjet("nosuch", "loop://")


@pytest.mark.mode("single")
def test_single_connect_blanks_a_stale_field(line: tuple) -> None:
    sim, p = line
    assert sim.field == ""
    assert sim.trigger() == ""  # a blank mark, not a code: nothing to confirm
    assert p.confirmations(timeout_s=0.05) == []
    assert p.status().print_count == 1


def test_photocell_on_its_own_thread(line: tuple, confirm_n: Confirm) -> None:
    """The world triggers at its own pace while the line keeps the queue topped up."""
    sim, p = line
    stop = threading.Event()
    high = [0]

    def photocell() -> None:
        while not stop.wait(0.001):
            high[0] = max(high[0], len(sim.queue))
            sim.trigger()

    sent, confirmed = [f"T{i:04d}" for i in range(150)], []
    worker = threading.Thread(target=photocell, name="sim-inkjet-photocell")
    worker.start()
    try:
        for text in sent:
            while len(p.in_flight()) >= p.depth:
                confirmed += p.confirmations(timeout_s=1.0)
            p.send(text)
        confirmed += confirm_n(p, len(sent) - len(confirmed), timeout_s=5.0)
    finally:
        stop.set()
        worker.join()
    assert confirmed == sent
    assert sim.printed == sent
    assert high[0] <= 4
