"""EPCIS 2.0 REST capture: POST /capture → 202 + Location of a capture job → poll until done.

Capture limits come from `OPTIONS /capture` (or `GET /capture`) response headers
`GS1-EPCIS-Capture-Limit` (events per call) and `GS1-EPCIS-Capture-File-Size-Limit` (bytes); a
document over either limit is cut into several documents (sync/transports/split.py), each sent
as its own capture job, in order. EPCIS 2.0 defines no idempotency header, so every request
carries `Idempotency-Key` (batch, file, part) plus `X-LineStation-*` headers with the batch id
and the signed manifest; a receiver that knows them answers a resend with the first answer.
"""

from __future__ import annotations

import base64
import mmap
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from sync.errors import PermanentError, SyncError, TransientError
from sync.transports.base import (
    HEADER_BATCH,
    HEADER_IDEMPOTENCY,
    HEADER_MANIFEST,
    DeliveryResult,
    Manifest,
    check_response,
    not_an_ack,
    read_manifest,
    server_message,
    transport_error,
)
from sync.transports.split import SplitError, gap_after, part_stream, plan_parts, scan_events

HEADER_FILE = "X-LineStation-File"
HEADER_PART = "X-LineStation-Part"
HEADER_GAP = "X-LineStation-Gap"
# Spellings seen in the field: the GS1 OpenAPI, an early draft, and FasTnT's variant.
_EVENT_LIMIT_HEADERS = ("GS1-EPCIS-Capture-Limit", "GS1-CAPTURE-limit")
_SIZE_LIMIT_HEADERS = (
    "GS1-EPCIS-Capture-File-Size-Limit",
    "GS1-EPCIS-Capture-File-SizeLimit",
    "GS1-CAPTURE-file-size-limit",
)


@dataclass(frozen=True)
class CaptureLimits:
    """What the server accepts per capture call; None means no advertised limit."""

    max_events: int | None = None
    max_bytes: int | None = None


def _int_header(headers: httpx.Headers, names: tuple[str, ...]) -> int | None:
    for name in names:
        value = headers.get(name)
        if value is not None:
            try:
                number = int(value.strip())
            except ValueError:
                continue
            return number if number > 0 else None
    return None


class _Resplit(Exception):
    """The server answered 413: its limits changed; fetch them again and cut again."""


