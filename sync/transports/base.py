"""The Transport protocol and what every transport shares: the manifest and HTTP answer mapping."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import httpx

from sync.errors import PermanentError, SyncError, TransientError, error_for_status

MANIFEST_NAME = "manifest.json"

# Headers that carry the batch to the receiver. There is no idempotency header in EPCIS 2.0
# (the GS1 OpenAPI defines none), so we send the IETF draft `Idempotency-Key` and our own.
HEADER_BATCH = "X-LineStation-Batch"
HEADER_MANIFEST = "X-LineStation-Manifest"
HEADER_IDEMPOTENCY = "Idempotency-Key"


@dataclass(frozen=True)
class DeliveryResult:
    """Upstream's acknowledgement of one batch: its id for the receipt and any message."""

    ack_id: str
    message: str = ""


class Transport(Protocol):
    """Moves one batch file set upstream; raises TransientError or PermanentError on failure."""

    def deliver(self, batch_dir: Path, batch_id: str) -> DeliveryResult:
        """Deliver batch_dir; the same batch_id twice must be harmless."""
        ...


@dataclass(frozen=True)
class Manifest:
    """manifest.json as read from disk: raw bytes (sent as is) and parsed content."""

    raw: bytes
    data: dict[str, Any]

    @property
    def files(self) -> list[dict[str, Any]]:
        """The file entries: name, size, sha256."""
        return list(self.data.get("files", []))


def read_manifest(batch_dir: Path, batch_id: str) -> Manifest:
    """Read and sanity-check batch_dir/manifest.json; PermanentError if it cannot be delivered."""
    path = batch_dir / MANIFEST_NAME
    try:
        raw = path.read_bytes()
    except FileNotFoundError as exc:
        raise PermanentError(f"batch {batch_id}: {path} is missing; re-export the batch") from exc
    except OSError as exc:
        raise TransientError(f"batch {batch_id}: cannot read {path}: {exc}") from exc
    try:
        data = json.loads(raw)
    except ValueError as exc:
        raise PermanentError(f"batch {batch_id}: {path} is not JSON: {exc}") from exc
    if not isinstance(data, dict) or not isinstance(data.get("files"), list):
        raise PermanentError(f"batch {batch_id}: {path} has no 'files' list")
    if data.get("batch_id") not in (None, batch_id):
        raise PermanentError(
            f"batch {batch_id}: {path} names batch {data.get('batch_id')!r}; the outbox entry "
            "points at the wrong folder"
        )
    for entry in data["files"]:
        name = entry.get("name") if isinstance(entry, dict) else None
        if not isinstance(name, str) or "/" in name or "\\" in name or name.startswith("."):
            raise PermanentError(f"batch {batch_id}: {path} has a bad file entry {entry!r}")
    return Manifest(raw=raw, data=data)


def retry_after(response: httpx.Response) -> float | None:
    """Seconds from a Retry-After header given in seconds (the HTTP-date form is ignored)."""
    value = response.headers.get("Retry-After", "")
    try:
        return max(0.0, float(value))
    except ValueError:
        return None


def server_message(response: httpx.Response) -> str:
    """The human part of an error answer: RFC 7807 detail/title, a JSON message, or the text."""
    text = response.text[:2000]
    try:
        body = response.json()
    except ValueError:
        return text.strip()
    if isinstance(body, dict):
        for key in ("detail", "message", "title", "error"):
            if isinstance(body.get(key), str) and body[key]:
                return body[key]
    return text.strip()


def check_response(response: httpx.Response, what: str) -> None:
    """Raise the right SyncError for a non-2xx answer."""
    if response.is_success:
        return
    raise error_for_status(
        response.status_code, what, server_message(response), retry_after(response)
    )


def not_an_ack(response: httpx.Response, what: str, expected: str) -> TransientError:
    """A 2xx answer that is not the documented acknowledgement (a proxy's HTML page, garbage):
    the batch was not acknowledged, so it stays pending and is sent again (resends are harmless).
    """
    kind = response.headers.get("Content-Type", "no content type").split(";")[0]
    body = response.content[:60]
    shown = body.decode("utf-8", "replace") if body.isascii() else f"{len(response.content)} bytes"
    shown = " ".join(shown.split())
    return TransientError(
        f"{what}: HTTP {response.status_code} but not an acknowledgement (expected {expected}; "
        f"got {kind}: {shown!r}); a proxy or a wrong URL? The batch stays pending",
        status=response.status_code,
        server_message=shown,
    )


def transport_error(exc: httpx.HTTPError, what: str) -> SyncError:
    """Turn an httpx connection/timeout error into a TransientError naming what and where."""
    kind = "timed out" if isinstance(exc, httpx.TimeoutException) else "connection failed"
    return TransientError(f"{what}: {kind}: {type(exc).__name__}: {exc}")
