"""手工采集 on the touchscreen: the guided sequence (scan the items, then the case code) through
CollectViewModel, Qt-free and on the screen with a wedge scanner; screenshots in both languages."""

from __future__ import annotations

from sqlalchemy import insert, select, update

from station.store import lifecycle
from station.store.lifecycle import State
from station.store.models import AuditEntry, Code
from ui.viewmodels.collect import CollectViewModel
from ui.viewmodels.session import SessionModel

from .conftest import PINS, login
from .test_shift import CUT, shoot, wedge

_codes = Code.__table__
_audit = AuditEntry.__table__


def _loose_items(station, n: int = 4) -> list[str]:
    """n verified outers (paired with their inner codes) in the batch, and case code KC1."""
    outers = [f"MANUAL-OUTER-{i:03d}" for i in range(1, n + 1)]
    with station.engine.begin() as conn:
        rows = [{"code": c, "level": "outer", "state": "available"} for c in outers]
        rows += [{"code": f"MANUAL-INNER-{i:03d}", "level": "inner", "state": "available"}
                 for i in range(1, n + 1)]  # fmt: skip
        rows += [{"code": "KC1", "level": "case", "state": "available"}]
        conn.execute(insert(_codes), rows)
        ids = dict(conn.execute(select(_codes.c.code, _codes.c.id)).all())
        b = station.batch_id
        for i in range(1, n + 1):
            o, p = ids[f"MANUAL-OUTER-{i:03d}"], ids[f"MANUAL-INNER-{i:03d}"]
            lifecycle.move(conn, [o, p], State.VERIFIED, user="line", extra={"batch_id": b})
            conn.execute(update(_codes).where(_codes.c.id == o).values(pair_id=p))
            conn.execute(update(_codes).where(_codes.c.id == p).values(pair_id=o))
    return outers


def _parent(station, code: str):
    with station.engine.connect() as conn:
        p = _codes.alias("p")
        return conn.execute(
            select(p.c.code).select_from(_codes.join(p, p.c.id == _codes.c.parent_id))
            .where(_codes.c.code == code)
        ).scalar()  # fmt: skip


def test_guided_collection_model(station) -> None:
    items = _loose_items(station)
    session = SessionModel(station.engine, station.settings)
    session.login("olga", PINS["olga"])
    m = CollectViewModel(station.engine, station.settings, session)
    assert m.levels == ["case", "pallet"] and m.level == "case"
    assert m.prompt() == ("child", "outer", 0, 24)
    m.choose("case", partial=True)
    seen = []
    m.finished.connect(seen.append)
    for code in (items[0], items[1], items[1]):  # the same item twice: refused by name
        m.scan(code)
    assert len(seen) == 1 and not seen[0].ok and f"duplicate {items[1]}" in seen[0].reason
    assert m.pending == [] and _parent(station, items[0]) is None
    for code in (*items[:3], "KC1"):
        m.scan(code)
    assert seen[-1].ok and seen[-1].parent == "KC1" and seen[-1].status == "partial"
    assert all(_parent(station, c) == "KC1" for c in items[:3])
    with station.engine.connect() as conn:
        who = conn.execute(select(_audit.c.user).where(_audit.c.action == "collect")).scalars()
        assert list(who) == ["olga"]


def test_guided_collection_screen(qtbot, window, station) -> None:
    items = _loose_items(station)
    w = window
    login(qtbot, w, "olga")
    w.show_screen("collect")
    scr = w.screens["collect"]
    assert scr.prompt.text() == "Scan 24 × Outer code, then the container (0 / 24 scanned)"
    scr.partial.setChecked(True)
    for code in items[:2]:
        wedge(qtbot, scr.scan_field, code)
    qtbot.waitUntil(lambda: scr.scanned.count() == 2, timeout=5000)
    assert scr.prompt.text().endswith("(2 / 24 scanned)")
    shoot(w, "collect")
    assert not CUT, CUT
    wedge(qtbot, scr.scan_field, "KC1")
    qtbot.waitUntil(lambda: scr.done.rowCount() == 1, timeout=5000)
    assert scr.message.text() == "Case code KC1: 2 linked"
    assert scr.done.item(0, 1).text() == "2 linked" and _parent(station, items[0]) == "KC1"
    wedge(qtbot, scr.scan_field, "KC1")  # a container code first: refused, said why
    qtbot.waitUntil(lambda: scr.done.rowCount() == 2, timeout=5000)
    assert scr.message.text().startswith("Refused, nothing linked: out_of_order KC1")
