"""The fixed-reader driver over serial URLs: a pseudo-terminal, pyserial socket:// and loop://."""

from __future__ import annotations

import time

import pytest

from drivers.errors import DriverConnectionError, DriverTimeout
from drivers.reader import UnreadableMessage, open_reader
from drivers.reader.sim import SimReader


@pytest.mark.parametrize(
    ("prefix", "suffix", "separator"),
    [("", "\r", ";"), ("\x02", "\x03", ","), ("", "\r\n", "\t")],
)
def test_pty_framing_variants(prefix: str, suffix: str, separator: str) -> None:
    kw = {"prefix": prefix, "suffix": suffix, "separator": separator}
    with SimReader(transport="pty", **kw) as sim, open_reader(sim.url, **kw) as reader:
        sim.read(["A1", "B2", "C3"])
        sim.read([])
        assert reader.read().codes == ("A1", "B2", "C3")
        assert reader.read().noread


def test_pty_keyence_trigger_and_split_result() -> None:
    kw = {"dialect": "keyence", "suffix": "\r", "noread": "ERROR"}
    with (
        SimReader(transport="pty", **kw) as sim,
        open_reader(sim.url + "?baudrate=115200", **kw) as reader,
    ):
        sim.split_next(parts=5, gap_s=0.003)
        sim.read(["(01)04012345678901(21)XYZ"])
        reader.trigger()
        assert reader.read().codes == ("(01)04012345678901(21)XYZ",)
        reader.trigger()
        assert reader.read().noread
        assert sim.received() == b"LON\r" * 2


def test_pty_garbage_line_then_good_result() -> None:
    with SimReader(transport="pty") as sim, open_reader(sim.url) as reader:
        sim.send_raw(b"\x80\x81\r\n")
        sim.read(["OK"])
        with pytest.raises(UnreadableMessage) as err:
            reader.read()
        assert err.value.raw == b"\x80\x81\r\n"
        assert reader.read().codes == ("OK",)


def test_pty_silence_times_out_naming_the_port() -> None:
    with (
        SimReader(transport="pty", dialect="cognex") as sim,
        open_reader(sim.url, dialect="cognex", name="cap-reader") as reader,
    ):
        sim.silence()
        reader.trigger()
        start = time.monotonic()
        with pytest.raises(DriverTimeout) as err:
            reader.read(timeout_s=0.25)
        assert 0.24 <= time.monotonic() - start < 0.6
        assert err.value.port == sim.url and "cap-reader" in str(err.value)


def test_pty_device_unplugged_is_a_connection_error() -> None:
    sim = SimReader(transport="pty")
    with open_reader(sim.url) as reader:
        sim.read(["LAST"])
        assert reader.read().codes == ("LAST",)
        sim.close()
        with pytest.raises(DriverConnectionError) as err:
            reader.read(timeout_s=0.5)
        assert err.value.port == sim.url


def test_pyserial_socket_url_reaches_a_tcp_reader() -> None:
    with SimReader(dialect="cognex") as sim:
        url = f"socket://127.0.0.1:{sim.port}"
        with open_reader(url, dialect="cognex") as reader:
            sim.read(["VIA-PYSERIAL"])
            reader.trigger()
            assert reader.read().codes == ("VIA-PYSERIAL",)
            assert sim.received() == b"||>TRIGGER ON\r\n"


def test_loop_url_reads_back_what_the_trigger_wrote() -> None:
    with open_reader("loop://", trigger_command=b"LOOPED;BACK\r\n") as reader:
        reader.trigger()
        assert reader.read().codes == ("LOOPED", "BACK")


def test_unknown_url_option_is_refused() -> None:
    with pytest.raises(ValueError, match="baudrate"):
        open_reader("/dev/ttyUSB0?parity=E")
