"""The fixed-reader driver against SimReader over real TCP sockets on 127.0.0.1."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable

import pytest

from drivers.errors import DeviceFault, DriverConnectionError, DriverTimeout
from drivers.reader import CodeReader, ReadResult, UnreadableMessage, open_reader
from drivers.reader.sim import SimReader

STX, ETX = "\x02", "\x03"

VARIANTS = [
    # (prefix, suffix, separator, noread)
    ("", "\r\n", ";", "NOREAD"),
    ("", "\r", ",", "NOREAD"),
    ("", "\n", "|", "NoRead"),
    (STX, ETX, ";", "NOREAD"),
    (STX, "\r\n", ";", "ERROR"),
    ("[", "]\r\n", "||", "NR"),
]


@pytest.mark.parametrize(("prefix", "suffix", "separator", "noread"), VARIANTS)
def test_codes_and_noread_for_each_framing(
    prefix: str, suffix: str, separator: str, noread: str
) -> None:
    kw = {"prefix": prefix, "suffix": suffix, "separator": separator, "noread": noread}
    with SimReader(**kw) as sim, open_reader(sim.url, timeout_s=1.0, **kw) as reader:
        assert sim.wait_for_client()
        sim.read(["0104012345678901", "21ABC"])
        sim.read([])
        sim.read(["ONE"])
        first = reader.read()
        assert first.codes == ("0104012345678901", "21ABC") and not first.noread
        assert first.raw == f"{prefix}0104012345678901{separator}21ABC{suffix}".encode()
        assert reader.read() == ReadResult((), True, f"{prefix}{noread}{suffix}".encode())
        assert reader.read().codes == ("ONE",)


def test_empty_noread_string_makes_an_empty_message_the_noread() -> None:
    with SimReader(noread="") as sim, open_reader(sim.url, noread="") as reader:
        assert sim.wait_for_client()
        sim.read([])
        assert reader.read() == ReadResult((), True, b"\r\n")


def test_partial_layer_reports_codes_and_noread() -> None:
    with SimReader() as sim, open_reader(sim.url) as reader:
        assert sim.wait_for_client()
        sim.read(["A", "NOREAD", "C"])
        result = reader.read()
        assert result.codes == ("A", "C") and result.noread


@pytest.mark.parametrize(
    ("dialect", "trigger_command", "wire"),
    [
        ("keyence", None, b"LON\r"),
        ("cognex", None, b"||>TRIGGER ON\r\n"),
        ("generic", b"start", b"start"),
    ],
)
def test_software_trigger_bytes_reach_the_reader(
    dialect: str, trigger_command: bytes | None, wire: bytes
) -> None:
    kw = {"dialect": dialect, "trigger_command": trigger_command}
    with SimReader(**kw) as sim, open_reader(sim.url, **kw) as reader:
        sim.read(["CODE1"])
        reader.trigger()
        assert reader.read().codes == ("CODE1",)
        reader.trigger()  # nothing staged: the reader saw nothing and says so
        assert reader.read().noread
        assert sim.triggers() == 2
        assert sim.received() == wire * 2


def test_hardware_triggered_reader_sends_nothing_on_trigger() -> None:
    with SimReader() as sim, open_reader(sim.url) as reader:
        assert sim.wait_for_client()
        reader.trigger()
        sim.read(["X"])
        assert reader.read().codes == ("X",)
        assert sim.received() == b"" and sim.triggers() == 0


def test_keyence_command_echo_is_skipped_and_error_reply_is_a_fault() -> None:
    kw = {"dialect": "keyence", "suffix": "\r", "noread": "ERROR"}
    with SimReader(ack=b"OK,LON\r", **kw) as sim, open_reader(sim.url, **kw) as reader:
        sim.read(["K1"])
        reader.trigger()
        assert reader.read().codes == ("K1",)
        assert reader.stats.echoes == 1
        sim.send_raw(b"ER,LON,02\r")
        with pytest.raises(DeviceFault, match="ER,LON,02") as err:
            reader.read()
        assert err.value.device == "reader" and err.value.port == sim.url


def test_trigger_drops_a_late_result_of_the_previous_trigger(
    wait_until: Callable[..., bool],
) -> None:
    kw = {"dialect": "cognex"}
    with SimReader(**kw) as sim, open_reader(sim.url, **kw) as reader:
        sim.read(["LATE"])
        reader.trigger()  # the caller gave up on this one before reading it
        assert wait_until(lambda: len(sim.sent()) == 1)
        sim.read(["NOW"])
        reader.trigger()
        assert reader.read().codes == ("NOW",)
        assert reader.stats.stale_dropped == 1


def test_flush_drops_a_late_result_on_a_hardware_triggered_reader(
    wait_until: Callable[..., bool],
) -> None:
    with SimReader() as sim, open_reader(sim.url) as reader:
        assert sim.wait_for_client()
        with pytest.raises(DriverTimeout):
            reader.read(timeout_s=0.05)
        sim.read(["LATE"])  # the previous item's result, after its read gave up
        assert wait_until(lambda: len(sim.sent()) == 1)
        assert reader.flush() == 1
        sim.read(["NEXT"])
        assert reader.read().codes == ("NEXT",)


def test_message_split_over_segments() -> None:
    codes = [f"0104{i:012d}21SER{i}" for i in range(6)]
    with SimReader() as sim, open_reader(sim.url) as reader:
        assert sim.wait_for_client()
        sim.split_next(parts=7, gap_s=0.003)
        sim.read(codes)
        assert reader.read().codes == tuple(codes)


def test_messages_merged_into_one_segment() -> None:
    with (
        SimReader(prefix=STX, suffix=ETX) as sim,
        open_reader(sim.url, prefix=STX, suffix=ETX) as reader,
    ):
        assert sim.wait_for_client()
        sim.merge_next(3)
        for code in ("A", "B", "C"):
            sim.read([code])
        assert [reader.read().codes for _ in range(3)] == [("A",), ("B",), ("C",)]


def test_garbage_between_messages_is_skipped_with_a_prefix() -> None:
    with (
        SimReader(prefix=STX, suffix=ETX) as sim,
        open_reader(sim.url, prefix=STX, suffix=ETX) as reader,
    ):
        assert sim.wait_for_client()
        sim.send_raw(b"\xff\x00line noise")
        sim.read(["GOOD"])
        assert reader.read().codes == ("GOOD",)
        assert reader.stats.garbage_bytes == len(b"\xff\x00line noise")


def test_undecodable_line_without_prefix_is_an_error_keeping_raw_bytes() -> None:
    with SimReader() as sim, open_reader(sim.url) as reader:
        assert sim.wait_for_client()
        sim.send_raw(b"\xff\xfe\r\n")
        sim.read(["NEXT"])
        with pytest.raises(UnreadableMessage, match="not valid utf-8") as err:
            reader.read()
        assert err.value.raw == b"\xff\xfe\r\n"
        assert err.value.device == "reader" and sim.url in str(err.value)
        assert reader.read().codes == ("NEXT",)


def test_truncated_message_is_reported_then_the_next_one_read() -> None:
    with (
        SimReader(prefix=STX, suffix=ETX) as sim,
        open_reader(sim.url, prefix=STX, suffix=ETX) as reader,
    ):
        assert sim.wait_for_client()
        sim.send_raw(b"\x02HALF-A-CO")
        sim.read(["FULL"])
        with pytest.raises(UnreadableMessage, match="truncated") as err:
            reader.read()
        assert err.value.raw == b"\x02HALF-A-CO"
        assert reader.read().codes == ("FULL",)


def test_over_long_line_is_cut_and_reported() -> None:
    with SimReader() as sim, open_reader(sim.url, max_len=64) as reader:
        assert sim.wait_for_client()
        sim.send_raw(b"Z" * 500 + b"\r\n")
        sim.read(["OK"])
        with pytest.raises(UnreadableMessage, match="no suffix"):
            reader.read()
        assert reader.read().codes == ("OK",)


def test_peer_closes_mid_message_then_driver_reconnects() -> None:
    kw = {"trigger_command": b"T\r\n"}
    with SimReader(**kw) as sim, open_reader(sim.url, **kw) as reader:
        sim.drop_mid_next()
        sim.read(["ABCDEFGHIJKL"])
        reader.trigger()
        with pytest.raises(DriverConnectionError, match="mid-message") as err:
            reader.read()
        assert err.value.port == sim.url
        sim.read(["AFTER"])
        reader.trigger()  # reconnects first
        assert reader.read().codes == ("AFTER",)
        assert reader.stats.connects == 2


def test_silence_times_out_within_the_timeout_naming_device_and_port() -> None:
    kw = {"dialect": "keyence"}
    with SimReader(**kw) as sim, open_reader(sim.url, name="case-reader", **kw) as reader:
        sim.silence()
        sim.read(["NEVER-SENT"])
        reader.trigger()
        start = time.monotonic()
        with pytest.raises(DriverTimeout) as err:
            reader.read(timeout_s=0.3)
        elapsed = time.monotonic() - start
        assert 0.29 <= elapsed < 0.65
        assert err.value.device == "case-reader" and err.value.port == sim.url
        assert "case-reader" in str(err.value) and sim.url in str(err.value)
        assert sim.triggers() == 1


def test_timeout_hint_shows_bytes_waiting_for_a_suffix_that_never_comes() -> None:
    with SimReader(suffix="\r") as sim, open_reader(sim.url, suffix="\r\n") as reader:
        assert sim.wait_for_client()
        sim.read(["ABC"])
        with pytest.raises(DriverTimeout, match="unfinished message held"):
            reader.read(timeout_s=0.2)


def test_reconnect_after_the_simulator_restarts_on_the_same_port() -> None:
    kw = {"dialect": "cognex"}
    sim = SimReader(**kw)
    port = sim.port
    with open_reader(sim.url, **kw) as reader:
        try:
            sim.read(["BEFORE"])
            reader.trigger()
            assert reader.read().codes == ("BEFORE",)
        finally:
            sim.close()
        with pytest.raises(DriverConnectionError):
            reader.read(timeout_s=1.0)
        with SimReader(port=port, **kw) as again:
            again.read(["AFTER"])
            reader.trigger()
            assert reader.read().codes == ("AFTER",)
            assert reader.stats.connects == 2


def test_connection_refused_names_device_and_port() -> None:
    probe = socket.socket()
    probe.bind(("127.0.0.1", 0))
    url = f"tcp://127.0.0.1:{probe.getsockname()[1]}"
    probe.close()
    reader = open_reader(url, name="layer-reader", timeout_s=0.5)
    with pytest.raises(DriverConnectionError, match="cannot connect") as err:
        reader.connect()
    assert err.value.device == "layer-reader" and err.value.port == url
    reader.close()


def test_unknown_dialect_is_refused_with_the_known_ones() -> None:
    with pytest.raises(ValueError, match="cognex"):
        open_reader("tcp://127.0.0.1:1", dialect="datalogic")


def test_driver_satisfies_the_protocol_and_world_hooks_are_thread_safe() -> None:
    with SimReader() as sim, open_reader(sim.url) as reader:
        assert isinstance(reader, CodeReader)
        assert sim.wait_for_client()

        def world(worker: int) -> None:
            for i in range(50):
                sim.read([f"W{worker}-{i}"])

        threads = [threading.Thread(target=world, args=(w,)) for w in range(4)]
        for t in threads:
            t.start()
        got = [reader.read().codes[0] for _ in range(200)]
        for t in threads:
            t.join()
        assert sorted(got) == sorted(f"W{w}-{i}" for w in range(4) for i in range(50))
        for w in range(4):  # each world thread's results stay in its own order
            mine = [c for c in got if c.startswith(f"W{w}-")]
            assert mine == [f"W{w}-{i}" for i in range(50)]


def test_reader_set_to_gb18030_reads_chinese_text() -> None:
    kw = {"encoding": "gb18030", "separator": "，"}
    with SimReader(**kw) as sim, open_reader(sim.url, **kw) as reader:
        assert sim.wait_for_client()
        sim.read(["批号A1", "追溯码B2"])
        result = reader.read()
        assert result.codes == ("批号A1", "追溯码B2")
        assert result.raw == "批号A1，追溯码B2\r\n".encode("gb18030")
