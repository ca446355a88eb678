"""The receiver's EPCIS capture interface: accept (202 + job), validate on a worker, store once."""

from __future__ import annotations

import base64
import binascii
import json
import logging
import queue
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sync.receiver.state import Job, ReceiverState, now_iso
from sync.receiver.validate import EpcisValidator, ValidationFailed, check_file, verify_manifest
from sync.transports.split import SplitError, reassemble

log = logging.getLogger(__name__)

Answer = tuple[int, dict[str, str], Any]


@dataclass(frozen=True)
class _Part:
    job: Job
    doc: dict[str, Any]
    body: bytes
    manifest: dict[str, Any]
    manifest_raw: bytes
    name: str
    k: int
    n: int
    gap: bytes


def problem(status: int, title: str, detail: str, kind: str = "ValidationException") -> Answer:
    """An RFC 7807 problem answer, the way EPCIS 2.0 reports errors."""
    body = {"type": f"epcisException:{kind}", "title": title, "status": status, "detail": detail}
    return status, {"Content-Type": "application/problem+json"}, body


class CaptureService:
    """POST /capture, GET /capture[/{id}], OPTIONS /capture."""

    def __init__(
        self,
        state: ReceiverState,
        validator: EpcisValidator,
        key: bytes | None,
        *,
        capture_limit: int | None = None,
        file_size_limit: int | None = None,
    ) -> None:
        self.state = state
        self.validator = validator
        self.key = key
        self.capture_limit = capture_limit
        self.file_size_limit = file_size_limit
        self._queue: queue.Queue[_Part | None] = queue.Queue()
        self._worker = threading.Thread(target=self._work, name="receiver-capture", daemon=True)
        self._worker.start()

    def stop(self) -> None:
        """Stop the worker after the job in hand."""
        self._queue.put(None)
        self._worker.join(10)

    def limit_headers(self) -> dict[str, str]:
        """The discovery headers of the capture interface."""
        headers = {"GS1-EPCIS-Version": "2.0", "GS1-CBV-Version": "2.0"}
        headers["GS1-Capture-Error-Behaviour"] = "rollback"
        if self.capture_limit:
            headers["GS1-EPCIS-Capture-Limit"] = str(self.capture_limit)
        if self.file_size_limit:
            headers["GS1-EPCIS-Capture-File-Size-Limit"] = str(self.file_size_limit)
        return headers

    def list_jobs(self) -> Answer:
        """GET /capture."""
        with self.state.lock:
            body = [j.to_json() for j in self.state.jobs.values()]
        return 200, self.limit_headers(), body

    def get_job(self, capture_id: str) -> Answer:
        """GET /capture/{id}."""
        with self.state.lock:
            job = self.state.jobs.get(capture_id)
            body = job.to_json() if job else None
        if body is None:
            return problem(404, "No such capture job", capture_id, "NoSuchNameException")
        return 200, {}, body

    def accept(self, headers: Any, body: bytes) -> Answer:
        """POST /capture: check what can be checked at once, then queue a job (202 + Location)."""
        batch_id = headers.get("X-LineStation-Batch", "")
        if not batch_id:
            return problem(400, "Missing batch id", "X-LineStation-Batch header is required")
        try:
            manifest_raw = base64.b64decode(
                headers.get("X-LineStation-Manifest", ""), validate=True
            )
            gap = base64.b64decode(headers.get("X-LineStation-Gap", ""), validate=True)
            manifest = verify_manifest(manifest_raw, self.key)
        except (binascii.Error, ValueError) as exc:
            return problem(400, "Manifest rejected", str(exc))
        if manifest["batch_id"] != batch_id:
            detail = f"manifest is for batch {manifest['batch_id']}, header says {batch_id}"
            return problem(400, "Manifest rejected", detail)
        name = headers.get("X-LineStation-File", "batch.jsonld")
        if name not in {e.get("name") for e in manifest["files"] if isinstance(e, dict)}:
            return problem(400, "Unknown file", f"{name!r} is not listed in the manifest")
        try:
            k_text, n_text = headers.get("X-LineStation-Part", "1/1").split("/")
            k, n = int(k_text), int(n_text)
            if not 1 <= k <= n:
                raise ValueError
        except ValueError:
            return problem(400, "Bad part header", "X-LineStation-Part must be k/n with 1 ≤ k ≤ n")
        if self.file_size_limit and len(body) > self.file_size_limit:
            detail = (
                f"{len(body)} bytes over GS1-EPCIS-Capture-File-Size-Limit {self.file_size_limit}"
            )
            return problem(
                413, "Capture payload too large", detail, "CaptureLimitExceededException"
            )
        try:
            doc = json.loads(body)
            events = doc["epcisBody"]["eventList"]
        except (ValueError, KeyError, TypeError) as exc:
            return problem(400, "Not an EPCIS JSON document", f"{type(exc).__name__}: {exc}")
        if self.capture_limit and len(events) > self.capture_limit:
            detail = f"{len(events)} events over GS1-EPCIS-Capture-Limit {self.capture_limit}"
            return problem(
                413, "Capture payload too large", detail, "CaptureLimitExceededException"
            )
        key = headers.get("Idempotency-Key") or f"{batch_id}:{name}:{k}/{n}"
        with self.state.lock:
            if key in self.state.keys:
                capture_id = self.state.keys[key]
                self.state.stats["replayed"] += 1
            elif batch_id in self.state.receipts:
                capture_id = self.state.receipts[batch_id]["ack_id"]
                self.state.stats["replayed"] += 1
            else:
                job = self.state.new_job(key, batch_id)
                capture_id = job.capture_id
                self._queue.put(_Part(job, doc, body, manifest, manifest_raw, name, k, n, gap))
        return 202, {"Location": f"/capture/{capture_id}", **self.limit_headers()}, None

    def _work(self) -> None:
        while (part := self._queue.get()) is not None:
            try:
                self._process(part)
            except Exception as exc:  # keep the worker alive; the job reports the failure
                log.exception("receiver: capture job %s crashed", part.job.capture_id)
                self.state.finish(part.job, error=f"receiver error: {exc}")

    def _process(self, p: _Part) -> None:
        try:
            self.validator.check(p.doc)
        except ValidationFailed as exc:
            self.state.finish(p.job, error=str(exc))
            return
        with self.state.lock:
            if p.job.batch_id in self.state.receipts:
                self.state.finish(p.job, complete=True)
                return
        if p.n == 1:
            self._complete(p, p.body, [p.job])
            return
        incoming = self.state.incoming_dir(p.job.batch_id, p.name, p.n)
        _write(incoming / f"part-{p.k}.json", p.body)
        _write(incoming / f"gap-{p.k}.bin", p.gap)
        _write(incoming / f"job-{p.k}.txt", p.job.capture_id.encode())
        have = [incoming / f"part-{i}.json" for i in range(1, p.n + 1)]
        if not all(path.exists() for path in have):
            self.state.finish(p.job)
            return
        with self.state.lock:
            jobs = [
                self.state.jobs[(incoming / f"job-{i}.txt").read_text()] for i in range(1, p.n + 1)
            ]
        try:
            whole = reassemble(
                [path.read_bytes() for path in have],
                [(incoming / f"gap-{i}.bin").read_bytes() for i in range(1, p.n)],
            )
        except SplitError as exc:
            self._reject_split(p, jobs, f"parts do not add up: {exc}")
            return
        self._complete(p, whole, jobs)

    def _complete(self, p: _Part, data: bytes, jobs: list[Job]) -> None:
        try:
            check_file(p.manifest, p.name, data)
        except ValidationFailed as exc:
            self._reject_split(p, jobs, str(exc))
            return
        finished = now_iso()
        receipt_jobs = {}
        for job in jobs:
            body = {**job.to_json(), "running": False, "success": True}
            body.setdefault("finishedAt", finished)
            if job is p.job:
                body["x-linestation:batchComplete"] = True
            receipt_jobs[job.key] = body
        receipt = {
            "batch_id": p.job.batch_id,
            "ack_id": p.job.capture_id,
            "via": "capture",
            "message": f"{p.name} captured in {p.n} document(s)",
            "received_at": finished,
            "jobs": receipt_jobs,
        }
        self.state.commit(p.job.batch_id, {p.name: data}, p.manifest_raw, receipt)
        self.state.drop_incoming(p.job.batch_id)
        self.state.finish(p.job, complete=True)

    def _reject_split(self, p: _Part, jobs: list[Job], error: str) -> None:
        # Earlier parts succeeded; forget them too, or a resend would be answered "done" forever.
        with self.state.lock:
            for job in jobs:
                if self.state.keys.get(job.key) == job.capture_id:
                    del self.state.keys[job.key]
        self.state.drop_incoming(p.job.batch_id)
        self.state.finish(p.job, error=error)


def _write(path: Path, data: bytes) -> None:
    tmp = path.with_suffix(".tmp")
    tmp.write_bytes(data)
    tmp.replace(path)
