"""EPCIS capture against the reference receiver over real HTTP on 127.0.0.1."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest
from sync_delivery_helpers import (
    CONTEXT,
    MemoryStore,
    event_json,
    stored_batches,
    wait_until,
    write_batch,
)

from sync.errors import PermanentError
from sync.outbox import OutboxSender
from sync.receiver import ReceiverServer
from sync.transports import EpcisCaptureTransport, RestUploadTransport


def capture(server: ReceiverServer) -> EpcisCaptureTransport:
    return EpcisCaptureTransport(server.url, timeout_s=5, poll_interval_s=0.01, poll_timeout_s=5)


def test_post_answers_202_and_job_is_polled_to_success(
    tmp_path: Path, receiver: Callable[..., ReceiverServer]
) -> None:
    server = receiver(delay_s=0.0)
    folder = write_batch(tmp_path / "out", "B1", events=5)
    headers = {
        "Content-Type": "application/ld+json",
        "X-LineStation-Batch": "B1",
        "X-LineStation-Manifest": base64.b64encode(
            (folder / "manifest.json").read_bytes()
        ).decode(),
    }
    with httpx.Client(base_url=server.url, timeout=5) as client:
        options = client.options("/capture")
        assert options.headers["GS1-EPCIS-Version"] == "2.0"
        answer = client.post(
            "/capture", content=(folder / "batch.jsonld").read_bytes(), headers=headers
        )
        assert answer.status_code == 202
        job_url = answer.headers["Location"]
        assert job_url.startswith("/capture/")
        job: dict = {}

        def finished() -> bool:
            nonlocal job
            job = client.get(job_url).json()
            return not job["running"]

        wait_until(finished, 5, "capture job to finish")
        assert job["success"] is True and job["errors"] == []
        assert job["captureID"] == job_url.rsplit("/", 1)[1]
        assert any(j["captureID"] == job["captureID"] for j in client.get("/capture").json())
        assert client.get("/capture/nope").status_code == 404
    stored = tmp_path / "received" / "B1" / "batch.jsonld"
    assert stored.read_bytes() == (folder / "batch.jsonld").read_bytes()


def test_resend_gets_first_answer_and_is_stored_once(
    tmp_path: Path, receiver: Callable[..., ReceiverServer]
) -> None:
    server = receiver()
    folder = write_batch(tmp_path / "out", "B1")
    with capture(server) as transport:
        first = transport.deliver(folder, "B1")
        again = transport.deliver(folder, "B1")
    with RestUploadTransport(server.url + "/batches", timeout_s=5) as upload:
        third = upload.deliver(folder, "B1")
    assert first.ack_id == again.ack_id == third.ack_id
    assert server.stored_counts() == {"B1": 1}
    assert stored_batches(tmp_path / "received") == ["B1"]


def test_schema_invalid_document_is_parked_with_the_schema_error(
    tmp_path: Path, receiver: Callable[..., ReceiverServer], store: MemoryStore
) -> None:
    server = receiver()
    bad = json.loads(event_json(0, "B1"))
    del bad["action"]
    doc = {"@context": CONTEXT, "type": "EPCISDocument", "schemaVersion": "2.0",
           "creationDate": "2026-11-24T08:30:00Z", "epcisBody": {"eventList": [bad]}}  # fmt: skip
    entry = store.add("B1", write_batch(tmp_path / "out", "B1", document=json.dumps(doc).encode()))
    with capture(server) as transport:
        OutboxSender(store, transport).run_once()
    assert store.entries[entry].state == "parked"
    note = store.notes[entry][-1]
    assert "'action' is a required property" in note and "eventList[0]" in note
    assert stored_batches(tmp_path / "received") == []


def test_unknown_prefix_and_remote_context_are_refused(
    tmp_path: Path, receiver: Callable[..., ReceiverServer]
) -> None:
    server = receiver()
    ev = json.loads(event_json(0, "B1"))
    ev["acme:shift"] = "night"
    doc = {"@context": CONTEXT, "type": "EPCISDocument", "schemaVersion": "2.0",
           "creationDate": "2026-11-24T08:30:00Z", "epcisBody": {"eventList": [ev]}}  # fmt: skip
    with capture(server) as transport:
        with pytest.raises(PermanentError, match="prefix 'acme'"):
            transport.deliver(write_batch(tmp_path, "B1", document=json.dumps(doc).encode()), "B1")
        doc["@context"] = [CONTEXT, {"acme": "https://acme.example/voc/"}]
        transport.deliver(write_batch(tmp_path, "B2", document=json.dumps(doc).encode()), "B2")
        doc["@context"] = [CONTEXT, "https://evil.example/ctx.jsonld"]
        with pytest.raises(PermanentError, match="resolves only"):
            transport.deliver(write_batch(tmp_path, "B3", document=json.dumps(doc).encode()), "B3")


def test_bad_signature_is_parked(
    tmp_path: Path, receiver: Callable[..., ReceiverServer], store: MemoryStore
) -> None:
    server = receiver()
    entry = store.add("B1", write_batch(tmp_path / "out", "B1", key=b"some-other-key"))
    tampered = write_batch(tmp_path / "out", "B2")
    manifest = json.loads((tampered / "manifest.json").read_text())
    manifest["station_id"] = "line-9"
    (tampered / "manifest.json").write_text(json.dumps(manifest))
    entry2 = store.add("B2", tampered)
    with capture(server) as transport:
        OutboxSender(store, transport).run_once()
    for e in (entry, entry2):
        assert store.entries[e].state == "parked"
        assert "signature does not verify" in store.notes[e][-1]
    assert stored_batches(tmp_path / "received") == []


def test_altered_file_is_refused_by_hash(
    tmp_path: Path, receiver: Callable[..., ReceiverServer]
) -> None:
    server = receiver()
    folder = write_batch(tmp_path, "B1", events=2)
    data = (folder / "batch.jsonld").read_bytes().replace(b"commissioning", b"commissioninG")
    (folder / "batch.jsonld").write_bytes(data)
    with capture(server) as transport, pytest.raises(PermanentError, match="SHA-256"):
        transport.deliver(folder, "B1")


@pytest.mark.parametrize("pretty", [False, True])
def test_capture_limits_split_the_document_and_receiver_rebuilds_it(
    tmp_path: Path, receiver: Callable[..., ReceiverServer], pretty: bool
) -> None:
    server = receiver(capture_limit=7, file_size_limit=4000 if pretty else 2500)
    folder = write_batch(tmp_path / "out", "B1", events=40, pretty=pretty)
    with capture(server) as transport:
        limits = transport.limits()
        assert (limits.max_events, limits.max_bytes) == (7, 4000 if pretty else 2500)
        result = transport.deliver(folder, "B1")
    parts = int(result.message.split(" in ")[1].split()[0])
    assert parts >= 6  # 40 events / 7 per call at least
    stored = tmp_path / "received" / "B1" / "batch.jsonld"
    assert stored.read_bytes() == (folder / "batch.jsonld").read_bytes()
    jobs = json.loads((tmp_path / "received" / "B1" / "receipt.json").read_text())["jobs"]
    assert len(jobs) == parts and all(j["success"] for j in jobs.values())


def test_event_bigger_than_the_size_limit_is_parked(
    tmp_path: Path, receiver: Callable[..., ReceiverServer], store: MemoryStore
) -> None:
    server = receiver(file_size_limit=300)
    entry = store.add("B1", write_batch(tmp_path, "B1", events=2))
    with capture(server) as transport:
        OutboxSender(store, transport).run_once()
    assert store.entries[entry].state == "parked"
    assert "over the server's limit of 300 bytes" in store.notes[entry][-1]


def test_limits_changed_after_discovery_lead_to_a_resplit(
    tmp_path: Path, receiver: Callable[..., ReceiverServer]
) -> None:
    server = receiver()
    folder = write_batch(tmp_path / "out", "B1", events=12)
    with capture(server) as transport:
        transport.limits()  # cached: no limits
        assert server.capture is not None
        server.capture.capture_limit = 5  # the server is reconfigured under us
        result = transport.deliver(folder, "B1")
    assert "in 3 documents" in result.message
    stored = tmp_path / "received" / "B1" / "batch.jsonld"
    assert stored.read_bytes() == (folder / "batch.jsonld").read_bytes()


def test_rest_upload_stores_every_file_and_rejects_bad_signature(
    tmp_path: Path, receiver: Callable[..., ReceiverServer]
) -> None:
    server = receiver()
    good = write_batch(tmp_path / "out", "B1")
    bad = write_batch(tmp_path / "out", "B2", key=b"wrong")
    with RestUploadTransport(server.url + "/batches", timeout_s=5) as upload:
        assert upload.deliver(good, "B1").ack_id == "rcv-B1"
        with pytest.raises(PermanentError, match="signature does not verify") as info:
            upload.deliver(bad, "B2")
    assert info.value.status == 400
    for name in ("batch.jsonld", "relations.csv", "manifest.json"):
        assert (tmp_path / "received" / "B1" / name).read_bytes() == (good / name).read_bytes()
    assert stored_batches(tmp_path / "received") == ["B1"]


@pytest.mark.parametrize("evil", ["../escape", ".hidden", "a/b"])
def test_names_that_would_leave_the_store_are_refused(
    tmp_path: Path, receiver: Callable[..., ReceiverServer], evil: str
) -> None:
    server = receiver(key=None)
    folder = write_batch(tmp_path / "out", "B1")
    manifest = json.loads((folder / "manifest.json").read_text())
    manifest["batch_id"] = evil
    headers = {
        "X-LineStation-Batch": evil,
        "X-LineStation-Manifest": base64.b64encode(json.dumps(manifest).encode()).decode(),
    }
    body = (folder / "batch.jsonld").read_bytes()
    answer = httpx.post(server.url + "/capture", content=body, headers=headers, timeout=5)
    assert answer.status_code == 400
    assert "not a plain file name" in answer.json()["detail"]
    headers["X-LineStation-File"] = "../../x.jsonld"
    manifest["batch_id"] = "B1"
    headers["X-LineStation-Batch"] = "B1"
    headers["X-LineStation-Manifest"] = base64.b64encode(json.dumps(manifest).encode()).decode()
    answer = httpx.post(server.url + "/capture", content=body, headers=headers, timeout=5)
    assert answer.status_code == 400 and "not listed in the manifest" in answer.json()["detail"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out", "received"]


def test_first_answer_survives_a_receiver_restart(
    tmp_path: Path, receiver: Callable[..., ReceiverServer]
) -> None:
    a = write_batch(tmp_path / "out", "B1", events=6)
    b = write_batch(tmp_path / "out", "B2")
    first = receiver(capture_limit=2)
    with capture(first) as transport:
        ack_a = transport.deliver(a, "B1").ack_id
    with RestUploadTransport(first.url + "/batches") as upload:
        ack_b = upload.deliver(b, "B2").ack_id
    first.stop()
    second = receiver(capture_limit=2)  # same store folder
    with capture(second) as transport:
        assert transport.deliver(a, "B1").ack_id == ack_a
    with RestUploadTransport(second.url + "/batches") as upload:
        assert upload.deliver(b, "B2").ack_id == ack_b
    assert second.stored_counts() == {}
    assert second.stats()["replayed"] >= 2
    assert stored_batches(tmp_path / "received") == ["B1", "B2"]
