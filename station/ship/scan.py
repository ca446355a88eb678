"""Scanning codes onto an order: every rule checked, then one row per code under a unique key.

A container ships with everything in it: scanning a pallet adds the pallet, its cases and their
items, each as one `shipment_codes` row pointing at the pallet (`top_id`). The unique code_id
is the guard when two handhelds scan the same pallet into two orders at once: both may pass the
checks, the database lets exactly one insert through, and the other is told which order has it.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Engine, func, insert, select
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError

from station.ship.orders import OrderView, _view, get_row, lock_open
from station.ship.release import released
from station.ship.settings import ship_settings
from station.ship.texts import LEVELS_ZH, ShipRefused
from station.store import audit
from station.store.db import read_engine
from station.store.models import Batch, Code, Shipment, ShipmentCode

_codes = Code.__table__
_batches = Batch.__table__
_sc = ShipmentCode.__table__
_ship = Shipment.__table__
SHIPPABLE = ("verified", "linked")
CHUNK = 500
_COLS = (_codes.c.id, _codes.c.code, _codes.c.level, _codes.c.state, _codes.c.batch_id,
         _codes.c.parent_id, _codes.c.reason)  # fmt: skip


@dataclass
class Added:
    """What a scan added: the entries, how many codes came with them, the order after it."""

    entries: list[str]
    level: str
    codes: int
    skipped: dict[str, int]
    order: OrderView

    def to_json(self) -> dict:
        """A JSON-ready dict."""
        return {"ok": True, "entries": self.entries, "level": self.level, "codes": self.codes,
                "skipped": self.skipped, "order": self.order.to_json()}  # fmt: skip


def normalise(text: str) -> list[str]:
    """What a scanner may send for one code: trimmed, an AIM prefix dropped, (00)SSCC forms."""
    code = text.strip().strip("\x00")
    if code[:3] in ("]C1", "]Q3", "]d2", "]e0"):
        code = code[3:]
    out = [code]
    bare = code.replace("(", "").replace(")", "")
    if bare.startswith("00") and len(bare) == 20 and bare.isdigit():
        out.append(bare[2:])  # a pallet label's (00) SSCC, stored as the 18 digits
    return out


def find(conn: Connection, text: str):
    """The codes row for scanned `text`, or None."""
    for code in normalise(text):
        row = conn.execute(select(*_COLS).where(_codes.c.code == code)).first()
        if row is not None:
            return row
    return None


class Releases:
    """Whether a batch's codes may ship: released by QA, or (`ship.require_release = false`)
    merely completed; each batch read once."""

    def __init__(self, conn: Connection, settings=None) -> None:
        self.conn = conn
        self.require = ship_settings(settings).require_release if settings is not None else True
        self._ok: dict[str, bool] = {}

    def ok(self, batch_id: str) -> bool:
        """True when `batch_id`'s codes may ship."""
        if batch_id not in self._ok:
            if self.require:
                self._ok[batch_id] = released(self.conn, batch_id) is not None
            else:
                state = self.conn.execute(
                    select(_batches.c.state).where(_batches.c.id == batch_id)
                ).scalar()
                self._ok[batch_id] = state == "completed"
        return self._ok[batch_id]


def _refuse_state(row, releases: Releases, **extra) -> None:
    p = {"code": row.code, "level": row.level, "state": row.state, **extra}
    if row.level == "inner":
        raise ShipRefused("inner", **p)
    if row.state == "rejected":
        raise ShipRefused("qa_hold", why=row.reason or "rejected", **p)
    if row.state == "decommissioned":
        raise ShipRefused("decommissioned", why=row.reason or "-", **p)
    if row.state == "void":
        raise ShipRefused("void", **p)
    if row.batch_id is None:
        raise ShipRefused("not_in_batch", **p)
    if row.state not in SHIPPABLE:
        raise ShipRefused("not_verified", **p)
    if not releases.ok(row.batch_id):
        raise ShipRefused("not_released", batch=row.batch_id, **p)


