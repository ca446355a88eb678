"""The receiver's memory: capture jobs, idempotency keys and stored batches (atomic, once each).

Layout under store_dir::

    <batch id>/            one accepted batch: its files, manifest.json, receipt.json
    .incoming/<batch id>/  parts of a split capture waiting for the rest
    .tmp/                  batch folders being written, renamed into place when complete

Only acknowledged answers are remembered: a batch that was rejected may be sent again after IT
fixed it and is judged afresh.
"""

from __future__ import annotations

import json
import os
import shutil
import threading
import uuid
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sync.durable import fsync_dir

RECEIPT = "receipt.json"


def now_iso() -> str:
    """UTC now in ISO 8601 with milliseconds."""
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


@dataclass
class Job:
    """One EPCIS capture job, as GET /capture/{id} shows it."""

    capture_id: str
    key: str
    batch_id: str
    running: bool = True
    success: bool = False
    errors: list[dict[str, Any]] = field(default_factory=list)
    created_at: str = field(default_factory=now_iso)
    finished_at: str | None = None
    batch_complete: bool = False

    def to_json(self) -> dict[str, Any]:
        """The EPCISCaptureJob JSON body."""
        body: dict[str, Any] = {
            "captureID": self.capture_id,
            "createdAt": self.created_at,
            "running": self.running,
            "success": self.success,
            "captureErrorBehaviour": "rollback",
            "errors": self.errors,
        }
        if self.finished_at:
            body["finishedAt"] = self.finished_at
        if self.batch_complete:
            body["x-linestation:batchComplete"] = True
        return body

    @classmethod
    def from_json(cls, key: str, batch_id: str, body: dict[str, Any]) -> Job:
        """Rebuild a finished job from a receipt."""
        return cls(
            capture_id=body["captureID"],
            key=key,
            batch_id=batch_id,
            running=False,
            success=bool(body.get("success")),
            created_at=body.get("createdAt", now_iso()),
            finished_at=body.get("finishedAt"),
            batch_complete=bool(body.get("x-linestation:batchComplete")),
        )


class ReceiverState:
    """Thread-safe jobs, idempotency keys and the batch store."""

    def __init__(self, store_dir: Path) -> None:
        self.store_dir = Path(store_dir)
        self.lock = threading.RLock()
        self.jobs: dict[str, Job] = {}
        self.keys: dict[str, str] = {}  # idempotency key → capture id (running or succeeded)
        self.receipts: dict[str, dict[str, Any]] = {}
        self.stored = Counter[str]()  # batch id → times committed (must stay ≤ 1)
        self.stats = Counter[str]()  # replayed, injected_failure, injected_reset, …
        self.store_dir.mkdir(parents=True, exist_ok=True)
        (self.store_dir / ".tmp").mkdir(exist_ok=True)
        self._load()

    def _load(self) -> None:
        # Parts and half-written folders of a previous run have no live job any more; the
        # sender resends (harmless), so start clean.
        shutil.rmtree(self.store_dir / ".incoming", ignore_errors=True)
        for leftover in (self.store_dir / ".tmp").iterdir():
            shutil.rmtree(leftover, ignore_errors=True)
        for receipt_path in self.store_dir.glob(f"*/{RECEIPT}"):
            try:
                receipt = json.loads(receipt_path.read_text(encoding="utf-8"))
            except (OSError, ValueError):
                continue
            batch_id = receipt["batch_id"]
            self.receipts[batch_id] = receipt
            for key, body in receipt.get("jobs", {}).items():
                job = Job.from_json(key, batch_id, body)
                self.jobs[job.capture_id] = job
                self.keys[key] = job.capture_id

    def new_job(self, key: str, batch_id: str) -> Job:
        """Create a running job for an idempotency key (caller holds the lock)."""
        job = Job(capture_id=uuid.uuid4().hex, key=key, batch_id=batch_id)
        self.jobs[job.capture_id] = job
        self.keys[key] = job.capture_id
        return job

    def finish(self, job: Job, *, error: str = "", complete: bool = False) -> None:
        """Mark a job done; a failed job frees its key so a corrected resend is judged again."""
        with self.lock:
            job.running = False
            job.finished_at = now_iso()
            job.batch_complete = complete
            if error:
                job.success = False
                job.errors = [
                    {
                        "type": "epcisException:ValidationException",
                        "title": "Capture rejected",
                        "status": 400,
                        "detail": error,
                    }
                ]
                if self.keys.get(job.key) == job.capture_id:
                    del self.keys[job.key]
            else:
                job.success = True

    def incoming_dir(self, batch_id: str, name: str, total: int) -> Path:
        """Folder for the parts of one split of one file of a batch."""
        path = self.store_dir / ".incoming" / batch_id / f"{name}.{total}"
        path.mkdir(parents=True, exist_ok=True)
        return path

    def drop_incoming(self, batch_id: str) -> None:
        """Forget the parts of a batch (after it is stored, or when they do not add up)."""
        shutil.rmtree(self.store_dir / ".incoming" / batch_id, ignore_errors=True)

    def commit(
        self, batch_id: str, files: dict[str, bytes | Path], manifest_raw: bytes, receipt: dict
    ) -> dict[str, Any]:
        """Store a batch atomically, once; return the receipt that stands (the first one)."""
        tmp = self.store_dir / ".tmp" / f"{batch_id}-{uuid.uuid4().hex[:8]}"
        tmp.mkdir(parents=True)
        try:
            for name, content in files.items():
                _write(tmp / name, content)
            _write(tmp / "manifest.json", manifest_raw)
            with self.lock:
                if batch_id in self.receipts:
                    return self.receipts[batch_id]
                _write(tmp / RECEIPT, json.dumps(receipt, indent=1).encode())
                os.rename(tmp, self.store_dir / batch_id)
                fsync_dir(self.store_dir)
                self.receipts[batch_id] = receipt
                self.stored[batch_id] += 1
                return receipt
        finally:
            if tmp.exists():
                shutil.rmtree(tmp, ignore_errors=True)


def _write(path: Path, content: bytes | Path) -> None:
    with path.open("wb") as out:
        if isinstance(content, Path):
            with content.open("rb") as src:
                shutil.copyfileobj(src, out, 1 << 20)
        else:
            out.write(content)
        out.flush()
        os.fsync(out.fileno())
