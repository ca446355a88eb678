"""The serial handheld scanner driver against SimScanner over a pseudo-terminal and TCP."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

import pytest

from drivers.errors import DriverConnectionError, DriverError
from drivers.scanner import HandheldScanner, UnreadableScan, open_scanner
from drivers.scanner.sim import SimScanner

CODES = ["0104012345678901", "http://c.example/01/04012345678901/21/ABC?x=1", "\x1d0104\x1d21Z"]


@pytest.mark.parametrize("suffix", ["CR", "LF", "CRLF", "TAB", "\r", "\r\n"])
def test_suffix_variants_over_pty(suffix: str) -> None:
    with SimScanner(suffix=suffix) as sim, open_scanner(sim.url, suffix=suffix) as scanner:
        assert isinstance(scanner, HandheldScanner)
        for code in CODES:
            sim.scan(code)
        assert [scanner.read() for _ in CODES] == CODES


@pytest.mark.parametrize(("sent", "expected"), [("CRLF", "CR"), ("CRLF", "LF")])
def test_crlf_scanner_read_with_cr_or_lf_setting(sent: str, expected: str) -> None:
    with SimScanner(suffix=sent) as sim, open_scanner(sim.url, suffix=expected) as scanner:
        sim.scan("A1")
        sim.scan("B2")
        assert [scanner.read(), scanner.read()] == ["A1", "B2"]


@pytest.mark.parametrize("encoding", ["utf-8", "gb18030"])
def test_chinese_codes_in_each_encoding(encoding: str) -> None:
    code = "批号2024-追溯码:A1"
    with (
        SimScanner(encoding=encoding) as sim,
        open_scanner(sim.url, encoding=encoding) as scanner,
    ):
        sent = sim.scan(code)
        assert scanner.read() == code
    assert sent == (code + "\r").encode(encoding)


def test_undecodable_scan_is_an_error_keeping_raw_then_scanning_goes_on() -> None:
    with SimScanner() as sim, open_scanner(sim.url, name="qa-scanner") as scanner:
        sim.send_raw("批号".encode("gb18030") + b"\r")  # a GBK scanner read as UTF-8
        sim.scan("NEXT")
        with pytest.raises(UnreadableScan, match="not valid utf-8") as err:
            scanner.read()
        assert err.value.raw == "批号".encode("gb18030") + b"\r"
        assert err.value.device == "qa-scanner" and err.value.port == sim.url
        assert scanner.read() == "NEXT"


def test_scan_split_over_several_usb_packets() -> None:
    with SimScanner() as sim, open_scanner(sim.url) as scanner:
        sim.scan_split("0104012345678901215ABCDEF", parts=6)
        assert scanner.read() == "0104012345678901215ABCDEF"


def test_over_long_scan_is_reported_and_the_next_scan_is_clean() -> None:
    with SimScanner() as sim, open_scanner(sim.url) as scanner:
        sim.send_raw(b"A" * 6000 + b"\r")
        sim.scan("CLEAN")
        with pytest.raises(UnreadableScan, match="no suffix") as err:
            scanner.read()
        assert err.value.raw == b"A" * 4096
        assert scanner.read() == "CLEAN"


def test_tcp_scanner_dropped_mid_scan_reports_the_partial_bytes() -> None:
    with SimScanner(transport="tcp") as sim, open_scanner(sim.url) as scanner:
        assert sim.wait_for_client()
        sim.send_raw(b"01040123")
        sim.drop()
        with pytest.raises(DriverConnectionError, match="mid-scan after b'01040123'"):
            scanner.read()


def test_read_returns_none_on_timeout_within_the_timeout() -> None:
    with SimScanner() as sim, open_scanner(sim.url) as scanner:
        start = time.monotonic()
        assert scanner.read(timeout_s=0.2) is None
        assert 0.19 <= time.monotonic() - start < 0.55


def test_callback_delivery_and_clean_shutdown(wait_until: Callable[..., bool]) -> None:
    got: list[tuple[str, str]] = []
    with SimScanner() as sim:
        scanner = open_scanner(sim.url)
        scanner.on_scan(lambda code: got.append((code, threading.current_thread().name)))
        scanner.connect()
        for i in range(50):
            sim.scan(f"S{i:03d}")
        assert wait_until(lambda: len(got) == 50)
        assert [code for code, _ in got] == [f"S{i:03d}" for i in range(50)]
        assert {thread for _, thread in got} == {"scanner-scanner"}
        assert scanner.read(timeout_s=0.0) is None  # scans went to the callback, not the queue
        start = time.monotonic()
        scanner.close()
        assert time.monotonic() - start < 0.5
        assert not any(t.name == "scanner-scanner" for t in threading.enumerate())
        scanner.close()  # twice is fine


def test_a_failing_callback_does_not_stop_delivery(wait_until: Callable[..., bool]) -> None:
    got: list[str] = []

    def fussy(code: str) -> None:
        if code == "BAD":
            raise RuntimeError("callback bug")
        got.append(code)

    with SimScanner() as sim, open_scanner(sim.url) as scanner:
        scanner.on_scan(fussy)
        for code in ("A", "BAD", "B"):
            sim.scan(code)
        assert wait_until(lambda: got == ["A", "B"])


def test_errors_go_to_the_error_callback(wait_until: Callable[..., bool]) -> None:
    errors: list[DriverError] = []
    with SimScanner() as sim, open_scanner(sim.url) as scanner:
        scanner.on_error(errors.append)
        sim.send_raw(b"\xff\r")
        sim.scan("OK")
        assert scanner.read() == "OK"
        assert wait_until(lambda: len(errors) == 1)
        assert isinstance(errors[0], UnreadableScan) and errors[0].raw == b"\xff\r"


def test_queue_keeps_the_newest_scans_when_nobody_reads(wait_until: Callable[..., bool]) -> None:
    with SimScanner() as sim, open_scanner(sim.url) as scanner:  # queue of 1000
        for i in range(1005):
            sim.scan(str(i))
        assert wait_until(lambda: scanner.scans == 1005)
        assert scanner.dropped == 5
        assert scanner.read() == "5"


def test_unplugged_pty_scanner_reports_the_loss() -> None:
    sim = SimScanner()
    with open_scanner(sim.url, name="hand-1") as scanner:
        sim.scan("BEFORE")
        assert scanner.read() == "BEFORE"
        sim.close()
        with pytest.raises(DriverConnectionError) as err:
            scanner.read(timeout_s=1.0)
        assert err.value.device == "hand-1" and err.value.port == sim.url
        assert not scanner.connected


def test_tcp_scanner_reconnects_after_the_simulator_restarts() -> None:
    sim = SimScanner(transport="tcp")
    port = sim.port
    scanner = open_scanner(sim.url)
    scanner.reconnect_s = 0.05
    with scanner:
        try:
            assert sim.wait_for_client()
            sim.scan("BEFORE")
            assert scanner.read() == "BEFORE"
        finally:
            sim.close()
        with pytest.raises(DriverConnectionError):
            scanner.read(timeout_s=1.0)
        with SimScanner(transport="tcp", port=port) as again:
            assert again.wait_for_client(2.0)
            again.scan("AFTER")
            assert _next_scan(scanner) == "AFTER"


def _next_scan(scanner: HandheldScanner, attempts: int = 5) -> str | None:
    # A retry that raced the old simulator's shutdown may queue one more connection error.
    for _ in range(attempts):
        try:
            return scanner.read(timeout_s=1.0)
        except DriverConnectionError:
            continue
    return None


def test_missing_port_is_a_connection_error_naming_it() -> None:
    scanner = open_scanner("/dev/ttyNOPE0", name="hand-2")
    with pytest.raises(DriverConnectionError, match="cannot open") as err:
        scanner.connect()
    assert err.value.port == "/dev/ttyNOPE0"
    scanner.close()


def test_unknown_encoding_fails_at_construction() -> None:
    with pytest.raises(LookupError):
        open_scanner("loop://", encoding="klingon")