class Tree:
    """The codes around some roots, read in a few queries: everything inside each root, the
    containers above it, and which of them are on an order already.

    A range of 10,000 codes costs a handful of queries per level instead of several per code.
    """

    def __init__(self, conn: Connection, roots: list) -> None:
        self.by_id = {r.id: r for r in roots}
        self.kids: dict[int, list] = {}
        frontier = list(self.by_id)
        while frontier:
            found = []
            for i in range(0, len(frontier), CHUNK):
                found += conn.execute(
                    select(*_COLS).where(_codes.c.parent_id.in_(frontier[i : i + CHUNK]))
                    .order_by(_codes.c.id)
                ).all()  # fmt: skip
            for k in found:
                self.kids.setdefault(k.parent_id, []).append(k)
                self.by_id[k.id] = k
            frontier = [k.id for k in found]
        need = {r.parent_id for r in roots if r.parent_id is not None} - set(self.by_id)
        for _ in range(8):  # containers above: pallet over case over box
            if not need:
                break
            ups = []
            ids = list(need)
            for i in range(0, len(ids), CHUNK):
                ups += conn.execute(select(*_COLS).where(_codes.c.id.in_(ids[i : i + CHUNK])))
            for u in ups:
                self.by_id[u.id] = u
            need = {u.parent_id for u in ups if u.parent_id is not None} - set(self.by_id)
        self.held: dict[int, object] = {}
        top = _codes.alias("t")
        ids = list(self.by_id)
        for i in range(0, len(ids), CHUNK):
            for r in conn.execute(
                select(_sc.c.code_id, _sc.c.top_id, _sc.c.shipment_id, _ship.c.order_no,
                       _ship.c.state, top.c.code.label("top"), top.c.level.label("top_level"))
                .select_from(_sc.join(_ship, _ship.c.id == _sc.c.shipment_id)
                             .join(top, top.c.id == _sc.c.top_id))
                .where(_sc.c.code_id.in_(ids[i : i + CHUNK]))
            ):  # fmt: skip
                self.held[r.code_id] = r

    def subtree(self, root) -> list:
        """`root` and every code inside it, level by level."""
        out, frontier = [root], [root]
        while frontier:
            frontier = [k for f in frontier for k in self.kids.get(f.id, ())]
            out += frontier
        return out

    def chain(self, row) -> list[int]:
        """The ids of the containers above `row`, nearest first."""
        out, parent = [], row.parent_id
        while parent is not None and parent in self.by_id and len(out) < 8:
            out.append(parent)
            parent = self.by_id[parent].parent_id
        return out

    def holder(self, ids: list[int]):
        """The first shipment row among `ids`, or None."""
        return next((self.held[i] for i in ids if i in self.held), None)


def check_entry(conn: Connection, order_row, row, releases: Releases, tree: Tree) -> list:
    """Every rule for putting `row` on the order; the codes it brings, or ShipRefused."""
    _refuse_state(row, releases)
    codes = tree.subtree(row)
    for kid in codes[1:]:
        if kid.level == "inner":  # a cap code inside its item's container goes with it
            continue
        try:
            _refuse_state(kid, releases)
        except ShipRefused as exc:
            if exc.key == "qa_hold":
                raise ShipRefused("child_qa_hold", code=row.code, level=row.level,
                                  child=kid.code, child_level=kid.level,
                                  why=exc.params.get("why")) from None  # fmt: skip
            raise
    # The code itself or a container above it first: that is the answer the scanner needs.
    held = tree.holder([row.id, *tree.chain(row)]) or tree.holder([c.id for c in codes[1:]])
    if held is not None:
        raise _held_refusal(conn, order_row, row, held, {c.id for c in codes[1:]})
    return codes


def _held_refusal(conn: Connection, order_row, row, held, inside: set[int]) -> ShipRefused:
    """Why `row` cannot go on: `held` is a shipment row of it, of a code inside it (`inside`)
    or of a container above it."""
    p = {"code": row.code, "level": row.level}
    mine = held.shipment_id == order_row.id
    if held.code_id == row.id or held.code_id not in inside:  # the code itself, or a parent
        if not mine:
            via = "" if held.top == row.code else f" with {held.top_level} {held.top}"
            zh_level = LEVELS_ZH.get(held.top_level, held.top_level)
            via_zh = "" if held.top == row.code else f"（随 {zh_level} {held.top}）"
            return ShipRefused("already_shipped", order=held.order_no, order_state=held.state,
                               via=via, via_zh=via_zh, top=held.top, **p)  # fmt: skip
        if held.top_id == row.id:
            return ShipRefused("duplicate", order=held.order_no, **p)
        return ShipRefused("inside_on_order", top=held.top, top_level=held.top_level, **p)
    # A code inside `row` is on an order: name the entry it went with.
    child = conn.execute(select(*_COLS).where(_codes.c.id == held.top_id)).one()
    if held.top_id not in inside:  # it came with another container: name the code itself
        child = conn.execute(select(*_COLS).where(_codes.c.id == held.code_id)).one()
    if not mine:
        return ShipRefused("child_shipped", child=child.code, child_level=child.level,
                           order=held.order_no, order_state=held.state, **p)  # fmt: skip
    return ShipRefused("child_on_order", child=child.code, child_level=child.level, **p)


def _insert(conn: Connection, order_id: int, top_id: int, ids: list[int], user: str) -> None:
    at = audit.now()
    rows = [{"shipment_id": order_id, "code_id": i, "top_id": top_id, "added_at": at,
             "added_by": user} for i in ids]  # fmt: skip
    for i in range(0, len(rows), CHUNK):
        conn.execute(insert(_sc), rows[i : i + CHUNK])


