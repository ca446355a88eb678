"""Frame codec tables: the same frames come out however TCP cuts or merges the stream."""

from __future__ import annotations

import itertools

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from drivers.reader.codec import (
    BadFrame,
    Frame,
    FrameDecoder,
    Garbage,
    Parsed,
    encode_message,
    parse_body,
)

STX, ETX = b"\x02", b"\x03"

# (id, prefix, suffix, max_len, stream, expected events without garbage)
# expected: ("F", body) for a frame, ("B", reason word) for a bad frame.
FRAMING = [
    ("crlf-two", b"", b"\r\n", 64, b"A1\r\nB2\r\n", [("F", b"A1"), ("F", b"B2")]),
    ("cr", b"", b"\r", 64, b"A1;B2\rC3\r", [("F", b"A1;B2"), ("F", b"C3")]),
    ("lf", b"", b"\n", 64, b"X\n", [("F", b"X")]),
    ("tab", b"", b"\t", 64, b"X\tY\t", [("F", b"X"), ("F", b"Y")]),
    ("stx-etx", STX, ETX, 64, STX + b"A;B" + ETX, [("F", b"A;B")]),
    ("stx-crlf", STX, b"\r\n", 64, STX + b"A\r\n" + STX + b"B\r\n", [("F", b"A"), ("F", b"B")]),
    ("text-prefix", b"<<", b">>", 64, b"<<A>><<B>>", [("F", b"A"), ("F", b"B")]),
    (
        "garbage-between",
        STX,
        ETX,
        64,
        b"\xff\x00zz" + STX + b"A" + ETX + b"noise" + STX + b"B" + ETX,
        [("F", b"A"), ("F", b"B")],
    ),
    (
        "truncated-then-good",
        STX,
        ETX,
        64,
        STX + b"HALF" + STX + b"GOOD" + ETX,
        [("B", "truncated"), ("F", b"GOOD")],
    ),
    (
        "over-long-no-prefix",
        b"",
        b"\r\n",
        16,
        b"X" * 40 + b"\r\nOK\r\n",
        [("B", "16"), ("F", b"OK")],
    ),
    (
        "over-long-prefix",
        STX,
        ETX,
        16,
        STX + b"Y" * 40 + ETX + STX + b"OK" + ETX,
        [("B", "16"), ("F", b"OK")],
    ),
    ("empty-body", b"", b"\r\n", 64, b"\r\nA\r\n", [("F", b""), ("F", b"A")]),
    ("gs1-control-chars", b"", b"\r\n", 64, b"\x1d0104\x1d21AB\r\n", [("F", b"\x1d0104\x1d21AB")]),
    (
        "gb18030-body",
        b"",
        b"\r",
        64,
        "批号A".encode("gb18030") + b"\r",
        [("F", "批号A".encode("gb18030"))],
    ),
]


def _decode(prefix: bytes, suffix: bytes, max_len: int, chunks: list[bytes]) -> list[tuple]:
    dec = FrameDecoder(prefix, suffix, max_len)
    events = [e for chunk in chunks for e in dec.feed(chunk)]
    out: list[tuple] = []
    for e in events:
        if isinstance(e, Frame):
            assert e.raw.startswith(prefix) and e.raw.endswith(suffix)
            out.append(("F", e.body))
        elif isinstance(e, BadFrame):
            out.append(("B", e.reason))
    return out


def _matches(got: list[tuple], expected: list[tuple]) -> bool:
    if len(got) != len(expected):
        return False
    for (kind, value), (want_kind, want) in zip(got, expected, strict=True):
        if kind != want_kind:
            return False
        if kind == "F" and value != want:
            return False
        if kind == "B" and want not in value:
            return False
    return True


@pytest.mark.parametrize(
    ("prefix", "suffix", "max_len", "stream", "expected"),
    [row[1:] for row in FRAMING],
    ids=[row[0] for row in FRAMING],
)
def test_framing_is_independent_of_segmentation(
    prefix: bytes, suffix: bytes, max_len: int, stream: bytes, expected: list[tuple]
) -> None:
    whole = _decode(prefix, suffix, max_len, [stream])
    assert _matches(whole, expected), whole
    per_byte = _decode(prefix, suffix, max_len, [stream[i : i + 1] for i in range(len(stream))])
    assert _matches(per_byte, expected), per_byte
    for cut in range(1, len(stream)):
        two = _decode(prefix, suffix, max_len, [stream[:cut], stream[cut:]])
        assert _matches(two, expected), (cut, two)


def test_garbage_is_reported_with_its_bytes() -> None:
    dec = FrameDecoder(STX, ETX)
    events = dec.feed(b"junk" + STX + b"A" + ETX + b"\xff")
    assert events == [Garbage(b"junk"), Frame(STX + b"A" + ETX, b"A"), Garbage(b"\xff")]


