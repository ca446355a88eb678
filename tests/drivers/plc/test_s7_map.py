"""S7 addresses and the S7 map: a table of good and bad addresses, map validation, URLs."""

from __future__ import annotations

import pytest

from drivers.plc.layout import Bit, Word
from drivers.plc.s7.addresses import S7Bit, S7Map, S7Word, parse_s7_address
from drivers.plc.s7.driver import parse_s7_url


@pytest.mark.parametrize(
    ("text", "want"),
    [
        ("DB10.DBW0", S7Word(10, 0)),
        ("DB10.DBW20", S7Word(10, 20)),
        ("db1.dbw65534", S7Word(1, 65534)),
        (" DB10 . DBW 4 ", S7Word(10, 4)),
        ("DB10.DBX4.1", S7Bit(10, 4, 1)),
        ("DB65535.DBX0.7", S7Bit(65535, 0, 7)),
        ("db2.dbx80.0", S7Bit(2, 80, 0)),
    ],
)
def test_good_addresses(text: str, want: S7Word | S7Bit) -> None:
    assert parse_s7_address(text) == want


@pytest.mark.parametrize(
    ("text", "error"),
    [
        ("DB10.DBW3", "a word must start at an even byte (DBW2 or DBW4)"),
        ("DB10.DBX4.8", "bit 8 out of 0..7"),
        ("DB0.DBW0", "DB number 0 out of 1..65535"),
        ("DB70000.DBW0", "DB number 70000 out of 1..65535"),
        ("DB10.DBW65536", "byte offset 65536 out of 0..65534"),
        ("DB10.DBB4", "DBB is a byte; the line signals are 16-bit words (DBW) and bits (DBX)"),
        ("DB10.DBD4", "DBD is a double word"),
        ("MW10", "not a data-block address; write DB<n>.DBW<byte>"),
        ("M4.1", "not a data-block address"),
        ("Q0.0", "not a data-block address"),
        ("DB10.DBX4", "not a data-block address"),
        ("DB10DBW0", "not a data-block address"),
        ("", "not a data-block address"),
    ],
)
def test_bad_addresses_say_what_to_write(text: str, error: str) -> None:
    with pytest.raises(ValueError) as info:
        parse_s7_address(text, "stack_light")
    assert error in str(info.value)
    assert f"s7 map: stack_light={text!r}" in str(info.value)


def test_default_map_polls_in_one_read_and_rejects_in_one_write() -> None:
    m = S7Map().layout
    assert m.trigger_counter == Word("DB10", 0) and m.trigger_ring == Word("DB10", 3)
    assert m.poll_span == (0, 19)  # DBW0..DBW37: counter, heartbeat, rejects done, 16 slots
    assert m.reject_block
    assert m.line_stop_bit == Bit("DB10", 640)


def test_from_dict_builds_and_refuses_unknown_keys() -> None:
    m = S7Map.from_dict({"trigger_ring_len": 32, "station_heartbeat": "DB10.DBW100",
                         "stack_light": "DB10.DBW102", "reject_write_ptr": "DB10.DBW104",
                         "reject_ring": "DB10.DBW106", "reject_bit": "DB11.DBX0.0",
                         "case_result": "none", "cases_placed": -1})  # fmt: skip
    assert m.layout.poll_span == (0, 35)
    assert m.layout.reject_bit == Bit("DB11", 0) and m.layout.case_result is None
    with pytest.raises(ValueError, match=r"unknown key\(s\) \['trigger_rnig'\]"):
        S7Map.from_dict({"trigger_rnig": "DB10.DBW0"})


@pytest.mark.parametrize(
    ("data", "error"),
    [
        ({"stack_light": "DB10.DBW10"}, "stack_light and trigger_ring share DB10.DBW10"),
        ({"line_stop_bit": "DB10.DBX43.2"}, "line_stop_bit and stack_light share DB10.DBW42"),
        ({"stack_light": "DB10.DBX42.0"}, "stack_light='DB10.DBX42.0' must be a word"),
        ({"line_stop_bit": "DB10.DBW90"}, "line_stop_bit='DB10.DBW90' must be a bit"),
        ({"trigger_ring": "DB11.DBW0"}, "trigger_counter and trigger_ring must be in one area"),
        ({"trigger_ring": "DB10.DBW400"}, "within 100 words so one read returns both"),
        ({"trigger_ring_len": 10}, "trigger_ring_len=10 must be 1, 2, 4, ... 64"),
        ({"line_stop_bit": "none"}, "set exactly one of line_stop_bit, line_stop_word"),
        ({"line_stop_word": "DB10.DBW90", "line_stop_bit": "DB10.DBX92.0"}, "exactly one"),
        ({"case_result": "DB10.DBW84"}, "cases_placed and case_result share DB10.DBW86"),
    ],
)
def test_bad_maps_are_refused_naming_the_key(data: dict, error: str) -> None:
    with pytest.raises(ValueError) as info:
        S7Map.from_dict(data)
    assert error in str(info.value) and str(info.value).startswith("s7 map: ")


def test_bits_may_share_a_byte_and_a_line_stop_word_replaces_the_bit() -> None:
    m = S7Map.from_dict({"reject_bit": "DB10.DBX80.1"}).layout
    assert (m.reject_bit, m.line_stop_bit) == (Bit("DB10", 641), Bit("DB10", 640))
    m = S7Map.from_dict({"line_stop_word": "DB10.DBW90"}).layout
    assert m.line_stop_bit is None and m.line_stop_word == Word("DB10", 45)


def test_urls() -> None:
    s = parse_s7_url("s7://192.168.0.10")
    assert (s.host, s.port, s.rack, s.slot) == ("192.168.0.10", 102, 0, 1)
    s = parse_s7_url("s7://plc:1102?rack=0&slot=2")
    assert (s.port, s.slot) == (1102, 2)
    for bad, error in [
        ("s7://", "expected s7://host"),
        ("modbus-tcp://plc", "expected s7://host"),
        ("s7://plc?slot=x", "rack and slot are numbers"),
        ("s7://plc?slot=40", "slot 0..31"),
        ("s7://plc?tsap=1", "unknown option(s) ['tsap']"),
    ]:
        with pytest.raises(ValueError) as info:
            parse_s7_url(bad)
        assert error in str(info.value)
