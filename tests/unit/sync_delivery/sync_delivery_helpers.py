"""Helpers for the delivery tests: signed batch file sets, an in-memory outbox store, waiting."""

from __future__ import annotations

import hashlib
import json
import threading
import time
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

from sync.outbox import OutboxEntry
from sync.receiver import sign_manifest

KEY = b"line-7-test-key"
CONTEXT = "https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld"


def event_json(i: int, batch_id: str) -> str:
    """One ObjectEvent line like the exporter writes (compact, one per line)."""
    ev = {
        "type": "ObjectEvent",
        "eventTime": "2026-11-24T08:00:00.000Z",
        "eventTimeZoneOffset": "+08:00",
        "eventID": f"urn:uuid:00000000-0000-4000-8000-{i:012d}",
        "epcList": [f"https://id.example.com/01/06901234567892/21/{batch_id}-{i}"],
        "action": "ADD",
        "bizStep": "commissioning",
        "disposition": "active",
        "ilmd": {"cbvmda:lotNumber": "L{b}"},
    }
    return json.dumps(ev, separators=(",", ":"))


def write_batch(
    root: Path,
    batch_id: str,
    *,
    events: int = 3,
    key: bytes = KEY,
    document: bytes | None = None,
    pretty: bool = False,
) -> Path:
    """A signed batch file set: batch.jsonld, relations.csv, manifest.json."""
    folder = root / batch_id
    folder.mkdir(parents=True)
    if document is None:
        lines = [event_json(i, batch_id) for i in range(events)]
        head = (
            '{"@context":"' + CONTEXT + '","type":"EPCISDocument","schemaVersion":"2.0",'
            '"creationDate":"2026-11-24T08:30:00.000Z","epcisBody":{"eventList":[\n'
        )
        document = (head + ",\n".join(lines) + "\n]}}\n").encode()
        if pretty:
            document = json.dumps(json.loads(document), indent=2).encode()
    (folder / "batch.jsonld").write_bytes(document)
    (folder / "relations.csv").write_bytes(b"parent,child\nbox-1,item-1\n")
    files = []
    for name in ("batch.jsonld", "relations.csv"):
        data = (folder / name).read_bytes()
        files.append({"name": name, "size": len(data), "sha256": hashlib.sha256(data).hexdigest()})
    manifest = {"batch_id": batch_id, "station_id": "line-7", "files": files}
    signed = sign_manifest(manifest, key, "k1")
    (folder / "manifest.json").write_text(json.dumps(signed, indent=1))
    return folder


class MemoryStore:
    """An in-memory OutboxStore with the contract the station's SQL store must keep."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.entries: dict[int, OutboxEntry] = {}
        self.notes: dict[int, list[str]] = {}

    def add(self, batch_id: str, path: Path, now: datetime | None = None) -> int:
        with self.lock:
            entry_id = len(self.entries) + 1
            when = now or datetime.now(UTC)
            self.entries[entry_id] = OutboxEntry(entry_id, batch_id, str(path), 0, when, "pending")
            self.notes[entry_id] = []
            return entry_id

    def due(self, now: datetime, limit: int) -> list[OutboxEntry]:
        with self.lock:
            ready = [
                e
                for e in self.entries.values()
                if e.state in ("pending", "sending") and e.next_attempt_at <= now
            ]
            return sorted(ready, key=lambda e: (e.next_attempt_at, e.id))[:limit]

    def mark_sending(self, entry_id: int, now: datetime) -> None:
        with self.lock:
            e = self.entries[entry_id]
            self.entries[entry_id] = replace(e, state="sending", attempts=e.attempts + 1)

    def mark_acknowledged(self, entry_id: int, answer: str, now: datetime) -> None:
        with self.lock:
            self.entries[entry_id] = replace(self.entries[entry_id], state="acknowledged")
            self.notes[entry_id].append("ack " + answer)

    def mark_retry(
        self, entry_id: int, error: str, next_attempt_at: datetime, now: datetime
    ) -> None:
        with self.lock:
            e = self.entries[entry_id]
            self.entries[entry_id] = replace(e, state="pending", next_attempt_at=next_attempt_at)
            self.notes[entry_id].append("retry " + error)

    def mark_parked(self, entry_id: int, message: str, now: datetime) -> None:
        with self.lock:
            self.entries[entry_id] = replace(self.entries[entry_id], state="parked")
            self.notes[entry_id].append("parked " + message)

    def states(self) -> dict[str, str]:
        with self.lock:
            return {e.batch_id: e.state for e in self.entries.values()}


def wait_until(condition: Callable[[], bool], timeout_s: float, what: str) -> None:
    """Poll condition until true; fail naming what did not happen."""
    deadline = time.monotonic() + timeout_s
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout_s} s waiting for {what}")
        time.sleep(0.02)


def stored_batches(store_dir: Path) -> list[str]:
    """Batch folders the receiver committed (hidden work folders excluded)."""
    return sorted(p.name for p in store_dir.iterdir() if p.is_dir() and not p.name.startswith("."))