class EpcisCaptureTransport:
    """Delivers the EPCIS JSON-LD document of a batch through the EPCIS 2.0 capture interface."""

    def __init__(
        self,
        base_url: str,
        *,
        timeout_s: float = 30.0,
        auth_token: str | None = None,
        poll_interval_s: float = 1.0,
        poll_timeout_s: float = 120.0,
        limits_ttl_s: float = 300.0,
        content_type: str = "application/json",
        client: httpx.Client | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.capture_url = base_url.rstrip("/") + "/capture"
        self._poll_interval_s = poll_interval_s
        self._poll_timeout_s = poll_timeout_s
        self._limits_ttl_s = limits_ttl_s
        # The GS1 OpenAPI lists application/json for POST /capture; some servers also take
        # application/ld+json, none we know refuse application/json.
        self._content_type = content_type
        self._clock = clock
        headers = {"Authorization": f"Bearer {auth_token}"} if auth_token else {}
        self._client = client or httpx.Client(timeout=timeout_s, headers=headers)
        self._owns_client = client is None
        self._limits: CaptureLimits | None = None
        self._limits_at = 0.0

    def close(self) -> None:
        """Close the HTTP client (if this transport made it)."""
        if self._owns_client:
            self._client.close()

    def __enter__(self) -> EpcisCaptureTransport:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def limits(self, *, refresh: bool = False) -> CaptureLimits:
        """The server's capture limits (cached for limits_ttl_s)."""
        fresh = self._clock() - self._limits_at < self._limits_ttl_s
        if not refresh and self._limits is not None and fresh:
            return self._limits
        what = f"EPCIS capture limits from {self.capture_url}"
        try:
            response = self._client.options(self.capture_url)
            if response.status_code in (404, 405, 501):
                response = self._client.get(self.capture_url)
        except httpx.HTTPError as exc:
            raise transport_error(exc, what) from exc
        if response.status_code >= 500 or response.status_code in (401, 403, 408, 429):
            check_response(response, what)
        self._limits = CaptureLimits(
            _int_header(response.headers, _EVENT_LIMIT_HEADERS),
            _int_header(response.headers, _SIZE_LIMIT_HEADERS),
        )
        self._limits_at = self._clock()
        return self._limits

    def deliver(self, batch_dir: Path, batch_id: str) -> DeliveryResult:
        """Capture the batch's EPCIS document (split if needed); return the last capture id."""
        manifest = read_manifest(batch_dir, batch_id)
        name = _epcis_file(manifest, batch_id)
        path = batch_dir / name
        try:
            return self._deliver_file(path, name, manifest, batch_id, self.limits())
        except _Resplit:
            return self._deliver_file(
                path, name, manifest, batch_id, self.limits(refresh=True), resplit=False
            )

    def _deliver_file(
        self,
        path: Path,
        name: str,
        manifest: Manifest,
        batch_id: str,
        limits: CaptureLimits,
        *,
        resplit: bool = True,
    ) -> DeliveryResult:
        try:
            f = path.open("rb")
        except FileNotFoundError as exc:
            raise PermanentError(f"batch {batch_id}: {path} is missing; re-export") from exc
        with f:
            size = path.stat().st_size
            if size == 0:
                raise PermanentError(f"batch {batch_id}: {path} is empty")
            base = self._headers(batch_id, name, manifest)
            if limits.max_events is None and (limits.max_bytes is None or size <= limits.max_bytes):
                # One document, streamed from the file as it is.
                job = self._capture(f, {**base, HEADER_PART: "1/1"}, batch_id, 1, 1, resplit)
                return DeliveryResult(job, f"captured {name} in 1 document")
            with mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ) as buf:
                try:
                    spans = scan_events(buf)
                    parts = plan_parts(spans, limits.max_events, limits.max_bytes)
                except SplitError as exc:
                    raise PermanentError(f"batch {batch_id}: {name}: {exc}") from exc
                job = ""
                n = len(parts)
                for k, (i, j) in enumerate(parts, start=1):
                    headers = {**base, HEADER_PART: f"{k}/{n}"}
                    headers[HEADER_IDEMPOTENCY] = f"{batch_id}:{name}:{k}/{n}"
                    gap = gap_after(buf, spans, j)
                    if gap:
                        headers[HEADER_GAP] = base64.b64encode(gap).decode("ascii")
                    # Streamed from the mmap with a known length: no copy of the part in memory.
                    length, body = part_stream(buf, spans, i, j)
                    headers["Content-Length"] = str(length)
                    job, complete = self._capture_with_state(body, headers, batch_id, k, n, resplit)
                    if complete:
                        break
                docs = f"{n} documents" if n > 1 else "1 document"
                return DeliveryResult(job, f"captured {spans.count} events of {name} in {docs}")

    def _headers(self, batch_id: str, name: str, manifest: Manifest) -> dict[str, str]:
        return {
            "Content-Type": self._content_type,
            "GS1-EPCIS-Version": "2.0",
            "GS1-CBV-Version": "2.0",
            "GS1-Capture-Error-Behaviour": "rollback",
            HEADER_IDEMPOTENCY: f"{batch_id}:{name}:1/1",
            HEADER_BATCH: batch_id,
            HEADER_FILE: name,
            HEADER_MANIFEST: base64.b64encode(manifest.raw).decode("ascii"),
        }

    def _capture(
        self, body: Any, headers: dict[str, str], batch_id: str, k: int, n: int, resplit: bool
    ) -> str:
        return self._capture_with_state(body, headers, batch_id, k, n, resplit)[0]

    def _capture_with_state(
        self, body: Any, headers: dict[str, str], batch_id: str, k: int, n: int, resplit: bool
    ) -> tuple[str, bool]:
        what = f"EPCIS capture of batch {batch_id} part {k}/{n} to {self.capture_url}"
        try:
            response = self._client.post(self.capture_url, content=body, headers=headers)
        except httpx.HTTPError as exc:
            raise transport_error(exc, what) from exc
        if response.status_code == 413 and resplit:
            raise _Resplit()
        check_response(response, what)
        location = response.headers.get("Location")
        if not location:
            # Some servers capture synchronously and answer 200/201 without a job: that is an
            # acknowledgement only with their capture id or a successful capture job as JSON. A
            # 202 without Location, or anything else (a proxy's page), is not one.
            return _synchronous_ack(response, what), False
        job_url = str(response.request.url.join(location))
        job = self._poll(job_url, what)
        return str(job.get("captureID") or location.rsplit("/", 1)[-1]), bool(
            job.get("x-linestation:batchComplete")
        )

    def _poll(self, job_url: str, what: str) -> dict[str, Any]:
        deadline = self._clock() + self._poll_timeout_s
        last = "no answer yet"
        while True:
            try:
                response = self._client.get(job_url)
            except httpx.HTTPError as exc:
                last = f"{type(exc).__name__}: {exc}"
                response = None
            if response is not None:
                if response.status_code == 404:
                    # The server forgot the job (restart): a resend is harmless and the only fix.
                    raise TransientError(f"{what}: capture job {job_url} vanished (404)")
                if response.is_success:
                    job = _job_json(response, what)
                    if not job.get("running", False):
                        if job.get("success", False):
                            return job
                        raise PermanentError(
                            f"{what}: capture job failed: {_job_errors(job)}",
                            status=400,
                            server_message=_job_errors(job),
                        )
                    last = "job still running"
                elif response.status_code >= 500 or response.status_code in (408, 429):
                    last = f"HTTP {response.status_code}: {server_message(response)}"
                else:
                    check_response(response, what)
            if self._clock() >= deadline:
                raise TransientError(
                    f"{what}: capture job {job_url} not finished after "
                    f"{self._poll_timeout_s:.0f} s ({last}); will ask again"
                )
            time.sleep(self._poll_interval_s)


