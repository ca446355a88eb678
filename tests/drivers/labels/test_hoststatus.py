"""~HS answer parsing: a table of raw answers and the status each must give."""

from __future__ import annotations

import pytest

from drivers.labels.hoststatus import HostStatusError, parse_host_status


def hs(one: str, two: str, three: str = "1234,0") -> bytes:
    return b"".join(b"\x02" + s.encode() + b"\x03\r\n" for s in (one, two, three))


OK1 = "030,0,0,1200,000,0,0,0,000,0,0,0"
OK2 = "001,0,0,0,1,2,6,0,00000000,1,000"

TABLE = [
    # (answer, ready, paper_out, ribbon_out, head_open, paused, remaining, faults)
    (hs(OK1, OK2), True, False, False, False, False, 0, ()),
    (
        hs("030,1,0,1200,000,0,0,0,000,0,0,0", OK2),
        False,
        True,
        False,
        False,
        False,
        0,
        ("paper out",),
    ),
    (
        hs(OK1, "001,0,0,1,1,2,6,0,00000000,1,000"),
        False,
        False,
        True,
        False,
        False,
        0,
        ("ribbon out",),
    ),
    (
        hs(OK1, "001,0,1,0,1,2,6,0,00000000,1,000"),
        False,
        False,
        False,
        True,
        False,
        0,
        ("head open",),
    ),
    (
        hs("030,0,1,1200,003,0,0,0,000,0,0,0", "001,0,0,0,1,2,6,0,00000003,1,000"),
        False,
        False,
        False,
        False,
        True,
        3,
        ("paused",),
    ),
    (
        hs("030,1,1,1200,000,0,0,0,000,0,0,1", "001,0,1,1,1,2,6,0,00000012,1,000"),
        False,
        True,
        True,
        True,
        True,
        12,
        ("paper out", "ribbon out", "head open", "paused", "over temperature"),
    ),
]


@pytest.mark.parametrize(
    ("raw", "ready", "paper", "ribbon", "head", "paused", "remaining", "faults"), TABLE
)
def test_parse_table(
    raw: bytes,
    ready: bool,
    paper: bool,
    ribbon: bool,
    head: bool,
    paused: bool,
    remaining: int,
    faults: tuple[str, ...],
) -> None:
    status = parse_host_status(raw)
    assert (status.ready, status.paper_out, status.ribbon_out, status.head_open, status.paused) == (
        ready,
        paper,
        ribbon,
        head,
        paused,
    )
    assert status.labels_remaining == remaining
    assert status.faults == faults


def test_buffer_full_is_listed_but_still_ready() -> None:
    status = parse_host_status(hs("030,0,0,1200,009,1,0,0,000,0,0,0", OK2))
    assert status.ready and status.faults == ("receive buffer full",)


def test_answer_without_crlf_between_strings_parses() -> None:
    raw = b"\x02" + OK1.encode() + b"\x03\x02" + OK2.encode() + b"\x03\x021234,0\x03"
    assert parse_host_status(raw).ready


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        (b"", "expected 3"),
        (hs(OK1, OK2)[:40], "expected 3"),
        (b"\x02" + OK1.encode() + b"\x03\r\n" + b"\x02" + OK2.encode() + b"\x03", "expected 3"),
        (hs("030,0,0", OK2), "string 1 has 3 fields"),
        (hs("030,X,0,1200,000,0,0,0,000,0,0,0", OK2), "field 2"),
        (hs(OK1, "001,0,0,0,1,2,6,0,abc,1,000"), "labels remaining"),
        (
            hs(OK1, "001,0,0,0,1,2,6,0,00000000,1,000").replace(b"001", "ü".encode() + b"1", 1),
            "not ASCII",
        ),
    ],
)
def test_malformed_answers_raise(raw: bytes, message: str) -> None:
    with pytest.raises(HostStatusError, match=message):
        parse_host_status(raw)
