"""The code file parser: every bad-line kind, encodings, BOM, CRLF, headers, pairs."""

from __future__ import annotations

from pathlib import Path

import pytest

from station.codes import files as codefile
from station.errors import ImportRejected, InputError


def _parse(tmp_path: Path, data: bytes, *, pairs: bool = False, encoding: str | None = None):
    p = tmp_path / "codes.txt"
    p.write_bytes(data)
    return codefile.parse(p, pairs=pairs, max_length=60, encoding=encoding)


def test_plain_lf_crlf_bom_and_header(tmp_path: Path) -> None:
    assert _parse(tmp_path, b"A1\nB2\n").codes == ["A1", "B2"]
    assert _parse(tmp_path, b"A1\r\nB2\r\n").codes == ["A1", "B2"]
    r = _parse(tmp_path, "\ufeffcode\r\nA1\r\nB2".encode())
    assert r.codes == ["A1", "B2"] and r.encoding == "utf-8-sig" and r.first_line == 2


def test_gb18030_detected_and_forced(tmp_path: Path) -> None:
    data = "追溯码\nhttps://x.cn/a1\n".encode("gb18030")
    r = _parse(tmp_path, data)
    assert r.encoding == "gb18030" and r.codes == ["https://x.cn/a1"]
    assert _parse(tmp_path, data, encoding="gb18030").codes == ["https://x.cn/a1"]


@pytest.mark.parametrize(
    ("data", "line", "why"),
    [
        (b"A1\n\nB2\n", 2, "empty"),
        (b"A1\n" + b"X" * 61 + b"\n", 2, "too long"),
        ("A1\nB\u00a02\n".encode(), 2, "outside the code scheme"),
        (b"A1\nB 2\n", 2, "outside the code scheme"),
        (b"A1\nB2\nA1\n", 3, "duplicate of line 1"),
        (b"https://id.example.com/01/09506000134353/21/X\n", 1, "check digit"),
        (b"(01)09506000134353(21)X\n", 1, "check digit"),
        (b"376104250021234560\n", 1, "SSCC"),
    ],
)
def test_each_bad_line_kind(tmp_path: Path, data: bytes, line: int, why: str) -> None:
    with pytest.raises(ImportRejected) as err:
        _parse(tmp_path, data)
    assert err.value.problems[0][0] == line
    assert why in err.value.problems[0][1]
    assert f"line {line}:" in str(err.value)


def test_pairs(tmp_path: Path) -> None:
    r = _parse(tmp_path, b"inner,outer\nI1,O1\nI2,O2\n", pairs=True)
    assert r.pairs == [("I1", "O1"), ("I2", "O2")] and r.codes == ["I1", "O1", "I2", "O2"]
    with pytest.raises(ImportRejected, match="line 2: expected 'inner,outer'"):
        _parse(tmp_path, b"I1,O1\nI2\n", pairs=True)
    with pytest.raises(ImportRejected, match="line 2: duplicate of line 1"):
        _parse(tmp_path, b"I1,O1\nI2,O1\n", pairs=True)


def test_many_bad_lines_listed_first_fifty_then_count(tmp_path: Path) -> None:
    data = b"".join(b"bad code\n" for _ in range(70))
    with pytest.raises(ImportRejected) as err:
        _parse(tmp_path, data)
    assert err.value.total == 70
    assert "line 50:" in str(err.value) and "line 51:" not in str(err.value)
    assert "20 more" in str(err.value)


def test_undecodable_and_empty(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="no codes"):
        _parse(tmp_path, b"")
    with pytest.raises(InputError, match="cannot read as ascii"):
        _parse(tmp_path, "码".encode(), encoding="ascii")