SYNC_ACK = (
    "202 + Location of a capture job, or 200/201 with an X-Capture-Id header or a JSON capture "
    'job {"success": true}'
)


def _synchronous_ack(response: httpx.Response, what: str) -> str:
    if response.status_code in (200, 201):
        capture_id = response.headers.get("X-Capture-Id", "").strip()
        if capture_id:
            return capture_id
        try:
            job = response.json()
        except ValueError:
            job = None
        if isinstance(job, dict) and job.get("success") is True and not job.get("running"):
            return str(job.get("captureID") or f"HTTP {response.status_code}")
    raise not_an_ack(response, what, SYNC_ACK)


def _job_json(response: httpx.Response, what: str) -> dict[str, Any]:
    try:
        job = response.json()
    except ValueError as exc:
        raise TransientError(f"{what}: capture job answer is not JSON") from exc
    if not isinstance(job, dict):
        raise TransientError(f"{what}: capture job answer is not a JSON object")
    return job


def _job_errors(job: dict[str, Any]) -> str:
    errors = job.get("errors") or []
    texts = []
    for err in errors if isinstance(errors, list) else [errors]:
        if isinstance(err, dict):
            texts.append(str(err.get("detail") or err.get("title") or err))
        else:
            texts.append(str(err))
    return "; ".join(texts) or "no error details given"


def _epcis_file(manifest: Manifest, batch_id: str) -> str:
    names = [f["name"] for f in manifest.files if str(f["name"]).endswith(".jsonld")]
    if len(names) != 1:
        raise PermanentError(
            f"batch {batch_id}: EPCIS capture needs exactly one .jsonld file in the manifest, "
            f"found {names or 'none'}"
        )
    return names[0]


__all__ = ["CaptureLimits", "EpcisCaptureTransport", "SyncError"]
