"""Plain REST upload: one multipart POST with manifest.json first, then every file it lists."""

from __future__ import annotations

import contextlib
from pathlib import Path

import httpx

from sync.errors import PermanentError, TransientError
from sync.transports.base import (
    HEADER_BATCH,
    HEADER_IDEMPOTENCY,
    MANIFEST_NAME,
    DeliveryResult,
    check_response,
    read_manifest,
    transport_error,
)


class RestUploadTransport:
    """POSTs a batch file set as multipart/form-data to a platform that takes files.

    Parts: `manifest` (manifest.json) and one `file` part per manifest entry, streamed from
    disk. A 200/201 JSON answer `{"ack_id": ..., "message": ...}` is the acknowledgement.
    """

    def __init__(
        self,
        url: str,
        *,
        timeout_s: float = 60.0,
        auth_token: str | None = None,
        client: httpx.Client | None = None,
    ) -> None:
        self.url = url
        headers = {"Authorization": f"Bearer {auth_token}"} if auth_token else {}
        self._client = client or httpx.Client(timeout=timeout_s, headers=headers)
        self._owns_client = client is None

    def close(self) -> None:
        """Close the HTTP client (if this transport made it)."""
        if self._owns_client:
            self._client.close()

    def __enter__(self) -> RestUploadTransport:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def deliver(self, batch_dir: Path, batch_id: str) -> DeliveryResult:
        """Upload the batch; the batch id is the Idempotency-Key."""
        manifest = read_manifest(batch_dir, batch_id)
        what = f"REST upload of batch {batch_id} to {self.url}"
        with contextlib.ExitStack() as stack:
            files: list[tuple[str, tuple[str, object, str]]] = [
                ("manifest", (MANIFEST_NAME, manifest.raw, "application/json"))
            ]
            for entry in manifest.files:
                path = batch_dir / entry["name"]
                try:
                    handle = stack.enter_context(path.open("rb"))
                except FileNotFoundError as exc:
                    raise PermanentError(f"batch {batch_id}: {path} is missing; re-export") from exc
                except OSError as exc:
                    raise TransientError(f"batch {batch_id}: cannot read {path}: {exc}") from exc
                files.append(("file", (entry["name"], handle, "application/octet-stream")))
            headers = {HEADER_IDEMPOTENCY: batch_id, HEADER_BATCH: batch_id}
            try:
                response = self._client.post(self.url, files=files, headers=headers)
            except httpx.HTTPError as exc:
                raise transport_error(exc, what) from exc
        check_response(response, what)
        try:
            body = response.json()
        except ValueError:
            body = {}
        if not isinstance(body, dict):
            body = {}
        ack = str(
            body.get("ack_id") or response.headers.get("Location") or f"HTTP {response.status_code}"
        )
        return DeliveryResult(ack, str(body.get("message", "")))