def _lost_race(engine: Engine, order: str, text: str) -> ShipRefused:
    """After the unique key refused our insert: who has the code now."""
    with read_engine(engine).connect() as conn:
        order_row, row = get_row(conn, order), find(conn, text)
        tree = Tree(conn, [row])
        codes = tree.subtree(row)
        held = tree.holder([row.id, *tree.chain(row)]) or tree.holder([c.id for c in codes[1:]])
        if held is None:  # the winner removed it meanwhile: a rescan will do
            return ShipRefused("already_shipped", code=row.code, level=row.level, order="?",
                               order_state="changing", via="", via_zh="")  # fmt: skip
        return _held_refusal(conn, order_row, row, held, {c.id for c in codes[1:]})


def scan(engine: Engine, order: str, text: str, *, user: str, settings=None) -> Added:
    """Put the code `text` (a pallet, case or item) and all it holds on open order `order`."""
    try:
        with engine.begin() as conn:
            order_row = lock_open(conn, order)
            row = find(conn, text)
            if row is None:
                raise ShipRefused("unknown", code=text.strip())
            codes = check_entry(conn, order_row, row, Releases(conn, settings), Tree(conn, [row]))
            _insert(conn, order_row.id, row.id, [c.id for c in codes], user)
            audit.record(conn, user, [audit.Change(
                "ship.scan", row.code, None, order, f"{row.level} with {len(codes)} code(s)",
                row.batch_id)])  # fmt: skip
            after = _view(conn, get_row(conn, order), False)
    except IntegrityError:
        raise _lost_race(engine, order, text) from None
    return Added([row.code], row.level, len(codes), {}, after)


def scan_range(engine: Engine, settings, order: str, first: str, last: str, *, user: str) -> Added:
    """Put the code range (码段) FIRST … LAST of one level and one batch on the order, or none.

    The range is the batch's codes of that level from FIRST to LAST in the order the station
    holds them (its serial order). Void and decommissioned codes in it are skipped and counted;
    any other refusal refuses the whole range, naming the first few codes and why.
    """
    limit = ship_settings(settings).range_limit
    try:
        with engine.begin() as conn:
            order_row = lock_open(conn, order)
            a, b = find(conn, first), find(conn, last)
            for text, row in ((first, a), (last, b)):
                if row is None:
                    raise ShipRefused("unknown", code=text.strip())
            p = {"first": a.code, "last": b.code}
            if a.level != b.level:
                raise ShipRefused("range_levels", first_level=a.level, last_level=b.level, **p)
            if a.batch_id != b.batch_id or a.batch_id is None:
                raise ShipRefused("range_batches", first_batch=a.batch_id or "-",
                                  last_batch=b.batch_id or "-", **p)  # fmt: skip
            if a.id > b.id:
                raise ShipRefused("range_order", **p)
            if a.level == "inner":
                raise ShipRefused("inner", code=a.code, level=a.level)
            where = (_codes.c.level == a.level, _codes.c.batch_id == a.batch_id,
                     _codes.c.id >= a.id, _codes.c.id <= b.id)  # fmt: skip
            count = conn.execute(select(func.count()).where(*where)).scalar_one()
            if count > limit:
                raise ShipRefused("range_too_long", count=count, limit=limit, **p)
            rows = conn.execute(select(*_COLS).where(*where).order_by(_codes.c.id)).all()
            skipped: dict[str, int] = {}
            bad: list[ShipRefused] = []
            releases = Releases(conn, settings)
            plan = []
            live = [r for r in rows if r.state not in ("void", "decommissioned")]
            for row in rows:
                if row.state in ("void", "decommissioned"):
                    skipped[row.state] = skipped.get(row.state, 0) + 1
            tree = Tree(conn, live)
            for row in live:
                try:
                    plan.append((row, check_entry(conn, order_row, row, releases, tree)))
                except ShipRefused as exc:
                    bad.append(exc)
            if bad:
                more = " …" if len(bad) > 5 else ""
                raise ShipRefused("range_refused", bad=len(bad), count=len(rows),
                                  examples="; ".join(e.message("en") for e in bad[:5]) + more,
                                  examples_zh="；".join(e.message("zh") for e in bad[:5]) + more,
                                  **p)  # fmt: skip
            if not plan:
                raise ShipRefused("range_empty", count=len(rows), skipped=skipped, **p)
            total = 0
            for row, codes in plan:
                _insert(conn, order_row.id, row.id, [c.id for c in codes], user)
                total += len(codes)
            audit.record(conn, user, [audit.Change(
                "ship.scan_range", f"{a.code}..{b.code}", None, order,
                f"{len(plan)} {a.level} with {total} code(s); skipped {skipped or 'none'}",
                a.batch_id)])  # fmt: skip
            after = _view(conn, get_row(conn, order), False)
    except IntegrityError:
        raise _lost_race(engine, order, first) from None
    return Added([r.code for r, _ in plan], a.level, total, skipped, after)
