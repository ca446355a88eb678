"""Code packs (码包) end to end: `station codes import --pack`, `codes packs`,
`codes withdraw-pack`, and the per-level code length check. One test runs the CLI as a separate
process, the rest in-process (the `cli` fixture).
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select

from station.codes.generate import random_serials

ROOT = Path(__file__).resolve().parents[3]
BOX = '[[levels]]\nname = "box"\nlabel_zh = "盒码"\nlabel_en = "Box code"\ncapacity = 6\n\n'
ADMIN_PIN, OP_PIN = "2468", "1357"


@pytest.fixture(autouse=True)
def _root_handlers() -> Iterator[None]:
    """Each in-process command may add a log handler to the root logger; leave it as found."""
    root = logging.getLogger()
    before = list(root.handlers)
    yield
    for h in root.handlers[:]:
        if h not in before:
            root.removeHandler(h)
            h.close()


def _config(station_dir: Path, *, box: bool = True, lengths: dict[str, int] | None = None) -> None:
    """The sample config with a box level (中标) and `code_length` on the given levels."""
    cfg = station_dir / "config.toml"
    text = cfg.read_text(encoding="utf-8")
    if box:
        text = text.replace('[[levels]]\nname = "case"', BOX + '[[levels]]\nname = "case"', 1)
    for level, n in (lengths or {}).items():
        head = f'[[levels]]\nname = "{level}"\n'
        assert head in text
        text = text.replace(head, f"{head}code_length = {n}\n", 1)
    cfg.write_text(text, encoding="utf-8")


def _pack(path: Path, codes: list[str], *, encoding: str = "utf-8", eol: str = "\n") -> Path:
    path.write_bytes("".join(c + eol for c in codes).encode(encoding))
    return path


def _codes(n: int) -> list[str]:
    """`n` fresh 16-character serials."""
    return random_serials("23456789ABCDEFGHJKMNPQRSTUVWXYZ", 16, n)


def _ok_error(r, rc: int, *words: str) -> None:
    assert r.rc == rc, (r.rc, r.out, r.err)
    assert "Traceback" not in r.err and "Traceback" not in r.out
    for w in words:
        assert w in r.err, (w, r.err)


def _engine(station_dir: Path):
    from station.config import load_settings
    from station.store.db import make_engine

    return make_engine(load_settings(station_dir / "config.toml").database_url)


def _station(station_dir: Path, *args: str) -> subprocess.CompletedProcess:
    """`station --config … ARGS` as a separate process, on this checkout's code."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    prog = "import sys; from station.cli import main; sys.exit(main())"
    cfg = str(station_dir / "config.toml")
    return subprocess.run(
        [sys.executable, "-c", prog, "--config", cfg, *args],
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
    )


def _last_json(p: subprocess.CompletedProcess) -> dict:
    return json.loads(p.stdout.strip().splitlines()[-1])


