"""MT-SICS codec against byte tables from Mettler-Toledo's public reference manual.

Source: Mettler-Toledo, *Reference Manual MT-SICS Interface Commands, Standard and Advanced
Laboratory Balances* (30014405), chapter 2 "Command Formats": 2.1 conventions (upper-case
commands, one blank between fields, text in double quotes, CR LF after every command and
response), 2.2.1 format of responses with weight value (ID, status S stable / D dynamic, the
weight right-aligned in 10 characters with the sign before the first digit, unit), 2.2.2
responses without weight value (status A, B, I, L, +, -), 2.3.1 command-specific errors
(``S I``, ``S +``, ``S -``), 2.3.2 general errors (``ES``, ``ET``, ``EL``); chapter 3 command
pages for ``@``, ``I4``, ``S``, ``SI``, ``T``, ``Z``. The ``S`` example (stable 100.00 g) and
the ``S I``/``S +``/``S -`` replies are also quoted in the balances' operating instructions
(the "MT-SICS 11780711" command summary). Blanks are laid out as §2.2.1 says (the value fills
10 characters); the parser takes any run of blanks, since high-resolution balances send more.
"""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from drivers.scale.codec import (
    LineSplitter,
    Reply,
    SicsFormatError,
    encode_command,
    format_reply,
    format_weight,
    parse_reply,
    parse_weight,
)

# command → bytes on the wire (§2.1: upper case, CR LF)
COMMANDS = [
    ("S", (), b"S\r\n"),
    ("SI", (), b"SI\r\n"),
    ("T", (), b"T\r\n"),
    ("Z", (), b"Z\r\n"),
    ("I4", (), b"I4\r\n"),
    ("@", (), b"@\r\n"),
    ("D", ("HELLO",), b'D "HELLO"\r\n'),  # §2.1: text parameters in quotes (D: write to display)
]

# response bytes → (ID, status, fields), per §2.2.1/§2.2.2/§2.3
REPLIES = [
    (b"S S     100.00 g\r\n", ("S", "S", ("100.00", "g"))),  # S: stable, manual example
    (b"S D     129.07 g\r\n", ("S", "D", ("129.07", "g"))),  # SI: dynamic value
    (b"S S    -12.340 g\r\n", ("S", "S", ("-12.340", "g"))),  # sign before the first digit
    (b"S S    0.03060 kg\r\n", ("S", "S", ("0.03060", "kg"))),
    (b"S S     125.4583 g\r\n", ("S", "S", ("125.4583", "g"))),  # wider than 10: still read
    (b"S I\r\n", ("S", "I", ())),  # not executable: busy, or stability not reached in time
    (b"S +\r\n", ("S", "+", ())),  # overload
    (b"S -\r\n", ("S", "-", ())),  # underload
    (b"T S     100.00 g\r\n", ("T", "S", ("100.00", "g"))),  # tared: the tare weight
    (b"T I\r\n", ("T", "I", ())),
    (b"T +\r\n", ("T", "+", ())),  # upper limit of the taring range exceeded
    (b"Z A\r\n", ("Z", "A", ())),  # zero set
    (b"Z I\r\n", ("Z", "I", ())),
    (b"Z -\r\n", ("Z", "-", ())),  # lower limit of the zeroing range exceeded
    (b'I4 A "0123456789"\r\n', ("I4", "A", ("0123456789",))),  # serial number, also after @
    (b'I2 A "XS6002S 6100.00 g"\r\n', ("I2", "A", ("XS6002S 6100.00 g",))),  # text with blanks
    (b"ES\r\n", ("ES", "", ())),  # syntax error
    (b"ET\r\n", ("ET", "", ())),  # transmission error
    (b"EL\r\n", ("EL", "", ())),  # logical error
]


@pytest.mark.parametrize(("command", "params", "wire"), COMMANDS)
def test_encode_command(command: str, params: tuple, wire: bytes) -> None:
    assert encode_command(command, *params) == wire


@pytest.mark.parametrize(("wire", "fields"), REPLIES)
def test_parse_reply(wire: bytes, fields: tuple) -> None:
    reply = parse_reply(wire)
    assert (reply.command, reply.status, reply.fields) == fields
    assert reply.raw == wire
    assert (reply.general_error is not None) == (wire in (b"ES\r\n", b"ET\r\n", b"EL\r\n"))


