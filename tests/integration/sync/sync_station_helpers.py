"""Helpers for the station ↔ upstream tests: config edits and small closed batches."""

from __future__ import annotations

from pathlib import Path

from station.batch import closing
from station.codes import pools
from station.config import Settings
from station.line.store import LineStore
from station.store import batches
from station.store.lifecycle import State
from sync.epcis import SCHEMA_DIR

ROOT = Path(__file__).resolve().parents[3]
SCHEMAS = SCHEMA_DIR
USER = "t"


def set_upstream(station_dir: Path, **values: str) -> None:
    """Replace the [upstream] table of the station's config.toml."""
    cfg = station_dir / "config.toml"
    text = cfg.read_text(encoding="utf-8").split("[upstream]")[0]
    body = "".join(f'{k} = "{v}"\n' for k, v in values.items())
    cfg.write_text(text + "[upstream]\n" + body, encoding="utf-8")


def close_small_batch(engine, settings: Settings, items: int = 4, *, lot: str = "L1") -> str:
    """A batch of `items` paired items in one case, moved through the lifecycle and closed."""
    for level, n in (("outer", items), ("inner", items), ("case", 1)):
        pools.generate(engine, settings, level, n, "random", user=USER)
    b = batches.create(engine, settings, product="WATER-550", lot=lot, quantity=items, user=USER)
    store = LineStore(engine, b.id, b.product_sku, USER)
    [case] = store.reserve("case", 1)
    outers = store.reserve("outer", items)
    inners = store.reserve("inner", items)
    for row in [case, *outers, *inners]:
        store.move(row, State.PRINTED)
        store.move(row, State.VERIFIED)
    for inner, outer in zip(inners, outers, strict=True):
        store.set_fields(inner, pair_id=outer.id)
        store.set_fields(outer, pair_id=inner.id)
        store.link(case, outer)
    store.container(case, "normal", items)
    store.flush()
    closing.close_batch(engine, settings, b.id, user=USER)
    return b.id


def palletized_batch(
    engine, settings: Settings, *, pallets: int = 3, cases: int = 2, items: int = 3, lot="P1"
) -> tuple[str, LineStore, list]:
    """An open batch whose pallets of `cases` cases of `items` paired items are closed one by
    one through the line store, as the runner does; (batch id, its store, the pallet rows)."""
    n_items = pallets * cases * items
    for level, n in (("outer", n_items), ("inner", n_items), ("case", pallets * cases),
                     ("pallet", pallets)):  # fmt: skip
        pools.generate(engine, settings, level, n, "random", user=USER)
    b = batches.create(engine, settings, product="WATER-550", lot=lot, quantity=n_items, user=USER)
    store = LineStore(engine, b.id, b.product_sku, USER)
    rows = []
    for _ in range(pallets):
        rows.append(add_pallet(store, cases, items))
    return b.id, store, rows


def add_pallet(store: LineStore, cases: int, items: int, *, close: bool = True):
    """One pallet of `cases` full cases, linked and closed (normal) as the line does."""
    [pallet] = store.reserve("pallet", 1)
    store.move(pallet, State.PRINTED)
    store.move(pallet, State.VERIFIED)
    store.container(pallet, "open", 0)
    for k in range(cases):
        [case] = store.reserve("case", 1)
        outers, inners = store.reserve("outer", items), store.reserve("inner", items)
        for row in [case, *outers, *inners]:
            store.move(row, State.PRINTED)
            store.move(row, State.VERIFIED)
        for inner, outer in zip(inners, outers, strict=True):
            store.set_fields(inner, pair_id=outer.id)
            store.set_fields(outer, pair_id=inner.id)
            store.link(case, outer)
        store.container(case, "normal", items)
        store.link(pallet, case)
        store.container(pallet, "open", k + 1)
        store.flush()
    if close:
        store.container(pallet, "normal", cases)
    store.flush()
    return pallet