def test_packs_import_as_units_and_are_listed(station_dir: Path, tmp_path: Path) -> None:
    _config(station_dir)
    box1, box2, cases = _codes(30), _codes(20), _codes(5)
    p = _station(
        station_dir,
        "codes", "import", str(_pack(tmp_path / "zb-0001.txt", box1)), "--level", "box",
        "--pack", "ZB-0001", "--source", "Acme 印刷", "--json",
    )  # fmt: skip
    assert p.returncode == 0, p.stderr
    got = _last_json(p)
    want_sha = hashlib.sha256(("\n".join(box1) + "\n").encode()).hexdigest()
    assert got["imported"] == 30 and got["level"] == "box"
    assert got["pack"] == {"name": "ZB-0001", "source": "Acme 印刷", "sha256": want_sha}
    # Packs add up: a second box pack, a case pack (大标) and a plain import (no pack).
    for args in (
        (str(_pack(tmp_path / "zb-0002.txt", box2)), "--level", "box", "--pack", "ZB-0002"),
        (str(_pack(tmp_path / "db.txt", cases)), "--level", "case", "--pack", "DB-1"),
        (str(_pack(tmp_path / "plain.txt", _codes(7))), "--level", "box"),
    ):
        p = _station(station_dir, "codes", "import", *args, "--json")
        assert p.returncode == 0, p.stderr
    assert _last_json(p)["pack"] is None

    p = _station(station_dir, "codes", "packs", "--json")
    assert p.returncode == 0, p.stderr
    listed = _last_json(p)
    assert listed["total"] == 3
    rows = {r["name"]: r for r in listed["packs"]}
    assert [r["name"] for r in listed["packs"]] == ["ZB-0001", "ZB-0002", "DB-1"]
    one = rows["ZB-0001"]
    assert (one["level"], one["count"], one["used"], one["available"], one["withdrawn"]) == (
        "box", 30, 0, 30, 0,
    )  # fmt: skip
    assert one["source"] == "Acme 印刷" and one["sha256"] == want_sha
    assert (
        one["sha256_short"] == want_sha[:12] and one["imported_at"] and one["withdrawn_at"] is None
    )
    assert rows["ZB-0002"]["count"] == 20 and rows["DB-1"]["level"] == "case"
    p = _station(station_dir, "codes", "packs", "--level", "case", "--json")
    assert [r["name"] for r in _last_json(p)["packs"]] == ["DB-1"]
    p = _station(station_dir, "codes", "stats", "--level", "box", "--json")
    assert _last_json(p)["levels"] == {"box": {"available": 30 + 20 + 7}}
    p = _station(station_dir, "codes", "packs")  # the table for people
    assert p.returncode == 0
    lines = p.stdout.splitlines()
    assert lines[0].split()[:8] == [
        "name", "level", "count", "used", "available", "withdrawn", "source", "sha256",
    ]  # fmt: skip
    assert lines[1].split()[:6] == ["ZB-0001", "box", "30", "0", "30", "0"]
    assert want_sha[:12] in lines[1]
    # each code carries its pack; the plain import's codes none
    from sqlalchemy import func

    from station.store.models import Code, Pack

    c, k = Code.__table__, Pack.__table__
    with _engine(station_dir).connect() as conn:
        per_pack = conn.execute(
            select(k.c.name, func.count())
            .select_from(c.outerjoin(k, k.c.id == c.c.pack_id))
            .group_by(k.c.name)
        ).all()
    assert dict(per_pack) == {"ZB-0001": 30, "ZB-0002": 20, "DB-1": 5, None: 7}


def test_same_content_under_another_name_is_refused(cli, station_dir: Path, tmp_path: Path) -> None:
    _config(station_dir)
    codes = _codes(12)
    assert cli("codes", "import", str(_pack(tmp_path / "a.txt", codes)), "--level", "box",
               "--pack", "ZB-A").rc == 0  # fmt: skip
    # The same codes saved again as UTF-16 with CRLF line ends: the same content, the same pack.
    again = _pack(tmp_path / "again.txt", codes, encoding="utf-16", eol="\r\n")
    r = cli("codes", "import", str(again), "--level", "box", "--pack", "ZB-B")
    _ok_error(r, 2, "again.txt", "imported already as pack ZB-A", "nothing was imported")
    # The name is the pack's: another file under a name in use is refused too.
    other = _pack(tmp_path / "other.txt", _codes(3))
    r = cli("codes", "import", str(other), "--level", "box", "--pack", "ZB-A")
    _ok_error(r, 2, "--pack ZB-A", "exists already", "another name")
    packs = cli("codes", "packs", "--json").json
    assert [p["name"] for p in packs["packs"]] == ["ZB-A"]
    assert cli("codes", "stats", "--json").json["levels"] == {"box": {"available": 12}}


def test_a_code_held_already_refuses_the_whole_file(cli, station_dir: Path, tmp_path: Path) -> None:
    _config(station_dir)
    first = _codes(10)
    assert cli("codes", "import", str(_pack(tmp_path / "p1.txt", first)), "--level", "box",
               "--pack", "P1").rc == 0  # fmt: skip
    assert cli("codes", "generate", "--level", "box", "--count", "2").rc == 0
    new = _codes(4)
    mixed = _pack(tmp_path / "p2.txt", [new[0], new[1], first[3], new[2]])
    r = cli("codes", "import", str(mixed), "--level", "box", "--pack", "P2")
    _ok_error(r, 2, "p2.txt", "line 3", "already in the store", "pack P1", "nothing was imported")
    assert "line 1" not in r.err and "line 4" not in r.err
    # no partial import: none of the new codes, no pack P2
    assert cli("codes", "stats", "--json").json["levels"] == {"box": {"available": 12}}
    assert [p["name"] for p in cli("codes", "packs", "--json").json["packs"]] == ["P1"]
    # the same without --pack: the import refuses by line as before
    r = cli("codes", "import", str(mixed), "--level", "box")
    _ok_error(r, 2, "p2.txt", "line 3", "pack P1")
    assert cli("codes", "stats", "--json").json["levels"] == {"box": {"available": 12}}