@pytest.mark.parametrize(
    ("wire", "grams", "stable"),
    [
        (b"S S     100.00 g\r\n", 100.0, True),
        (b"S D     129.07 g\r\n", 129.07, False),
        (b"S S    -12.340 g\r\n", -12.34, True),
        (b"S S    0.03060 kg\r\n", 30.6, True),
        (b"S S    13.6000 kg\r\n", 13_600.0, True),
        (b"S S      0.500 lb\r\n", 226.796185, True),
    ],
)
def test_parse_weight_in_grams(wire: bytes, grams: float, stable: bool) -> None:
    weight = parse_weight(parse_reply(wire))
    assert weight.grams == pytest.approx(grams)
    assert weight.stable is stable


@pytest.mark.parametrize(
    ("wire", "match"),
    [
        (b"S I\r\n", "no weight"),
        (b"S S  12.3x g\r\n", "not a number"),
        (b"S S  12.3 PCS\r\n", "unit 'PCS'"),
        (b"S S  12.3\r\n", "weight value and a unit"),
    ],
)
def test_parse_weight_refuses(wire: bytes, match: str) -> None:
    with pytest.raises(SicsFormatError, match=match):
        parse_weight(parse_reply(wire))


@pytest.mark.parametrize(
    "wire",
    [b"\r\n", b"s s 1 g\r\n", b"S\r\n", b'I4 A "unterminated\r\n', b"S S \x07 1 g\r\n"],
)
def test_parse_reply_refuses_what_is_not_mt_sics(wire: bytes) -> None:
    with pytest.raises(SicsFormatError):
        parse_reply(wire)


def test_format_matches_the_manual_layout() -> None:
    """What the simulator sends: the value right-aligned in 10 characters (§2.2.1)."""
    assert format_weight("S", True, 100.0, "g", 2) == b"S S     100.00 g\r\n"
    assert format_weight("S", False, 129.07, "g", 2) == b"S D     129.07 g\r\n"
    assert format_weight("S", True, -12.34, "g", 3) == b"S S    -12.340 g\r\n"
    assert format_weight("S", True, -0.0001, "g", 2) == b"S S       0.00 g\r\n"
    assert format_reply("Z", "A") == b"Z A\r\n"
    assert format_reply("I4", "A", "0123456789", quote=True) == b'I4 A "0123456789"\r\n'
    assert format_reply("ES") == b"ES\r\n"


@pytest.mark.parametrize(("wire", "fields"), REPLIES)
def test_round_trip_through_format(wire: bytes, fields: tuple) -> None:
    command, status, rest = fields
    if len(rest) == 2 and status in "SD":
        value, unit = rest
        decimals = len(value.split(".")[1]) if "." in value else 0
        again = format_weight(command, status == "S", float(value), unit, decimals)
    else:
        again = format_reply(command, status, *rest, quote=command in ("I4", "I2"))
    assert parse_reply(again) == Reply(command, status, rest, again)


def test_encode_refuses_bad_commands() -> None:
    with pytest.raises(ValueError, match="upper case"):
        encode_command("si")
    with pytest.raises(ValueError, match="quote"):
        encode_command("D", 'say "hi"')


def test_line_splitter_joins_segments_and_cuts_runs() -> None:
    lines = LineSplitter(max_line=32)
    assert lines.feed(b"S S   ") == []
    assert lines.feed(b"  100.00 g\r\nZ A\r") == [b"S S     100.00 g\r\n"]
    assert lines.feed(b"\n") == [b"Z A\r\n"]
    events = lines.feed(b"x" * 40)
    assert len(events) == 1 and isinstance(events[0], SicsFormatError)
    assert lines.feed(b"yyy\r\nS I\r\n") == [b"S I\r\n"]  # the long run's tail is dropped
    assert lines.pending() == b""


@given(
    value=st.floats(min_value=-99_999, max_value=999_999, allow_nan=False),
    decimals=st.integers(min_value=0, max_value=4),
    stable=st.booleans(),
    unit=st.sampled_from(["g", "kg", "lb"]),
)
def test_formatted_weights_parse_back(value: float, decimals: int, stable: bool, unit: str) -> None:
    wire = format_weight("S", stable, value, unit, decimals)
    weight = parse_weight(parse_reply(wire))
    assert weight.value == pytest.approx(round(value, decimals), abs=10**-decimals)
    assert (weight.stable, weight.unit) == (stable, unit)
    assert wire.endswith(b"\r\n") and wire.count(b"\r\n") == 1
