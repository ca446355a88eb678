"""Fixtures for the delivery tests; helpers live in sync_delivery_helpers.py beside this file."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

# --import-mode=importlib does not put this folder on sys.path; the helpers module needs it.
sys.path.insert(0, str(Path(__file__).parent))

from sync_delivery_helpers import KEY, MemoryStore

from sync.receiver import ReceiverServer, serve


@pytest.fixture
def store() -> MemoryStore:
    return MemoryStore()


@pytest.fixture
def receiver(tmp_path: Path) -> Iterator[Callable[..., ReceiverServer]]:
    """Factory: start a receiver on 127.0.0.1:0 storing under tmp_path; all stopped afterwards."""
    started: list[ReceiverServer] = []

    def start(**kwargs: object) -> ReceiverServer:
        kwargs.setdefault("key", KEY)
        port = int(kwargs.pop("port", 0))  # type: ignore[arg-type]
        store_dir = Path(kwargs.pop("store_dir", tmp_path / "received"))  # type: ignore[arg-type]
        server = serve(port, store_dir, **kwargs)  # type: ignore[arg-type]
        started.append(server)
        return server

    yield start
    for server in started:
        server.stop()
