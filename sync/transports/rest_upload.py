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
    not_an_ack,
    read_manifest,
    transport_error,
)


class RestUploadTransport:
    """POSTs a batch file set as multipart/form-data to a platform that takes files.

    Parts: `manifest` (manifest.json) and one `file` part per manifest entry, streamed from
    disk. A 200/201 JSON answer `{"ack_id": ..., "message": ...}` is the acknowledgement; any
    other 2xx answer is not (TransientError: the batch stays pending).
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
        return acknowledgement(response, what, batch_id)


ACK = 'HTTP 200/201 with a JSON object {"ack_id": "…"} (and our batch_id, if it names one)'


def acknowledgement(response: httpx.Response, what: str, batch_id: str) -> DeliveryResult:
    """The receipt in a 2xx answer; TransientError when the answer is not one (issue 13: an HTML
    page from a proxy counted as delivered and the batch was never sent again)."""
    try:
        body = response.json()
    except ValueError:
        body = None
    ack = body.get("ack_id") if isinstance(body, dict) else None
    if response.status_code not in (200, 201) or not isinstance(ack, str) or not ack.strip():
        raise not_an_ack(response, what, ACK)
    if body.get("batch_id") not in (None, batch_id):
        raise not_an_ack(response, what, f"{ACK}; it names batch {body.get('batch_id')!r}")
    return DeliveryResult(ack, str(body.get("message", "")))
