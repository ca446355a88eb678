"""Line test fixtures: a released batch for demo.run_batch, and a batch on devices served by their
simulators with the remote world behind them (the production path, in-process)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest


@dataclass
class DemoBatch:
    """What demo.run_batch needs: settings, engine, plan and the batch's id."""

    settings: object
    engine: object
    plan: object
    batch_id: str

    def run(self, on_start=None) -> dict:
        """Run the batch on the simulated line; its summary."""
        from station.sim import demo

        return demo.run_batch(
            self.engine, self.settings, self.plan, self.batch_id, user="t", on_start=on_start
        )


@pytest.fixture
def demo_batch(station_dir: Path) -> Iterator[Callable[..., DemoBatch]]:
    """make(items, rate, defects, seed, lot): a WATER-550 batch of `items`, pools filled."""
    from station.config import load_settings
    from station.sim import demo
    from station.store import batches
    from station.store.db import make_engine

    engines = []

    def make(items: int, rate: int, defects: float, seed: int, lot: str) -> DemoBatch:
        s = load_settings(station_dir / "config.toml")
        engine = make_engine(s.database_url)
        engines.append(engine)
        plan = demo.DemoPlan(items, 1, rate, defects, seed, "WATER-550")
        demo.ensure_pools(engine, s, plan, "t")
        b = batches.create(engine, s, product="WATER-550", lot=lot, quantity=items, user="t")
        return DemoBatch(s, engine, plan, b.id)

    yield make
    for engine in engines:
        engine.dispose()


@dataclass
class DevicesLine:
    """A 150-item batch on the config's devices, served by their simulators on free ports, and
    the simulated world behind them (remote: it hears the station only through the devices)."""

    settings: object
    engine: object
    batch_id: str
    sims: object
    world: object
    journal: Path

    def start_world(self) -> None:
        """Start the conveyor's world (it waits for the station's green light)."""
        import threading

        threading.Thread(target=self.world.run, name="world", daemon=True).start()

    def summary(self) -> dict:
        """The batch compared with the world's journal (world_mismatches, duplicates, …)."""
        from station.sim.demo import summarize

        return summarize(self.engine, self.batch_id, self.journal)


@pytest.fixture
def devices_line(station_dir: Path) -> Iterator[Callable[..., DevicesLine]]:
    """make(lot, defects): a DevicesLine; world and simulators stopped afterwards."""
    from drivers.camera.decode import make_decoder
    from station.build import on_free_ports, start_simulators
    from station.codes import pools
    from station.config import load_settings
    from station.sim.demo import _caps
    from station.sim.world import World
    from station.store import batches
    from station.store.db import make_engine

    made: list[DevicesLine] = []

    def make(lot: str, defects: float) -> DevicesLine:
        cfg = station_dir / "config.toml"
        cfg.write_text(on_free_ports(cfg.read_text(encoding="utf-8")), encoding="utf-8")
        s = load_settings(cfg)
        engine = make_engine(s.database_url)
        for level, n, scheme in (("inner", 250, "random"), ("outer", 250, "random"),
                                 ("case", 30, "random"), ("pallet", 5, "sscc")):  # fmt: skip
            pools.generate(engine, s, level, n, scheme, user="t")
        b = batches.create(engine, s, product="WATER-550", lot=lot, quantity=150, user="t")
        sims = start_simulators(s, fixed_ports=True)  # the devices, as `station sim` serves them
        journal = station_dir / "world.jsonl"
        world = World(s, sims, items=150, rate_per_min=1200, defects=defects, seed=5,
                      journal=journal, caps=_caps(engine, 200), decoder=make_decoder(),
                      remote=True)  # fmt: skip
        line = DevicesLine(s, engine, b.id, sims, world, journal)
        made.append(line)
        return line

    yield make
    for line in made:
        line.world.close()
        line.sims.stop()
        line.engine.dispose()
