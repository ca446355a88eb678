"""`station demo`: a whole line against the simulators, with a simulated world, headless."""

from __future__ import annotations

import json
import logging
import threading
import time
import zlib
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import Engine, column, func, select

from station.batch import closing
from station.build import open_devices, sim_device_urls, start_simulators
from station.codes import pools
from station.config import Settings
from station.errors import StationError
from station.events import LineSignals, said
from station.line.runner import LineDevices, LineRunner
from station.line.store import LineStore
from station.plant import blocks as plant
from station.plant import link as plantlink
from station.plant.status import LivePublisher
from station.sim.world import World, physical_duplicates, world_mismatches
from station.store import batches
from station.store.batches import BatchState
from station.store.models import Batch, Code, Reject

log = logging.getLogger("station.sim.demo")
_codes = Code.__table__
_rejects = Reject.__table__
_batches = Batch.__table__
UPSTREAM_DRAIN_S = 30.0  # the demo's last batch gets this long to reach upstream


@dataclass(frozen=True)
class DemoPlan:
    """What a demo run was asked to do (kept beside the database so --resume can continue)."""

    items: int
    batches: int
    rate: int
    defects: float
    seed: int
    product: str


def _plan_path(settings: Settings) -> Path:
    return settings.data_dir / "demo-plan.json"


def _ensure_codes(engine: Engine, settings: Settings, level: str, need: int, user: str) -> None:
    with engine.connect() as conn:
        have = conn.execute(
            select(func.count()).where(
                _codes.c.level == level,
                _codes.c.state == "available",
                column("holder").is_(None) | (column("holder") == settings.station.id),
            )
        ).scalar_one()
    if have < need:
        scheme = "sscc" if level == "pallet" else "random"
        pools.generate(engine, settings, level, need - have, scheme, user=user)


def _caps(engine: Engine, n: int, holder: str | None = None) -> list[str]:
    stmt = select(_codes.c.code).where(_codes.c.level == "inner", _codes.c.state == "available")
    if holder is not None:  # plant: the caps come from this line's own block
        plant.top_up(engine, holder, "inner", n, user=holder)
        stmt = stmt.where(column("holder") == holder)
    with engine.connect() as conn:
        return list(conn.execute(stmt.order_by(_codes.c.id).limit(n)).scalars())


def preprinted_codes(engine: Engine, settings: Settings, items: int) -> dict[str, list[str]]:
    """The codes the packaging supplier printed on this batch's items and containers.

    For each level the line reads pre-printed (station/shape.py), that level's available codes
    (its imported packs), enough for `items` items with rework and defects to spare.
    """
    shape = settings.shape
    need: dict[str, int] = {}
    if shape.item.kind == "read":
        need[shape.item.level] = items + 100
    per = 1
    for step in shape.containers:
        per *= step.capacity
        if step.preprinted:
            need[step.level] = items // per + 20
    out = {}
    with engine.connect() as conn:
        for level, n in need.items():
            stmt = select(_codes.c.code).where(
                _codes.c.level == level, _codes.c.state == "available"
            )
            out[level] = list(conn.execute(stmt.order_by(_codes.c.id).limit(n)).scalars())
    return out


