"""The MC protocol 3E binary codec against byte tables from Mitsubishi's public manuals; the map.

Sources (Mitsubishi Electric, public):
- [REF] MELSEC Communication Protocol Reference Manual (SH-080008, the iQ-R/Q/L edition),
  chapter "Messages" (3E frame: subheader 5000H/D000H, network No., PC No. FFH, request
  destination module I/O No. 03FFH, station No., data length counted from the monitoring timer,
  end code), section 8.2 "Batch Read and Write", communication example "Reading bit device"
  (M100 to M131 in word units: request data 01 04 00 00 64 00 00 90 02 00, response data
  34 12 02 00), and "Read data, write data" (binary: words low byte first; bits two points to a
  byte, the first point in the high nibble).
- [1E] The same manual, 18.4 "Batch write in word units (command: 03)": D100..D102 =
  1234H, 9876H, 0109H written as 34 12 76 98 09 01 (the data order 3E uses too).
- [FX] FX3U-ENET-ADP User's Manual, 7.3 note: M100..M107 = ON OFF ON OFF OFF ON ON OFF
  read back as 10 10 01 10 (binary bit packing).
"""

from __future__ import annotations

import pytest

from drivers.plc.layout import Bit, Word
from drivers.plc.mc import codec as mc
from drivers.plc.mc.addresses import MCMap, parse_mc_address
from drivers.plc.mc.driver import parse_mc_url

HEADER = bytes.fromhex("50 00 00 FF FF 03 00")  # [REF] subheader, network 0, PC FF, I/O 03FF, st 0


def test_batch_read_of_m100_in_word_units_is_the_manuals_frame() -> None:
    req = mc.Request(mc.CMD_BATCH_READ, mc.SUB_WORD, mc.DEVICE_CODES["M"], 100, 2, timer=0x10)
    frame = mc.encode_request(req)
    request_data = bytes.fromhex("01 04 00 00 64 00 00 90 02 00")  # [REF] 8.2 example
    assert frame == HEADER + bytes.fromhex("0C 00") + bytes.fromhex("10 00") + request_data
    assert mc.decode_request(frame) == req
    answer = bytes.fromhex("D0 00 00 FF FF 03 00 06 00 00 00") + bytes.fromhex("34 12 02 00")
    rsp = mc.decode_response(answer)
    assert (rsp.end_code, rsp.route) == (0, mc.Route())
    assert mc.unpack_words(rsp.data, 2) == [0x1234, 0x0002]  # M100..M115, M116..M131
    assert mc.encode_response(0, bytes.fromhex("34 12 02 00")) == answer
    assert mc.frame_length(answer[: mc.HEADER_LEN]) == len(answer)


def test_batch_write_of_d100_in_word_units() -> None:
    req = mc.write_words("D", 100, [0x1234, 0x9876, 0x0109], timer=0x10)
    body = bytes.fromhex("01 14 00 00 64 00 00 A8 03 00") + bytes.fromhex("34 12 76 98 09 01")
    assert mc.encode_request(req) == HEADER + bytes.fromhex("12 00 10 00") + body  # [REF], [1E]
    assert mc.decode_request(mc.encode_request(req)).data == bytes.fromhex("34 12 76 98 09 01")
    assert mc.decode_response(bytes.fromhex("D0 00 00 FF FF 03 00 02 00 00 00")).data == b""


def test_bits_two_to_a_byte_high_nibble_first() -> None:
    bits = [True, False, True, False, False, True, True, False]  # M100..M107 [FX]
    assert mc.pack_bits(bits) == bytes.fromhex("10 10 01 10")
    assert mc.unpack_bits(bytes.fromhex("10 10 01 10"), 8) == bits
    assert mc.pack_bits([True]) == b"\x10"  # an odd count ends in a 0 nibble
    assert mc.pack_bits([True, True, True]) == bytes.fromhex("11 10")
    req = mc.write_bits("M", 20, [True], timer=4)
    assert mc.encode_request(req)[11:] == bytes.fromhex("01 14 01 00 14 00 00 90 01 00 10")


def test_an_error_answer_carries_the_end_code_and_the_error_information() -> None:
    # [REF] abnormal completion: end code, then network, PC, I/O, station, command, subcommand.
    frame = bytes.fromhex("D0 00 00 FF FF 03 00 0B 00 56 C0 00 FF FF 03 00 01 04 00 00")
    rsp = mc.decode_response(frame)
    assert rsp.end_code == 0xC056
    assert rsp.data == bytes.fromhex("00 FF FF 03 00 01 04 00 00")
    assert mc.encode_response(0xC056, rsp.data) == frame