def test_withdraw_is_refused_once_a_code_is_used(cli, station_dir: Path, tmp_path: Path) -> None:
    from station.store import lifecycle
    from station.store.lifecycle import State
    from station.store.models import Code

    _config(station_dir)
    codes = _codes(8)
    cli("codes", "import", str(_pack(tmp_path / "w.txt", codes)), "--level", "box", "--pack", "W1")
    c = Code.__table__
    engine = _engine(station_dir)
    with engine.begin() as conn:  # the line took two of them
        ids = conn.execute(select(c.c.id).where(c.c.code.in_(codes[2:4])).order_by(c.c.id))
        lifecycle.move(conn, ids.scalars().all(), State.RESERVED, user="line")
    r = cli("codes", "withdraw-pack", "W1", "--reason", "misprint", "--json")
    _ok_error(r, 1, "pack W1", "2 of 8 codes are used", codes[2], "reserved", "nothing was changed")
    assert r.json["ok"] is False
    with engine.connect() as conn:
        states = sorted(conn.execute(select(c.c.state).where(c.c.code.in_(codes))).scalars())
    assert states == ["available"] * 6 + ["reserved"] * 2
    row = cli("codes", "packs", "--json").json["packs"][0]
    assert (row["used"], row["available"], row["withdrawn"], row["withdrawn_at"]) == (2, 6, 0, None)


def test_withdraw_voids_an_unused_pack_with_an_audit_entry_each(
    cli, station_dir: Path, tmp_path: Path
) -> None:
    from station.store.models import AuditEntry, Code

    _config(station_dir)
    codes, kept = _codes(6), _codes(3)
    f = _pack(tmp_path / "w.txt", codes)
    assert cli("codes", "import", str(f), "--level", "box", "--pack", "W1").rc == 0
    assert cli("codes", "import", str(_pack(tmp_path / "k.txt", kept)), "--level", "box",
               "--pack", "KEEP").rc == 0  # fmt: skip
    r = cli("codes", "withdraw-pack", "W1", "--reason", "supplier recalled it", "--json")
    assert r.rc == 0, r.err
    assert r.json == {"name": "W1", "level": "box", "voided": 6, "reason": "supplier recalled it"}
    assert cli("codes", "stats", "--json").json["levels"] == {"box": {"void": 6, "available": 3}}
    rows = {p["name"]: p for p in cli("codes", "packs", "--json").json["packs"]}
    w = rows["W1"]
    assert (w["count"], w["used"], w["available"], w["withdrawn"]) == (6, 0, 0, 6)
    assert w["withdrawn_at"] and w["withdrawn_by"] == "setup"
    assert w["withdraw_reason"] == "supplier recalled it"
    assert (rows["KEEP"]["available"], rows["KEEP"]["withdrawn"]) == (3, 0)
    a, c = AuditEntry.__table__, Code.__table__
    with _engine(station_dir).connect() as conn:
        moves = conn.execute(
            select(a.c.subject, a.c.old, a.c.new, a.c.reason).where(a.c.action == "state")
        ).all()
        assert sorted(moves) == sorted(
            (code, "available", "void", "pack withdrawn: supplier recalled it") for code in codes
        )
        pack_rows = conn.execute(
            select(a.c.action, a.c.subject).where(a.c.action.like("pack.%")).order_by(a.c.id)
        ).all()
        assert pack_rows == [
            ("pack.import", "W1"),
            ("pack.import", "KEEP"),
            ("pack.withdraw", "W1"),
        ]
        assert set(conn.execute(select(c.c.state).where(c.c.code.in_(codes))).scalars()) == {"void"}
    verify = cli("audit", "verify", "--json")
    assert verify.rc == 0 and verify.json["ok"] is True
    # once withdrawn: refused again (exit 1), and its content stays a pack (no re-import)
    _ok_error(cli("codes", "withdraw-pack", "W1", "--reason", "again"), 1, "withdrawn already")
    r = cli("codes", "import", str(f), "--level", "box", "--pack", "W1-again")
    _ok_error(r, 2, "imported already as pack W1")
    _ok_error(cli("codes", "withdraw-pack", "NOPE", "--reason", "x"), 2, "NOPE", "codes packs")
    _ok_error(cli("codes", "withdraw-pack", "KEEP", "--reason", "  "), 2, "--reason")