def run_batch(
    engine: Engine,
    settings: Settings,
    plan: DemoPlan,
    batch_id: str,
    *,
    user: str,
    signals: LineSignals | None = None,
    on_progress=None,
    prerender: dict | None = None,
    upstream: str | None = None,
    on_start=None,
) -> dict:
    """Run (or resume) one batch to completion and close it; returns its summary.

    With `upstream` (a URL or folder) a background sender delivers the batch while the line
    runs; the end waits for it at most UPSTREAM_DRAIN_S (the line itself never waits).
    """
    if upstream is not None:
        from station.upstream.sender import during

        with during(engine, settings, upstream) as sync:
            summary = run_batch(
                engine, settings, plan, batch_id, user=user, signals=signals,
                on_progress=on_progress, prerender=prerender, on_start=on_start,
            )  # fmt: skip
            summary["upstream"] = sync.drain(UPSTREAM_DRAIN_S, [batch_id]) if sync else None
        return summary
    b = batches.get(engine, batch_id)
    journal = settings.data_dir / f"world-{batch_id}.jsonl"
    sims = start_simulators(settings)
    devs = open_devices(settings, sim_device_urls(sims))
    signals = signals or LineSignals()
    store = LineStore(engine, batch_id, b.product_sku, user)
    world = World(
        settings,
        sims,
        items=plan.items,
        rate_per_min=plan.rate,
        defects=plan.defects,
        seed=plan.seed + zlib.crc32(batch_id.encode()) % 1000,
        journal=journal,
        caps=_caps(engine, plan.items + 100, store.holder)
        if "inner" in settings.level_names
        else [],
        decoder=devs["decoder"],
        prerender=prerender,
        preprinted=preprinted_codes(engine, settings, plan.items),
    )
    world.connect(signals)
    runner = LineRunner(
        settings,
        store,
        LineDevices.of(devs, world.verify, world.case_frames, world.frames),
        planned=plan.items,
        signals=signals,
    ).with_lot(b.lot)
    with engine.begin() as conn:
        batches.set_state(conn, batch_id, BatchState.RUNNING, user=user)
    t0 = time.monotonic()
    faults: list = []
    runner.start()
    deadline = time.monotonic() + 30
    while runner.state.value != "running" and time.monotonic() < deadline:
        if runner.wait(0.05):
            raise StationError(
                f"the line did not start: {said(runner.status().alarms) or 'no alarm'}"
            )
    time.sleep(0.2)  # the printer's queue fills before the first item arrives
    wt = threading.Thread(target=world.run, name="world", daemon=True)
    wt.start()
    if on_start is not None:  # tests inject faults into the simulators through this
        on_start(sims, runner, world)
    live = LivePublisher(engine, store.holder) if store.holder else None
    try:
        faulted_since = None
        while not world.done.wait(0.5):
            if live:  # plant: `station plant status` shows this line's state and alarms
                live.update(runner.state.value, runner.status().alarms)
            if runner.state.value == "faulted":
                # The simulated operator reads the alarm and clears it after a second.
                faulted_since = faulted_since or time.monotonic()
                if time.monotonic() - faulted_since > 1.0:
                    faults.append([a.message for a in runner.status().alarms])
                    runner.resume()
                    faulted_since = None
            if on_progress:
                on_progress(world.produced, plan.items)
            if runner.wait(0):
                raise StationError(
                    f"the line stopped: {said(runner.status().alarms) or 'no alarm'}. The batch "
                    "is kept as it was: continue it with `station demo --resume`"
                )
        if world.error is not None:
            raise RuntimeError(f"the simulated world failed: {world.error!r}")
        runner.finish()
        if not runner.wait(120):
            raise RuntimeError("the line did not finish within 120 s of the last item")
    finally:
        world.close()
        runner.stop()
        runner.wait(10)
        for dev in devs.values():
            close = getattr(dev, "close", None)
            if close:
                try:
                    close()
                except Exception:
                    pass
        sims.stop()
    if live:
        live.update("stopped", (), force=True)
    elapsed = time.monotonic() - t0
    closing.close_batch(engine, settings, batch_id, user=user)
    summary = summarize(engine, batch_id, journal)
    summary["seconds"] = round(elapsed, 1)
    summary["latency_ms"] = runner.snapshot_latencies().summary()
    summary["late"] = runner.stats.late
    summary["faults_cleared"] = len(faults)
    if plantlink.plant_url(settings) is not None:  # report back now; a lost plant is a note
        from station.plant.link_run import after_batch

        summary["plant_link"] = after_batch(engine, settings)
    return summary


def summarize(engine: Engine, batch_id: str, journal: Path) -> dict:
    """Items, printed, verified, rejected by reason, containers, voids, world mismatches."""
    parent = _codes.alias("p")
    with engine.connect() as conn:
        states = Counter()
        for lv, st, n in conn.execute(
            select(_codes.c.level, _codes.c.state, func.count())
            .where(_codes.c.batch_id == batch_id)
            .group_by(_codes.c.level, _codes.c.state)
        ):
            states[(lv, st)] = n
        reasons = Counter(
            dict(
                conn.execute(
                    select(_rejects.c.reason, func.count())
                    .where(_rejects.c.batch_id == batch_id)
                    .group_by(_rejects.c.reason)
                ).all()
            )
        )
        containers: dict[str, dict[str, int]] = {}
        for lv, status, n in conn.execute(
            select(_codes.c.level, _codes.c.container_status, func.count())
            .where(_codes.c.batch_id == batch_id, _codes.c.container_status.is_not(None))
            .group_by(_codes.c.level, _codes.c.container_status)
        ):
            containers.setdefault(lv, {})[status] = n
        links = [
            tuple(r)
            for r in conn.execute(
                select(parent.c.code, _codes.c.code, _codes.c.level)
                .select_from(_codes.join(parent, parent.c.id == _codes.c.parent_id))
                .where(_codes.c.batch_id == batch_id)
            )
        ]
    mism, detail = world_mismatches(journal, links)
    from station.sim.world import Journal

    ph = Journal.replay(journal)
    item = "outer"
    printed = sum(
        n for (lv, st), n in states.items() if lv == item and st not in ("reserved", "void")
    )
    return {
        "batch": batch_id,
        "items": ph.items,
        "printed": printed,
        "verified": states[(item, "verified")] + states[(item, "linked")],
        "rejected": sum(reasons.values()),
        "rejected_by_reason": dict(sorted(reasons.items())),
        "defects_injected": dict(sorted(ph.defects.items())),
        "containers": containers,
        "voids": {lv: n for (lv, st), n in states.items() if st == "void"},
        "world_mismatches": mism,
        "mismatch_examples": detail[:5],
        "duplicates": physical_duplicates(journal),
        "links": len(links),
    }


