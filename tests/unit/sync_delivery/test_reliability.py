"""Exactly-once delivery through a flaky receiver, and draining after a long outage."""

from __future__ import annotations

import random
import socket
from collections.abc import Callable
from pathlib import Path

import pytest
from sync_delivery_helpers import MemoryStore, stored_batches, wait_until, write_batch

from sync.outbox import OutboxSender
from sync.receiver import ReceiverServer
from sync.transports import EpcisCaptureTransport, RestUploadTransport


def _sender(store: MemoryStore, transport: object) -> OutboxSender:
    return OutboxSender(
        store,
        transport,  # type: ignore[arg-type]
        backoff_base_s=0.01,
        backoff_max_s=0.05,
        rng=random.Random(3),
        idle_poll_s=0.01,
    )


@pytest.mark.parametrize("kind", ["capture", "upload"])
def test_twenty_batches_arrive_exactly_once_through_faults(
    tmp_path: Path, receiver: Callable[..., ReceiverServer], store: MemoryStore, kind: str
) -> None:
    server = receiver(fail_rate=0.5, reset_rate=0.1, seed=11, capture_limit=3)
    ids = [f"B{i:02d}" for i in range(20)]
    for batch_id in ids:
        store.add(batch_id, write_batch(tmp_path / "out", batch_id, events=4))
    if kind == "capture":
        transport: EpcisCaptureTransport | RestUploadTransport = EpcisCaptureTransport(
            server.url, timeout_s=2, poll_interval_s=0.005, poll_timeout_s=2
        )
    else:
        transport = RestUploadTransport(server.url + "/batches", timeout_s=2)
    sender = _sender(store, transport)
    sender.start()
    try:
        wait_until(
            lambda: set(store.states().values()) == {"acknowledged"}, 25, "all 20 acknowledged"
        )
    finally:
        sender.stop(5)
        transport.close()
    retries = sum(1 for notes in store.notes.values() for n in notes if n.startswith("retry"))
    assert retries >= 10, "the faults must really have bitten"
    assert server.stats()["injected_failure"] >= 10
    assert stored_batches(tmp_path / "received") == ids
    assert server.stored_counts() == dict.fromkeys(ids, 1)
    for batch_id in ids:
        sent = (tmp_path / "out" / batch_id / "batch.jsonld").read_bytes()
        assert (tmp_path / "received" / batch_id / "batch.jsonld").read_bytes() == sent


def test_receiver_down_for_the_whole_time_then_started_drains(
    tmp_path: Path, receiver: Callable[..., ReceiverServer], store: MemoryStore
) -> None:
    # Reserve a port by binding without listening: connections to it are refused, as when the
    # upstream server is down, and nobody else can take the port meanwhile.
    holder = socket.socket()
    holder.bind(("127.0.0.1", 0))
    port = holder.getsockname()[1]
    ids = [f"D{i}" for i in range(5)]
    for batch_id in ids:
        store.add(batch_id, write_batch(tmp_path / "out", batch_id))
    transport = EpcisCaptureTransport(
        f"http://127.0.0.1:{port}", timeout_s=1, poll_interval_s=0.005, poll_timeout_s=2
    )
    sender = _sender(store, transport)
    sender.start()
    try:
        wait_until(
            lambda: all(e.attempts >= 3 for e in store.entries.values()),
            10,
            "3 failed attempts each",
        )
        assert set(store.states().values()) <= {"pending", "sending"}
        assert "connection failed" in store.notes[1][-1]
        holder.close()
        receiver(port=port)
        wait_until(lambda: set(store.states().values()) == {"acknowledged"}, 10, "outbox drained")
    finally:
        sender.stop(5)
        transport.close()
        holder.close()
    assert stored_batches(tmp_path / "received") == ids


@pytest.mark.parametrize("kind", ["capture", "upload"])
def test_lost_acknowledgement_then_resend_gets_the_first_answer(
    tmp_path: Path, receiver: Callable[..., ReceiverServer], store: MemoryStore, kind: str
) -> None:
    # Every connection is dropped after the receiver did its work: the ack is lost.
    server = receiver(reset_after_share=1.0, seed=1)
    entry = store.add("B1", write_batch(tmp_path / "out", "B1", events=4))
    if kind == "capture":
        transport: EpcisCaptureTransport | RestUploadTransport = EpcisCaptureTransport(
            server.url, timeout_s=2, poll_interval_s=0.005, poll_timeout_s=2
        )
        transport.limits()  # learn the (absent) limits before the link turns bad
    else:
        transport = RestUploadTransport(server.url + "/batches", timeout_s=2)
    sender = OutboxSender(store, transport, backoff_base_s=0.0, jitter=0.0)
    server.reset_rate = 1.0
    with transport:
        sender.run_once()
        assert store.entries[entry].state == "pending"
        assert "connection failed" in store.notes[entry][-1]
        if kind == "upload":
            assert server.stored_counts() == {"B1": 1}  # stored, but the sender cannot know
        server.reset_rate = 0.0  # the link heals
        sender.run_once()
    assert store.entries[entry].state == "acknowledged"
    assert server.stats()["replayed"] == 1
    assert server.stored_counts() == {"B1": 1}
    assert stored_batches(tmp_path / "received") == ["B1"]


def test_slow_receiver_times_out_and_failing_receiver_is_retried(
    tmp_path: Path, receiver: Callable[..., ReceiverServer]
) -> None:
    from sync.errors import TransientError

    folder = write_batch(tmp_path / "out", "B1")
    slow = receiver(delay_s=0.5, store_dir=tmp_path / "slow")
    with (
        RestUploadTransport(slow.url + "/batches", timeout_s=0.1) as upload,
        pytest.raises(TransientError, match="timed out"),
    ):
        upload.deliver(folder, "B1")
    failing = receiver(fail_rate=1.0, store_dir=tmp_path / "failing")
    with (
        RestUploadTransport(failing.url + "/batches", timeout_s=2) as upload,
        pytest.raises(TransientError) as info,
    ):
        upload.deliver(folder, "B1")
    assert info.value.status in (500, 503)
