"""Closed batches reach upstream exactly once: a faulty receiver, a receiver down, a 4xx parked."""

from __future__ import annotations

import socket
import time
from pathlib import Path

from sqlalchemy import select
from sync_station_helpers import close_small_batch, set_upstream

from station.config import load_settings
from station.store import batches
from station.store.db import make_engine
from station.store.models import AuditEntry
from station.upstream.sender import BackgroundSync
from sync.transports import EpcisCaptureTransport

FAST = {"backoff_base_s": 0.02, "backoff_max_s": 0.25, "idle_poll_s": 0.05}


def open_station(station_dir: Path):
    """(engine, settings) from the station's config.toml as it is now."""
    settings = load_settings(station_dir / "config.toml")
    return make_engine(settings.database_url), settings


def free_port() -> int:
    """A port nothing listens on (bound and released)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def audit_actions(engine) -> list[str]:
    """The sync.* actions in the audit trail, oldest first."""
    t = AuditEntry.__table__
    with engine.connect() as conn:
        rows = conn.execute(select(t.c.action).where(t.c.action.like("sync.%")).order_by(t.c.id))
        return list(rows.scalars())


def test_twenty_batches_arrive_once_through_failures_and_resets(
    station_dir: Path, cli, receiver
) -> None:
    server = receiver(key=b"demo-station-key-change-me", fail_rate=0.5, reset_rate=0.1, seed=3)
    set_upstream(station_dir, transport="epcis-capture", url=server.url)
    engine, settings = open_station(station_dir)
    try:
        # The configured transport's job polling (0.2 s) is slow for a test: poll every 20 ms.
        transport = EpcisCaptureTransport(server.url, poll_interval_s=0.02, poll_timeout_s=10)
        with BackgroundSync(engine, settings, transport=transport, **FAST) as sync:
            ids = [close_small_batch(engine, settings, 3, lot=f"L{i}") for i in range(20)]
            assert sync.wait_drained(45), cli("sync", "status").out
    finally:
        engine.dispose()
    assert server.stored_counts() == dict.fromkeys(ids, 1)
    stats = server.stats()
    assert stats["injected_failure"] > 10 and stats["injected_reset"] > 0, stats
    status = cli("sync", "status", "--json")
    assert status.rc == 0
    assert status.json["all_acknowledged"] and status.json["counts"] == {"acknowledged": 20}
    assert max(e["attempts"] for e in status.json["entries"]) > 1  # the faults were felt
    received = sorted(p.name for p in (station_dir / "received").glob("LS-*"))
    assert received == sorted(ids)


def test_receiver_down_for_the_whole_run_then_the_outbox_drains_by_itself(
    station_dir: Path, cli, receiver
) -> None:
    port = free_port()
    set_upstream(station_dir, transport="epcis-capture", url=f"http://127.0.0.1:{port}")
    engine, settings = open_station(station_dir)
    try:
        with BackgroundSync(engine, settings, **FAST) as sync:
            ids = [close_small_batch(engine, settings, 3, lot=f"D{i}") for i in range(3)]
            assert [batches.get(engine, i).state for i in ids] == ["completed"] * 3
            deadline = time.monotonic() + 10
            while time.monotonic() < deadline:
                rows = cli("sync", "status", "--json").json["entries"]
                if all(r["attempts"] >= 2 for r in rows):
                    break
                time.sleep(0.05)
            assert {r["state"] for r in rows} <= {"pending", "sending"}
            assert all("connection failed" in (r["last_error"] or "") for r in rows), rows
            server = receiver(key=b"demo-station-key-change-me", port=port)
            assert sync.wait_drained(20)
    finally:
        engine.dispose()
    assert server.stored_counts() == dict.fromkeys(ids, 1)
    assert cli("sync", "status", "--json").json["all_acknowledged"]


def test_push_wait_parks_a_4xx_with_the_servers_message_and_retry_sends_it(
    station_dir: Path, cli, receiver, tmp_path: Path
) -> None:
    engine, settings = open_station(station_dir)
    try:
        a, b = (close_small_batch(engine, settings, 2, lot=f"P{i}") for i in range(2))
    finally:
        engine.dispose()
    nowhere = cli("sync", "push")
    assert nowhere.rc == 2 and "--upstream" in nowhere.err
    assert cli("sync", "status", "--json").json["counts"] == {"pending": 2}

    wrong = receiver(key=b"another-station-key", store=tmp_path / "first")
    first = cli("sync", "push", "--wait", "--upstream", wrong.url, "--json")
    assert first.rc == 1
    assert sorted(first.json["parked"]) == sorted([a, b])
    for entry in first.json["entries"]:
        assert "HTTP 400" in entry["last_error"] and "signature" in entry["last_error"]
    wrong.stop()

    right = receiver(key=b"demo-station-key-change-me", store=tmp_path / "second")
    assert cli("sync", "retry", a).rc == 0
    only_a = cli("sync", "push", a, "--wait", "--upstream", right.url, "--json")
    assert only_a.rc == 0, only_a.out
    assert [e["state"] for e in only_a.json["entries"]] == ["acknowledged"]
    still = cli("sync", "push", "--wait", "--upstream", right.url, "--json")
    assert still.rc == 1 and still.json["parked"] == [b]  # a parked batch waits for IT
    assert cli("sync", "retry", b).rc == 0
    done = cli("sync", "push", "--wait", "--upstream", right.url, "--json")
    assert done.rc == 0 and done.json["counts"] == {"acknowledged": 2}
    assert right.stored_counts() == {a: 1, b: 1}
    again = cli("sync", "retry", a)
    assert again.rc == 2 and "acknowledged" in again.err

    engine, _ = open_station(station_dir)
    try:
        actions = audit_actions(engine)
    finally:
        engine.dispose()
    for action in ("sync.queue", "sync.push", "sync.park", "sync.retry", "sync.ack"):
        assert action in actions, actions
    assert actions.count("sync.queue") == 2 and actions.count("sync.ack") == 2
