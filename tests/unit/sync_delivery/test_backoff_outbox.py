"""Backoff values and the outbox sender's state transitions (fake transports, real logic)."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sync_delivery_helpers import MemoryStore, wait_until, write_batch

from sync.errors import PermanentError, TransientError
from sync.outbox import OutboxSender, backoff_delay
from sync.transports import DeliveryResult


def test_backoff_doubles_then_caps_without_jitter() -> None:
    values = [backoff_delay(n, 1.0, 300.0, 0.0, None) for n in range(1, 12)]
    assert values == [1, 2, 4, 8, 16, 32, 64, 128, 256, 300, 300]


def test_backoff_jitter_stays_in_band_and_is_seeded() -> None:
    rng = random.Random(7)
    values = [backoff_delay(4, 1.0, 300.0, 0.2, rng) for _ in range(200)]
    assert all(6.4 <= v <= 9.6 for v in values)
    assert len(set(values)) > 100  # really spread
    again = random.Random(7)
    assert values[:5] == [backoff_delay(4, 1.0, 300.0, 0.2, again) for _ in range(5)]


def test_backoff_survives_a_week_of_attempts() -> None:
    assert backoff_delay(10_000, 1.0, 300.0, 0.0, None) == 300.0
    assert backoff_delay(0, 1.0, 300.0, 0.0, None) == 1.0


class ScriptedTransport:
    """Answers deliveries from a list: exceptions are raised, strings acknowledged."""

    def __init__(self, script: list[object]) -> None:
        self.script = list(script)
        self.calls: list[str] = []

    def deliver(self, batch_dir: Path, batch_id: str) -> DeliveryResult:
        self.calls.append(batch_id)
        step = self.script.pop(0)
        if isinstance(step, BaseException):
            raise step
        return DeliveryResult(str(step), "ok")


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2026, 11, 24, 8, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now


def test_retry_then_ack_with_backoff_schedule(tmp_path: Path, store: MemoryStore) -> None:
    clock = Clock()
    folder = write_batch(tmp_path, "B1")
    entry = store.add("B1", folder, clock.now)
    transport = ScriptedTransport([TransientError("503"), TransientError("reset"), "ACK-1"])
    sender = OutboxSender(store, transport, clock=clock, backoff_base_s=10, jitter=0.0)
    assert sender.run_once() == 1
    e = store.entries[entry]
    assert (e.state, e.attempts, e.next_attempt_at) == (
        "pending",
        1,
        clock.now + timedelta(seconds=10),
    )
    assert sender.run_once() == 0  # not due yet
    clock.now += timedelta(seconds=10)
    sender.run_once()
    assert store.entries[entry].next_attempt_at == clock.now + timedelta(seconds=20)
    clock.now += timedelta(seconds=20)
    sender.run_once()
    assert store.entries[entry].state == "acknowledged"
    assert store.notes[entry][-1] == "ack ACK-1 ok"
    assert folder.exists()  # nothing local deleted


def test_server_retry_after_is_honoured(tmp_path: Path, store: MemoryStore) -> None:
    clock = Clock()
    entry = store.add("B1", write_batch(tmp_path, "B1"), clock.now)
    transport = ScriptedTransport([TransientError("429", status=429, retry_after_s=120)])
    OutboxSender(store, transport, clock=clock, backoff_base_s=1, jitter=0.0).run_once()
    assert store.entries[entry].next_attempt_at == clock.now + timedelta(seconds=120)


def test_permanent_error_parks_with_the_server_message(tmp_path: Path, store: MemoryStore) -> None:
    entry = store.add("B1", write_batch(tmp_path, "B1"))
    error = PermanentError("HTTP 400: lot missing", status=400, server_message="lot missing")
    OutboxSender(store, ScriptedTransport([error])).run_once()
    assert store.entries[entry].state == "parked"
    assert "lot missing" in store.notes[entry][-1]


def test_unexpected_error_retries_and_missing_folder_parks(
    tmp_path: Path, store: MemoryStore
) -> None:
    bug = store.add("B1", write_batch(tmp_path, "B1"))
    gone = store.add("B2", tmp_path / "nowhere")
    transport = ScriptedTransport([RuntimeError("driver bug")])
    OutboxSender(store, transport, jitter=0.0).run_once()
    assert store.entries[bug].state == "pending" and "driver bug" in store.notes[bug][-1]
    assert store.entries[gone].state == "parked" and "nowhere" in store.notes[gone][-1]
    assert transport.calls == ["B1"]


def test_entry_left_sending_by_a_crash_is_sent_again(tmp_path: Path, store: MemoryStore) -> None:
    entry = store.add("B1", write_batch(tmp_path, "B1"))
    store.mark_sending(entry, datetime.now(UTC))  # the process died here
    OutboxSender(store, ScriptedTransport(["ACK"])).run_once()
    assert store.entries[entry].state == "acknowledged"
    assert store.entries[entry].attempts == 2


def test_background_thread_sends_on_wake_and_stops(tmp_path: Path, store: MemoryStore) -> None:
    transport = ScriptedTransport(["A1", "A2"])
    sender = OutboxSender(store, transport, idle_poll_s=30)
    sender.start()
    try:
        store.add("B1", write_batch(tmp_path, "B1"))
        sender.wake()
        wait_until(lambda: store.states() == {"B1": "acknowledged"}, 5, "B1 acknowledged")
        store.add("B2", write_batch(tmp_path, "B2"))
        sender.wake()
        wait_until(lambda: store.states()["B2"] == "acknowledged", 5, "B2 acknowledged")
    finally:
        sender.stop(5)
    assert not sender.running


@pytest.mark.parametrize("status", [408, 409, 425, 429, 500, 503])
def test_retryable_statuses_map_to_transient(status: int) -> None:
    from sync.errors import error_for_status

    assert isinstance(error_for_status(status, "x", "m"), TransientError)


@pytest.mark.parametrize("status", [400, 401, 403, 404, 413, 422])
def test_other_4xx_map_to_permanent(status: int) -> None:
    from sync.errors import error_for_status

    err = error_for_status(status, "upload", "bad lot")
    assert (
        isinstance(err, PermanentError) and err.status == status and err.server_message == "bad lot"
    )
