"""手工采集: `station collect` links scanned codes to their containers with the camera path's
rules, one transaction per container; a refused container links nothing."""

from __future__ import annotations

import io
import os
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import insert, select, update

from station.config import load_settings
from station.store import lifecycle
from station.store.db import make_engine
from station.store.lifecycle import State
from station.store.models import AuditEntry, Code

_codes = Code.__table__
_audit = AuditEntry.__table__
BOX_LEVEL = """
[[levels]]
name = "box"
label_zh = "盒码"
label_en = "Box code"
capacity = 6
"""
PIN = {"LINESTATION_PIN": "1111"}


def _with_box(station_dir) -> None:
    """config.toml with a box level (6 items) between outer and case (4 boxes), pallet 2 cases."""
    cfg = station_dir / "config.toml"
    text = cfg.read_text(encoding="utf-8")
    marker = '[[levels]]\nname = "case"'
    assert marker in text
    text = text.replace(marker, BOX_LEVEL.strip() + "\n\n" + marker)
    text = text.replace("capacity = 24", "capacity = 4").replace("capacity = 20", "capacity = 2")
    cfg.write_text(text, encoding="utf-8")


@pytest.fixture
def line(station_dir, cli):
    """Operator op1, batch B1, outers b1..b14 verified (paired), boxes X1..X3, cases K1..K2."""
    _with_box(station_dir)
    assert cli("users", "add", "admin", env={"LINESTATION_PIN": "9999"}).rc == 0
    env = {"LINESTATION_PIN": "9999", "LINESTATION_NEW_PIN": "1111"}
    assert cli("--user", "admin", "users", "add", "op1", "--role", "operator", env=env).rc == 0
    r = cli("--user", "admin", "batch", "create", "--product", "WATER-550", "--lot", "L1",
            "--quantity", "14", "--id", "B1", env={"LINESTATION_PIN": "9999"})  # fmt: skip
    assert r.rc == 0, r.err
    settings = load_settings(station_dir / "config.toml")
    engine = make_engine(settings.database_url)
    with engine.begin() as conn:
        rows = [{"code": f"b{n}", "level": "outer", "state": "available"} for n in range(1, 15)]
        rows += [{"code": f"i{n}", "level": "inner", "state": "verified"} for n in range(1, 15)]
        rows += [{"code": f"X{n}", "level": "box", "state": "available"} for n in range(1, 4)]
        rows += [{"code": f"K{n}", "level": "case", "state": "available"} for n in range(1, 3)]
        conn.execute(insert(_codes), rows)
        ids = [i for (i,) in conn.execute(select(_codes.c.id).where(_codes.c.level == "outer"))]
        code_id = dict(conn.execute(select(_codes.c.code, _codes.c.id)).all())
        for n in range(1, 15):  # a paired line: each outer carries its inner code
            o, i = code_id[f"b{n}"], code_id[f"i{n}"]
            conn.execute(update(_codes).where(_codes.c.id == o).values(pair_id=i, batch_id="B1"))
            conn.execute(update(_codes).where(_codes.c.id == i).values(pair_id=o, batch_id="B1"))
        for st in (State.RESERVED, State.PRINTED, State.VERIFIED):
            lifecycle.move(conn, ids, st, user="line", batch_id="B1", extra={"batch_id": "B1"})
    yield engine
    engine.dispose()


def _collect(cli, monkeypatch, text: str, *args: str):
    stdin = io.TextIOWrapper(io.BytesIO(text.encode()), encoding="utf-8")
    monkeypatch.setattr(sys, "stdin", stdin)
    return cli("--user", "op1", "collect", *args, env=PIN)


def _row(engine, code: str):
    with engine.connect() as conn:
        return conn.execute(select(_codes).where(_codes.c.code == code)).one()


def test_collect_boxes_then_cases(line, cli, monkeypatch) -> None:
    # CR endings as a handheld types them; b1 is scanned again for the second box
    scans = "\r".join(["b1", "b2", "b3", "b4", "b5", "b6", "X1", "b7", "b1", "b8"]) + "\r"
    scans += "b9\rb10\rb11\rX2\r"
    r = _collect(cli, monkeypatch, scans, "--level", "box", "--json")
    assert r.rc == 1, r.err
    first, second = r.json["containers"]
    assert first["ok"] and first["parent"] == "X1" and first["status"] == "normal", first["reason"]
    assert not second["ok"] and "already_linked b1" in second["reason"]
    x1 = _row(line, "X1").id
    assert all(_row(line, f"b{n}").parent_id == x1 for n in range(1, 7))
    assert all(_row(line, f"b{n}").parent_id is None for n in range(7, 12))  # nothing of X2
    assert _row(line, "X2").state == "available" and _row(line, "X1").child_count == 6
    # out of order: a box code first, a case code among bottles, too few without --partial
    r = _collect(cli, monkeypatch, "X2\nb7\nK1\nb7\nb8\nX2\n", "--level", "box", "--json")
    reasons = [c["reason"] for c in r.json["containers"]]
    assert r.rc == 1 and len(reasons) == 3, reasons
    assert "out_of_order X2" in reasons[0] and "wrong_level K1" in reasons[1]
    assert "count_mismatch X2: 2 of 6" in reasons[2]
    r = _collect(cli, monkeypatch, "b7\nb8\nX2\n", "--level", "box", "--partial")
    assert r.rc == 0 and "box X2: 2 linked (partial)" in r.out, r.err
    # the case level: boxes into a case (partial), audited as `collect`
    r = _collect(cli, monkeypatch, "X1\nX2\nK1\n", "--level", "case", "--partial", "--json")
    assert r.rc == 0 and r.json["linked"] == 1, r.out
    assert _row(line, "X1").parent_id == _row(line, "K1").id
    with line.connect() as conn:
        acts = [a for (a,) in conn.execute(select(_audit.c.action).where(_audit.c.user == "op1"))]
    assert acts.count("collect") == 3 and acts.count("link.add") == 6 + 2 + 2
    r = cli("--user", "op1", "check", "--json", env=PIN)
    assert r.rc == 0 and r.json["ok"], r.json


def test_collect_from_a_pipe(line, station_dir) -> None:
    """`printf 'b1\\n…\\nBOX\\n' | station collect --level box`, as a separate process."""
    root = Path(__file__).resolve().parents[3]
    main = "import sys; from station.cli import main; sys.exit(main(sys.argv[1:]))"
    r = subprocess.run(
        [sys.executable, "-c", main, "--config", str(station_dir / "config.toml"),
         "--user", "op1", "collect", "--level", "box"],
        input="b1\nb2\nb3\nb4\nb5\nb6\nX3\n", capture_output=True, text=True, cwd=root,
        env={**os.environ, **PIN}, timeout=300,
    )  # fmt: skip
    assert r.returncode == 0, r.stderr
    assert "box X3: 6 linked (normal)" in r.stdout
    assert _row(line, "b1").parent_id == _row(line, "X3").id


def test_collect_refuses_an_unconfigured_level(line, cli, monkeypatch) -> None:
    r = _collect(cli, monkeypatch, "b1\n", "--level", "crate")
    assert r.rc == 2 and "not configured" in r.err
    r = _collect(cli, monkeypatch, "b1\n", "--level", "outer")
    assert r.rc == 2 and "nothing to collect" in r.err
