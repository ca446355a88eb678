"""Code packs in the store (SQLite and a real PostgreSQL server) and the pure length rule."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import func, select

from station.codes import files as codefile
from station.codes import packs
from station.codes.generate import random_serials
from station.config import load_settings
from station.errors import CheckFailed, ImportRejected
from station.store import audit
from station.store.db import make_engine
from station.store.models import Code

ROOT = Path(__file__).resolve().parents[3]
ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
_codes = Code.__table__


@pytest.fixture
def settings(tmp_path: Path):
    """The sample config with a box level of 16-character codes."""
    text = (ROOT / "config.toml").read_text(encoding="utf-8")
    box = '[[levels]]\nname = "box"\nlabel_zh = "盒码"\nlabel_en = "Box code"\ncode_length = 16\n\n'
    text = text.replace('[[levels]]\nname = "case"', box + '[[levels]]\nname = "case"', 1)
    (tmp_path / "config.toml").write_text(text, encoding="utf-8")
    return load_settings(tmp_path / "config.toml")


def _parsed(path: Path, codes: list[str], settings, **kw) -> codefile.ParsedFile:
    path.write_bytes("".join(c + kw.get("eol", "\n") for c in codes).encode(kw.get("enc", "utf-8")))
    return codefile.parse(path, pairs=False, max_length=200, alphabet=settings.codes.alphabet)


def test_length_ok_is_off_unless_the_level_sets_it(settings) -> None:
    assert packs.length_ok(settings, "box", "A" * 16)
    assert not packs.length_ok(settings, "box", "A" * 15)
    assert not packs.length_ok(settings, "box", "A" * 17)
    assert packs.length_ok(settings, "case", "A" * 3)  # no code_length: any length
    assert packs.length_ok(settings, "nolevel", "A")  # a level the line does not use
    assert settings.level("box").code_length == 16 and settings.level("case").code_length is None


def test_content_digest_ignores_encoding_bom_line_ends_and_case(settings, tmp_path: Path) -> None:
    codes = random_serials(ALPHABET, 16, 50)
    a = _parsed(tmp_path / "a.txt", codes, settings)
    b = _parsed(tmp_path / "b.txt", codes, settings, enc="utf-16", eol="\r\n")
    c = _parsed(tmp_path / "c.txt", ["code", *[x.lower() for x in codes]], settings)
    d = _parsed(tmp_path / "d.txt", codes[::-1], settings)
    assert a.sha256 != b.sha256  # the raw files differ …
    assert packs.content_sha256(a) == packs.content_sha256(b) == packs.content_sha256(c)
    assert packs.content_sha256(a) != packs.content_sha256(d)  # … the order is the content's


def test_pack_import_and_withdraw_on_both_engines(settings, db_url: str, tmp_path: Path) -> None:
    engine = make_engine(db_url)
    codes = random_serials(ALPHABET, 16, 120)
    n, pack = packs.import_codes(
        engine, settings, _parsed(tmp_path / "p.txt", codes, settings), "box", user="u", pack="P1"
    )
    assert n == 120 and pack is not None and pack["name"] == "P1"
    more = random_serials(ALPHABET, 16, 30)
    packs.import_codes(
        engine, settings, _parsed(tmp_path / "q.txt", more, settings), "box", user="u", pack="P2"
    )
    bad = [*random_serials(ALPHABET, 16, 2), "SHORT"]
    with pytest.raises(ImportRejected, match="line 3: 5 characters"):
        packs.import_codes(
            engine, settings, _parsed(tmp_path / "r.txt", bad, settings), "box", user="u", pack="R"
        )
    with engine.connect() as conn:
        rows = packs.list_packs(conn, "box")
        per_pack = conn.execute(
            select(_codes.c.pack_id, func.count()).group_by(_codes.c.pack_id)
        ).all()
    assert [(r["name"], r["count"], r["available"]) for r in rows] == [
        ("P1", 120, 120),
        ("P2", 30, 30),
    ]
    assert sorted(n for _, n in per_pack) == [30, 120]
    with engine.begin() as conn:  # the line uses one code of P2
        from station.store import lifecycle
        from station.store.lifecycle import State

        one = conn.execute(select(_codes.c.id).where(_codes.c.code == more[5])).scalar_one()
        lifecycle.move(conn, [one], State.RESERVED, user="line")
    with pytest.raises(CheckFailed, match=f"1 of 30 codes are used already .e.g. {more[5]}"):
        packs.withdraw(engine, "P2", user="u", reason="r")
    done = packs.withdraw(engine, "P1", user="u", reason="misprint")
    assert done["voided"] == 120
    with engine.connect() as conn:
        rows = {r["name"]: r for r in packs.list_packs(conn)}
        _, broken = audit.verify(conn)
    assert (rows["P1"]["withdrawn"], rows["P1"]["available"], rows["P1"]["used"]) == (120, 0, 0)
    assert (rows["P2"]["used"], rows["P2"]["available"]) == (1, 29)
    assert broken is None


def test_a_store_at_0003_gains_packs_and_keeps_its_codes(tmp_path: Path) -> None:
    from alembic import command
    from alembic.config import Config

    from station.store.db import MIGRATIONS, schema_version

    url = f"sqlite:///{tmp_path / 'old.db'}"
    engine = make_engine(url, migrate=False)
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "0003")
        conn.exec_driver_sql(
            "INSERT INTO codes (code, level, state) VALUES ('OLD1', 'outer', 'available')"
        )
    engine = make_engine(url)
    assert schema_version(engine) >= "0004"
    with engine.connect() as conn:
        assert conn.execute(select(_codes.c.code, _codes.c.pack_id)).all() == [("OLD1", None)]
        assert packs.list_packs(conn) == []
    with engine.begin() as conn:  # and back down
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, "0003")
    assert schema_version(engine) == "0003"
