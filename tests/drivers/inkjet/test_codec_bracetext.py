"""bracetext codec: tables of raw bytes, both directions, split frames, resync, damaged frames."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from drivers.inkjet.codecs.bracetext import CODEC
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

TABLE = [
    (SelectJob("JOB1"), b"{~JS0|JOB1|0|}\r"),
    (UpdateField("X9"), b"{~JU0||0|CODE|X9|}\r"),
    (UpdateField(""), b"{~JU0||0|CODE||}\r"),
    (Enqueue("ABC123"), b"{~JQ0|CODE|ABC123|}\r"),
    (ClearQueue(), b"{~JC|}\r"),
    (StatusRequest(), b"{~DR|}\r"),
    (Ack(Kind.SELECT), b"{~JS0|}\r"),
    (Ack(Kind.UPDATE), b"{~JU0|}\r"),
    (Ack(Kind.CLEAR), b"{~JC0|}\r"),
    (Nak(Kind.ENQUEUE, "buffer_full"), b"{~JQ1|buffer_full|}\r"),
    (
        StatusReport(False, ("ink_low", "ink_out"), 2, 17, 40),
        b"{~DS0|0|ink_low,ink_out|2|17|40|}\r",
    ),
    (StatusReport(True, (), 0, 5, None), b"{~DS0|1||0|5||}\r"),
    (PrintEnd(7, "ABC123"), b"{~PE0|7|ABC123|}\r"),
    (Missed("empty"), b"{~PM0|empty|}\r"),
]


@pytest.mark.parametrize(("msg", "raw"), TABLE)
def test_encode_matches_table(msg: object, raw: bytes) -> None:
    assert CODEC.encode(msg) == raw  # type: ignore[arg-type]


@pytest.mark.parametrize(("msg", "raw"), TABLE)
def test_decode_matches_table(msg: object, raw: bytes) -> None:
    assert CODEC.decoder().feed(raw) == [msg]


def test_real_ngpcl_style_select_with_crlf_and_no_cr() -> None:
    got = CODEC.decoder().feed(b"{~JS0|}\r\n{~JU0|}")
    assert got == [Ack(Kind.SELECT), Ack(Kind.UPDATE)]


def test_split_byte_by_byte() -> None:
    dec = CODEC.decoder()
    got = [m for b in b"{~PE0|12|\xe7\xa0\x81A|}\r" for m in dec.feed(bytes([b]))]
    assert got == [PrintEnd(12, "码A")]


def test_garbage_flagged_whitespace_ignored() -> None:
    got = CODEC.decoder().feed(b"\r\n  xx\x00{~JQ0|}\r")
    assert isinstance(got[0], FrameError) and got[0].raw == b"\r\n  xx\x00"
    assert got[1:] == [Ack(Kind.ENQUEUE)]


def test_truncated_frame_resyncs_at_next_brace() -> None:
    got = CODEC.decoder().feed(b"{~PE0|7|AB" + b"{~PE0|8|CD|}\r")
    assert isinstance(got[0], FrameError) and "truncated" in got[0].what
    assert got[1:] == [PrintEnd(8, "CD")]


@pytest.mark.parametrize(
    "raw", [b"{~XX9|}", b"{~PE0|notanumber|x|}", b"{JS0|}", b"{~JS0|a|b|c|d|}", b"{~PE0|1|\xff|}"]
)
def test_bad_frames_flagged(raw: bytes) -> None:
    got = CODEC.decoder().feed(raw)
    assert len(got) == 1 and isinstance(got[0], FrameError)


def test_overlong_frame_dropped() -> None:
    dec = CODEC.decoder()
    got = dec.feed(b"{~PE0|1|" + b"A" * 2000)
    assert got and isinstance(got[0], FrameError)
    assert dec.feed(b"{~JC0|}") == [Ack(Kind.CLEAR)]


def test_damage_makes_frame_unparsable() -> None:
    got = CODEC.decoder().feed(CODEC.damage(CODEC.encode(Ack(Kind.SELECT))))
    assert len(got) == 1 and isinstance(got[0], FrameError)


@pytest.mark.parametrize("text", ["a|b", "a}b", "{", "tab\there"])
def test_unsafe_characters_refused(text: str) -> None:
    with pytest.raises(ValueError):
        CODEC.encode(Enqueue(text))


_safe = st.characters(min_codepoint=0x20, max_codepoint=0x2FFF, exclude_characters="{}|")


@settings(max_examples=60, deadline=None)
@given(texts=st.lists(st.text(_safe, max_size=40), min_size=1, max_size=5), cut=st.integers(1, 9))
def test_roundtrip_any_split(texts: list[str], cut: int) -> None:
    msgs = [PrintEnd(i, t) for i, t in enumerate(texts)]
    raw = b"".join(CODEC.encode(m) for m in msgs)
    dec = CODEC.decoder()
    got = [m for i in range(0, len(raw), cut) for m in dec.feed(raw[i : i + cut])]
    assert got == msgs
