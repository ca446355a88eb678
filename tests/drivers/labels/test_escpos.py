"""ESC/POS: the decoder on raw byte tables, and TicketPrinter against the ticket simulator."""

from __future__ import annotations

import socket
from collections.abc import Callable
from pathlib import Path

import pytest

from drivers.errors import DriverConnectionError
from drivers.labels.escpos.decode import EscposDecoder
from drivers.labels.escpos.printer import TicketPrinter, format_row
from drivers.labels.sim import SimTicketPrinter

Wait = Callable[..., None]
INIT, CUT = b"\x1b@", b"\x1dVA\x00"


def qr_bytes(content: bytes) -> bytes:
    store = b"1P0" + content
    return (
        b"\x1d(k\x04\x001A2\x00"
        + b"\x1d(k\x03\x001C\x06"
        + b"\x1d(k"
        + bytes([len(store) & 0xFF, len(store) >> 8])
        + store
        + b"\x1d(k\x03\x001Q0"
    )


@pytest.mark.parametrize(
    ("raw", "lines", "qr", "errors"),
    [
        (INIT + b"hello\nworld\n" + CUT, ["hello", "world"], [], []),
        (INIT + b"\x1b!\x10\x1bE\x01\x1ba\x01Title\n\x1bE\x00x\r\n" + CUT, ["Title", "x"], [], []),
        (INIT + b"a\tb\n\x1bd\x03" + CUT, ["a b"], [], []),
        (INIT + qr_bytes(b"https://x/1") + b"\n" + CUT, [""], ["https://x/1"], []),
        (INIT + b"\x1bt\x10caf\xe9\n" + CUT, ["café"], [], []),
        (b"no init\n" + CUT, ["no init"], [], ["ticket not started with ESC @"]),
        (INIT + b"\x1b\x7fzz\n" + CUT, ["zz"], [], ["unknown command"]),
        (INIT + b"\x1d(k\x03\x001Q0" + CUT, [], [], ["QR print before any QR data"]),
        (INIT + b"\x1d(k\x03\x001C\x40" + CUT, [], [], ["QR module size out of 1..16"]),
        (INIT + b"x\x07y\n" + CUT, ["xy"], [], ["stray control byte 0x07"]),
    ],
)
def test_decoder_table(raw: bytes, lines: list[str], qr: list[str], errors: list[str]) -> None:
    tickets = EscposDecoder().feed(raw)
    assert len(tickets) == 1
    ticket = tickets[0]
    assert ticket.lines == lines and ticket.qr_codes == qr and ticket.cut
    assert len(ticket.errors) == len(errors)
    for got, expected in zip(ticket.errors, errors, strict=True):
        assert expected in got


def test_decoder_waits_for_commands_split_across_chunks() -> None:
    raw = INIT + b"line\n" + qr_bytes(b"payload-123") + CUT + INIT + b"second\n" + CUT
    decoder = EscposDecoder()
    tickets = []
    for i in range(len(raw)):
        tickets += decoder.feed(raw[i : i + 1])
    assert [t.lines for t in tickets] == [["line"], ["second"]]
    assert tickets[0].qr_codes == ["payload-123"] and not tickets[0].errors


def test_decoder_keeps_an_uncut_ticket_pending() -> None:
    decoder = EscposDecoder()
    assert decoder.feed(INIT + b"half a tic") == []
    assert decoder.pending().lines == ["half a tic"] and not decoder.pending().cut


def test_format_row_fills_the_width_or_wraps() -> None:
    assert format_row("Lot", "L1", 10) == ["Lot     L1"]
    assert format_row("Product", "Green tea 500", 12) == ["Product", "Green tea 500"]


def test_batch_ticket_bytes_are_captured_and_check_out(
    ticket_sim: SimTicketPrinter, wait_until: Wait
) -> None:
    with TicketPrinter(ticket_sim.url, name="ticket-1", columns=32) as printer:
        printer.print_batch_ticket(
            "BATCH 2026-0042",
            [("Product", "Tea"), ("Lot", "L7"), ("Qty", "1200")],
            qr="https://id.example.com/b/42",
        )
        wait_until(lambda: len(ticket_sim.tickets()) == 1)
    lines = ticket_sim.tickets()[0]
    assert lines[0] == "BATCH 2026-0042"
    assert (
        "Product                      Tea" in lines and "Qty                         1200" in lines
    )
    detail = ticket_sim.ticket_details()[0]
    assert detail.initialized and detail.cut and detail.errors == []
    assert detail.qr_codes == ["https://id.example.com/b/42"]
    assert [c for c in detail.commands if c.startswith("GS ( k")] == [
        "GS ( k QR fn 65",
        "GS ( k QR fn 67",
        "GS ( k QR fn 69",
        "GS ( k QR fn 80",
        "GS ( k QR fn 81",
    ]
    raw = ticket_sim.raw_bytes()
    assert raw.startswith(INIT) and raw.endswith(b"\x1bd\x06\x1dV\x00")  # feed 6, full cut


def test_pallet_sheet(ticket_sim: SimTicketPrinter, wait_until: Wait) -> None:
    with TicketPrinter(ticket_sim.url, columns=40) as printer:
        printer.print_pallet_sheet("106141411234567897", product="Tea", lot="L7", cases=40)
        wait_until(lambda: len(ticket_sim.tickets()) == 1)
    detail = ticket_sim.ticket_details()[0]
    assert detail.lines[0] == "PALLET"
    assert any(
        line.startswith("SSCC") and line.endswith("106141411234567897") for line in detail.lines
    )
    assert any(line.startswith("Cases") and line.endswith("40") for line in detail.lines)
    assert detail.qr_codes == ["00106141411234567897"] and not detail.errors


def test_ticket_printer_reconnects_after_the_simulator_restarts(
    ticket_sim: SimTicketPrinter, wait_until: Wait
) -> None:
    with TicketPrinter(ticket_sim.url, name="ticket-1", timeout_s=0.5) as printer:
        printer.print_batch_ticket("ONE", [])
        wait_until(lambda: len(ticket_sim.tickets()) == 1)
        ticket_sim.stop()
        ticket_sim.start()
        printer.print_batch_ticket("TWO", [])
        wait_until(lambda: len(ticket_sim.tickets()) == 2)
    assert [t[0] for t in ticket_sim.tickets()] == ["ONE", "TWO"]


def test_ticket_printer_unreachable_names_device_and_port() -> None:
    probe = socket.socket()
    probe.bind(("127.0.0.1", 0))
    url = f"tcp://127.0.0.1:{probe.getsockname()[1]}"
    probe.close()
    printer = TicketPrinter(url, name="ticket-9", timeout_s=0.3)
    with pytest.raises(DriverConnectionError) as caught:
        printer.print_batch_ticket("X", [])
    assert caught.value.device == "ticket-9" and caught.value.port == url
    printer.close()


def test_file_connection_writes_the_same_bytes(tmp_path: Path) -> None:
    target = tmp_path / "ticket.bin"
    target.touch()
    with TicketPrinter(f"file://{target}") as printer:
        printer.print_batch_ticket("FILE", [("Lot", "L1")], qr="Q1")
    tickets = EscposDecoder().feed(target.read_bytes())
    assert tickets[0].lines[0] == "FILE" and tickets[0].qr_codes == ["Q1"]