def pool_needs(items: int, n_batches: int, levels: tuple[str, ...], per_case: int) -> dict:
    """Codes per level that `n_batches` simulated batches of `items` items may consume.

    Each batch takes one code per item plus reprints, voids and partial containers; a margin
    per batch covers those (a pool sized for one batch ran dry in the fifth: issue 13).
    """
    n = max(n_batches, 1)
    need = {
        "outer": n * (items + 50) + 150,
        "inner": n * (items + 100) + 100,  # each batch picks items + 100 caps for its world
        "box": n * (items // 3 + 10) + 40,
        "case": n * (items // max(per_case // 2, 1) + 10) + 40,
        "pallet": n * (items // 50 + 3) + 7,
    }
    return {lv: k for lv, k in need.items() if lv in levels}


def ensure_pools(
    engine: Engine, settings: Settings, plan: DemoPlan, user: str, n_batches: int = 1
) -> None:
    """Generate what `n_batches` simulated batches will consume, if the pools are short of it."""
    per_case = settings.level("case").capacity if "case" in settings.level_names else 24
    need = pool_needs(plan.items, n_batches, tuple(settings.level_names), per_case)
    if plantlink.plant_url(settings) is not None:  # plant link: claimed blocks, not generation
        from station.plant.link_run import prepare

        prepare(engine, settings, need, user=user)
        return
    for level, n in need.items():
        _ensure_codes(engine, settings, level, n, user)


def load_plan(settings: Settings) -> DemoPlan | None:
    """The plan of an interrupted demo, if any."""
    p = _plan_path(settings)
    return DemoPlan(**json.loads(p.read_text())) if p.exists() else None


def run_demo(
    engine: Engine,
    settings: Settings,
    plan: DemoPlan,
    *,
    user: str,
    resume: bool,
    on_progress=None,
    upstream: str | None = None,
    signals: LineSignals | None = None,
) -> dict:
    """Run the plan's batches (continuing a killed run with resume) and summarise them all."""
    pp = _plan_path(settings)
    pp.parent.mkdir(parents=True, exist_ok=True)
    if resume:
        plan = load_plan(settings) or plan
    else:
        pp.write_text(json.dumps(plan.__dict__))
    with engine.connect() as conn:
        mine = [
            r.id
            for r in conn.execute(
                select(_batches.c.id, _batches.c.state)
                .where(_batches.c.note == "demo", _batches.c.station_id == settings.station.id)
                .order_by(_batches.c.created_at)
            )
        ]
        running = [
            r
            for r in conn.execute(
                select(_batches.c.id).where(
                    _batches.c.note == "demo",
                    _batches.c.station_id == settings.station.id,
                    _batches.c.state.in_(("ready", "running")),
                )
            ).scalars()
        ]
    summaries = []
    todo = list(running)
    while len(mine) < plan.batches:  # every demo batch so far, finished or not
        b = batches.create(
            engine,
            settings,
            product=plan.product,
            lot=f"DEMO{len(mine) + 1:03d}",
            quantity=plan.items,
            user=user,
        )
        with engine.begin() as conn:
            conn.execute(_batches.update().where(_batches.c.id == b.id).values(note="demo"))
        todo.append(b.id)
        mine.append(b.id)
    ensure_pools(engine, settings, plan, user, n_batches=len(todo))
    from station.upstream.sender import during

    # Closed batches drain in the background while the next one runs (upstream from --upstream
    # or [upstream]); at the end the outbox gets a bounded wait, never the line.
    with during(engine, settings, upstream) as sync:
        for batch_id in todo:
            summaries.append(
                run_batch(
                    engine,
                    settings,
                    plan,
                    batch_id,
                    user=user,
                    on_progress=on_progress,
                    signals=signals,
                )
            )
        sent = sync.drain(UPSTREAM_DRAIN_S, todo) if sync else None
    pp.unlink(missing_ok=True)
    total: dict = {"batches": [s["batch"] for s in summaries]}
    if sent is not None:
        total["upstream"] = sent
    if len(summaries) == 1:
        total.update(summaries[0])
    else:
        for key in ("items", "printed", "verified", "rejected", "world_mismatches", "duplicates"):
            total[key] = sum(s[key] for s in summaries)
        total["rejected_by_reason"] = dict(
            sum((Counter(s["rejected_by_reason"]) for s in summaries), Counter())
        )
        total["per_batch"] = summaries
    return total
