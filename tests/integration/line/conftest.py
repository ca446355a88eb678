"""A released batch with its code pools filled, for the tests that run it with demo.run_batch."""

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
        from station import demo

        return demo.run_batch(
            self.engine, self.settings, self.plan, self.batch_id, user="t", on_start=on_start
        )


@pytest.fixture
def demo_batch(station_dir: Path) -> Iterator[Callable[..., DemoBatch]]:
    """make(items, rate, defects, seed, lot): a WATER-550 batch of `items`, pools filled."""
    from station import batches, demo
    from station.config import load_settings
    from station.db import make_engine

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