def test_routes_and_long_head_device_numbers() -> None:
    route = mc.Route(network=1, pc=2, module_io=0x03E0, station=5)
    req = mc.Request(mc.CMD_BATCH_READ, 0, 0xA8, 0x012345, 1, route=route)
    frame = mc.encode_request(req)
    assert frame[2:7] == bytes.fromhex("01 02 E0 03 05")
    assert frame[15:18] == bytes.fromhex("45 23 01")  # 3-byte little-endian head device
    assert mc.decode_request(frame) == req
    with pytest.raises(mc.MCCodecError, match=r"out of 0\.\.16777215"):
        mc.encode_request(mc.Request(mc.CMD_BATCH_READ, 0, 0xA8, 1 << 24, 1))


@pytest.mark.parametrize(
    ("frame", "error"),
    [
        ("54 00 00 FF FF 03 00 02 00 00 00", "is not 3E binary"),  # a 4E subheader
        ("D0 00 00 FF FF 03 00 04 00 00 00", "does not match its data length"),
        ("D0 00 00 FF", "header needs 9 bytes"),
        ("35 30 30 30 30 30 46 46 30", "is not 3E binary"),  # ASCII code "500000FF0"
    ],
)
def test_garbage_is_refused(frame: str, error: str) -> None:
    with pytest.raises(mc.MCCodecError, match=error):
        raw = bytes.fromhex(frame)
        if len(raw) < mc.HEADER_LEN:
            mc.frame_length(raw)
        mc.frame_length(raw[: mc.HEADER_LEN])
        mc.decode_response(raw)


def test_word_and_bit_counts_must_match_the_data() -> None:
    with pytest.raises(mc.MCCodecError, match="expected 4 bytes for 2 words"):
        mc.unpack_words(b"\x00\x00", 2)
    with pytest.raises(mc.MCCodecError, match="expected 2 bytes for 3 bits"):
        mc.unpack_bits(b"\x00", 3)


@pytest.mark.parametrize(
    ("text", "want"),
    [
        ("D100", Word("D", 100)),
        ("d0", Word("D", 0)),
        (" M20 ", Bit("M", 20)),
        ("M8000", Bit("M", 8000)),
    ],
)
def test_good_addresses(text: str, want: Word | Bit) -> None:
    assert parse_mc_address(text) == want


@pytest.mark.parametrize(
    ("text", "error"),
    [
        ("X10", "device X is not supported; use D (data register) for words and M"),
        ("W1F", "write a device and its number"),
        ("D-1", "write a device and its number"),
        ("D", "write a device and its number"),
        ("D16777216", "device number 16777216 out of 0..16777215"),
        ("DB10.DBW0", "write a device and its number"),
    ],
)
def test_bad_addresses(text: str, error: str) -> None:
    with pytest.raises(ValueError) as info:
        parse_mc_address(text, "trigger_counter")
    assert error in str(info.value) and f"mc map: trigger_counter={text!r}" in str(info.value)


def test_the_map() -> None:
    m = MCMap().layout
    assert m.poll_span == (100, 119) and m.reject_block and m.line_stop_bit == Bit("M", 100)
    m = MCMap.from_dict({"reject_bit": "M101", "case_result": "none", "trigger_ring_len": 64,
                         "station_heartbeat": "D240", "stack_light": "D241",
                         "reject_write_ptr": "D242", "reject_ring": "D243"}).layout  # fmt: skip
    assert m.reject_bit == Bit("M", 101) and m.case_result is None and m.poll_span == (100, 167)
    for data, error in [
        ({"trigger_rnig": "D1"}, "unknown key(s) ['trigger_rnig']"),
        ({"stack_light": "D110"}, "stack_light and trigger_ring share D110"),
        ({"stack_light": "M5"}, "stack_light='M5' must be a word (D<n>)"),
        ({"line_stop_bit": "D5"}, "line_stop_bit='D5' must be a bit (M<n>)"),
        ({"reject_bit": "M100"}, "line_stop_bit and reject_bit share M100"),
        ({"trigger_ring": "D2000"}, "within 960 words"),
    ]:
        with pytest.raises(ValueError) as info:
            MCMap.from_dict(data)
        assert error in str(info.value), str(info.value)


def test_urls() -> None:
    assert parse_mc_url("mc://192.168.3.39:5007") == ("192.168.3.39", 5007)
    assert parse_mc_url("mc://plc") == ("plc", 5007)
    for bad in ("mc://", "s7://plc", "mc://plc:5007?ascii=1"):
        with pytest.raises(ValueError, match="plc url"):
            parse_mc_url(bad)
