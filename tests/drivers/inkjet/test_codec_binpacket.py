"""binpacket codec: tables of raw bytes, both directions, split frames, resync, bad checksums."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from drivers.inkjet.codecs.binpacket import CODEC
from drivers.inkjet.messages import (
    Ack,
    ClearQueue,
    Enqueue,
    FrameError,
    Kind,
    Missed,
    Nak,
    PrintEnd,
    SelectJob,
    StatusReport,
    StatusRequest,
    UpdateField,
)

# STX TYPE LEN(2) PAYLOAD ETX CHK, CHK = XOR of TYPE..ETX (worked by hand for the first row:
# 53^00^04^4A^4F^42^31^03 = 22).
TABLE = [
    (SelectJob("JOB1"), "02 53 0004 4a4f4231 03 22"),
    (Enqueue("ABC123"), "02 51 0006 414243313233 03 24"),
    (UpdateField("X9"), "02 55 0002 5839 03 35"),
    (UpdateField(""), "02 55 0000 03 56"),
    (ClearQueue(), "02 43 0000 03 40"),
    (StatusRequest(), "02 52 0000 03 51"),
    (Ack(Kind.ENQUEUE), "02 41 0001 51 03 12"),
    (Nak(Kind.ENQUEUE, "buffer_full"), "02 4e 000d 51 1f 6275666665725f66756c6c 03 42"),
    (
        StatusReport(False, ("ink_low", "ink_out"), 2, 17, 40),
        "02 54 0019 30 1f 696e6b5f6c6f772c696e6b5f6f7574 1f 32 1f 3137 1f 3430 03 78",
    ),
    (StatusReport(True, (), 0, 5, None), "02 54 0007 31 1f 1f 30 1f 35 1f 03 64"),
    (PrintEnd(7, "ABC123"), "02 50 0008 37 1f 414243313233 03 03"),
    (Missed("empty"), "02 4d 0005 656d707479 03 3e"),
]


def _raw(msg: object) -> bytes:
    return next(bytes.fromhex(h) for m, h in TABLE if m == msg)


@pytest.mark.parametrize(("msg", "hexbytes"), TABLE)
def test_encode_matches_table(msg: object, hexbytes: str) -> None:
    assert CODEC.encode(msg) == bytes.fromhex(hexbytes)  # type: ignore[arg-type]


@pytest.mark.parametrize(("msg", "hexbytes"), TABLE)
def test_decode_matches_table(msg: object, hexbytes: str) -> None:
    assert CODEC.decoder().feed(bytes.fromhex(hexbytes)) == [msg]


def test_frame_split_byte_by_byte() -> None:
    raw = _raw(PrintEnd(7, "ABC123"))
    dec = CODEC.decoder()
    got = [m for b in raw for m in dec.feed(bytes([b]))]
    assert got == [PrintEnd(7, "ABC123")]


def test_garbage_before_frame_is_flagged_and_frame_still_parsed() -> None:
    got = CODEC.decoder().feed(b"\xff\x00noise" + _raw(Ack(Kind.ENQUEUE)))
    assert isinstance(got[0], FrameError) and got[0].raw == b"\xff\x00noise"
    assert got[1:] == [Ack(Kind.ENQUEUE)]


def test_bad_checksum_flagged_then_next_frame_parsed() -> None:
    bad = bytes.fromhex("02 41 0001 51 03 13")
    got = CODEC.decoder().feed(bad + _raw(StatusRequest()))
    assert [type(m) for m in got] == [FrameError, StatusRequest]
    assert "checksum" in got[0].what  # type: ignore[union-attr]


def test_truncated_frame_followed_by_full_frame_resyncs() -> None:
    whole = _raw(PrintEnd(7, "ABC123"))
    got = CODEC.decoder().feed(whole[:6] + _raw(Ack(Kind.ENQUEUE)) + whole)
    messages = [m for m in got if not isinstance(m, FrameError)]
    assert messages == [Ack(Kind.ENQUEUE), PrintEnd(7, "ABC123")]
    assert isinstance(got[0], FrameError) and "truncated" in got[0].what


def test_bad_header_and_unknown_fields_flagged() -> None:
    dec = CODEC.decoder()
    assert isinstance(dec.feed(b"\x02Z\x00\x00\x03Z")[0], FrameError)
    # type T with one field only: checksum right, payload wrong
    assert isinstance(CODEC.decoder().feed(bytes.fromhex("02 54 0001 31 03 66"))[0], FrameError)


def test_damage_spoils_checksum() -> None:
    got = CODEC.decoder().feed(CODEC.damage(CODEC.encode(Ack(Kind.SELECT))))
    assert len(got) == 1 and isinstance(got[0], FrameError)


def test_control_characters_refused() -> None:
    with pytest.raises(ValueError, match="control"):
        CODEC.encode(Enqueue("A\x03B"))


_texts = st.text(st.characters(min_codepoint=0x20, max_codepoint=0x2FFF), max_size=40)


@settings(max_examples=60, deadline=None)
@given(texts=st.lists(_texts, min_size=1, max_size=5), cuts=st.lists(st.integers(1, 9)))
def test_roundtrip_any_split(texts: list[str], cuts: list[int]) -> None:
    msgs = [PrintEnd(i, t) for i, t in enumerate(texts)]
    raw = b"".join(CODEC.encode(m) for m in msgs)
    dec, got, pos = CODEC.decoder(), [], 0
    for cut in [*cuts, len(raw)]:
        got += dec.feed(raw[pos : pos + cut])
        pos += cut
    got += dec.feed(raw[pos:])
    assert got == msgs