def test_partial_prefix_at_end_is_held_not_called_garbage() -> None:
    dec = FrameDecoder(b"<<", b">>")
    assert dec.feed(b"zz<") == [Garbage(b"zz")]
    assert dec.pending() == b"<"
    assert dec.feed(b"<A>>") == [Frame(b"<<A>>", b"A")]


def test_reset_returns_and_forgets_a_partial_message() -> None:
    dec = FrameDecoder(b"", b"\r\n")
    assert dec.feed(b"PART") == []
    assert dec.reset() == b"PART"
    assert dec.feed(b"NEW\r\n") == [Frame(b"NEW\r\n", b"NEW")]


def test_over_long_stream_without_suffix_reports_once_and_stays_bounded() -> None:
    dec = FrameDecoder(b"", b"\r\n", max_len=32)
    bad = [e for _ in range(50) for e in dec.feed(b"Z" * 10)]
    assert len(bad) == 1 and isinstance(bad[0], BadFrame)
    assert len(bad[0].raw) == 32
    assert len(dec.pending()) <= 32
    assert dec.feed(b"\r\nOK\r\n") == [Frame(b"OK\r\n", b"OK")]


@pytest.mark.parametrize(
    ("bad_args", "message"),
    [((b"", b""), "suffix"), ((b"\x02", b"\x03", 2), "max_len")],
)
def test_decoder_rejects_unusable_settings(bad_args: tuple, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        FrameDecoder(*bad_args)


PARSING = [
    ("A;B;C", ";", "NOREAD", Parsed(("A", "B", "C"), False)),
    ("NOREAD", ";", "NOREAD", Parsed((), True)),
    ("ERROR", ";", "ERROR", Parsed((), True)),
    ("A;NOREAD;C", ";", "NOREAD", Parsed(("A", "C"), True)),
    ("A;;B", ";", "NOREAD", Parsed(("A", "B"), False)),
    ("A,B", ",", "NOREAD", Parsed(("A", "B"), False)),
    ("A||B", "||", "NOREAD", Parsed(("A", "B"), False)),
    ("A;B", "", "NOREAD", Parsed(("A;B",), False)),
    ("\x1d0104\x1d21AB", ";", "NOREAD", Parsed(("\x1d0104\x1d21AB",), False)),
    ("", ";", "", Parsed((), True)),
    ("", ";", "NOREAD", None),
    (";", ";", "NOREAD", None),
]


@pytest.mark.parametrize(("text", "separator", "noread", "expected"), PARSING)
def test_parse_body(text: str, separator: str, noread: str, expected: Parsed | None) -> None:
    assert parse_body(text, separator, noread) == expected


def test_encode_message_round_trips_through_the_decoder() -> None:
    kw = {"prefix": "\x02", "suffix": "\x03", "separator": ";", "noread": "NOREAD"}
    dec = FrameDecoder(STX, ETX)
    data = encode_message(["A", "B"], **kw) + encode_message([], **kw)
    bodies = [e.body.decode() for e in dec.feed(data) if isinstance(e, Frame)]
    assert [parse_body(b, ";", "NOREAD") for b in bodies] == [
        Parsed(("A", "B"), False),
        Parsed((), True),
    ]


_code = st.text(
    alphabet=st.characters(min_codepoint=0x1D, max_codepoint=0x7E, exclude_characters=";"),
    min_size=1,
    max_size=24,
).filter(lambda c: c != "NOREAD")


@settings(max_examples=60, deadline=None)
@given(
    messages=st.lists(st.lists(_code, max_size=4), min_size=1, max_size=6),
    cuts=st.lists(st.integers(min_value=0, max_value=4000), max_size=20),
    noise=st.binary(max_size=8).filter(lambda b: b"\x02" not in b),
)
def test_any_segmentation_with_noise_between_messages_yields_the_messages(
    messages: list[list[str]], cuts: list[int], noise: bytes
) -> None:
    kw = {"prefix": "\x02", "suffix": "\x03", "separator": ";", "noread": "NOREAD"}
    stream = b"".join(noise + encode_message(codes, **kw) for codes in messages)
    bounds = sorted({0, len(stream), *(c % (len(stream) + 1) for c in cuts)})
    dec = FrameDecoder(STX, ETX)
    frames = [
        e
        for a, b in itertools.pairwise(bounds)
        for e in dec.feed(stream[a:b])
        if not isinstance(e, Garbage)
    ]
    assert all(isinstance(f, Frame) for f in frames)
    parsed = [parse_body(f.body.decode(), ";", "NOREAD") for f in frames]
    assert [p.codes if p else None for p in parsed] == [tuple(c) for c in messages]
