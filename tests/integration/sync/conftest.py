"""Fixtures for the station ↔ upstream tests; helpers live in sync_station_helpers.py."""

from __future__ import annotations

import shutil
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

# --import-mode=importlib does not put this folder on sys.path; the helpers module needs it.
sys.path.insert(0, str(Path(__file__).parent))

from station.config import load_settings
from station.store.db import make_engine
from sync.receiver import ReceiverServer, serve


@pytest.fixture
def station(station_dir: Path) -> tuple:
    """(engine, settings) of a fresh station; the engine is disposed afterwards."""
    settings = load_settings(station_dir / "config.toml")
    engine = make_engine(settings.database_url)
    yield engine, settings
    engine.dispose()


@pytest.fixture
def receiver(tmp_path: Path) -> Iterator[Callable[..., ReceiverServer]]:
    """Start reference receivers (stopped afterwards); kwargs go to sync.receiver.serve."""
    started: list[ReceiverServer] = []

    def start(key: bytes, port: int = 0, store: Path | None = None, **kw) -> ReceiverServer:
        server = serve(port, store or tmp_path / "received", key=key, **kw)
        started.append(server)
        return server

    yield start
    for server in started:
        server.stop()
    shutil.rmtree(tmp_path / "received", ignore_errors=True)