def test_withdraw_needs_the_code_admin_role(cli, station_dir: Path, tmp_path: Path) -> None:
    _config(station_dir)
    assert cli("users", "add", "admin", env={"LINESTATION_PIN": ADMIN_PIN}).rc == 0
    admin = {"LINESTATION_PIN": ADMIN_PIN}
    r = cli("--user", "admin", "users", "add", "op1", "--role", "operator",
            env={**admin, "LINESTATION_NEW_PIN": OP_PIN})  # fmt: skip
    assert r.rc == 0, r.err
    f = _pack(tmp_path / "w.txt", _codes(3))
    op = {"LINESTATION_PIN": OP_PIN}
    r = cli("--user", "op1", "codes", "import", str(f), "--level", "box", "--pack", "W", env=op)
    _ok_error(r, 2, "codes.manage")
    assert cli("--user", "admin", "codes", "import", str(f), "--level", "box", "--pack", "W",
               env=admin).rc == 0  # fmt: skip
    r = cli("--user", "op1", "codes", "withdraw-pack", "W", "--reason", "x",
            env=op)  # fmt: skip
    _ok_error(r, 2, "codes.manage")
    ok = cli("--user", "op1", "codes", "packs", "--json", env=op)
    assert ok.rc == 0 and ok.json["packs"][0]["available"] == 3
    r = cli("--user", "admin", "codes", "withdraw-pack", "W", "--reason", "x", env=admin)
    assert r.rc == 0, r.err


def test_code_length_refuses_the_file_naming_the_line(
    cli, station_dir: Path, tmp_path: Path
) -> None:
    _config(station_dir, lengths={"box": 16, "inner": 16})
    codes = _codes(5)
    codes[3] = codes[3][:15]
    f = _pack(tmp_path / "short.txt", ["code", *codes])  # a header line: the bad code is line 5
    r = cli("codes", "import", str(f), "--level", "box", "--pack", "S1")
    _ok_error(r, 2, "short.txt", "line 5", "15 characters", "code_length", "nothing was imported")
    r = cli("codes", "import", str(f), "--level", "box")  # a plain import is checked the same way
    _ok_error(r, 2, "short.txt", "line 5")
    assert cli("codes", "stats", "--json").json["levels"] == {}
    assert cli("codes", "packs", "--json").json["packs"] == []
    # levels without code_length take any length; pairs check each column's level
    assert cli("codes", "import", str(f), "--level", "case").rc == 0
    pairs = tmp_path / "caps.csv"
    inner = _codes(2)
    pairs.write_text(f"{inner[0]},OUT-1\n{inner[1][:10]},OUT-2\n")
    _ok_error(cli("codes", "import", str(pairs), "--pairs"), 2, "caps.csv", "line 2", "inner")
    assert "line 1" not in cli("codes", "import", str(pairs), "--pairs").err


def test_bad_pack_options_and_an_unconfigured_level(cli, station_dir: Path, tmp_path: Path) -> None:
    f = _pack(tmp_path / "zb.txt", _codes(3))
    # the sample config has no box level: say how to add it
    r = cli("codes", "import", str(f), "--level", "box", "--pack", "ZB")
    _ok_error(r, 2, "'box' is not configured", "[[levels]]", 'name = "box"', "after the [[levels]] "
              "table of outer", "capacity")  # fmt: skip
    _ok_error(cli("codes", "packs", "--level", "box"), 2, 'name = "box"')
    _ok_error(cli("codes", "import", str(f), "--level", "crate"), 2, "'crate'", "levels are")
    _ok_error(cli("codes", "import", str(f), "--level", "case", "--source", "Acme"), 2, "--pack")
    _ok_error(cli("codes", "import", str(f), "--level", "case", "--pack", " "), 2, "--pack")
    pairs = tmp_path / "caps.csv"
    pairs.write_text("INNERCODE0000001,OUTERCODE000001\n")
    _ok_error(cli("codes", "import", str(pairs), "--pairs", "--pack", "CAPS"), 2, "--pairs")
    assert cli("codes", "stats", "--json").json["levels"] == {}
    assert cli("codes", "packs").out.strip() == "no packs"
