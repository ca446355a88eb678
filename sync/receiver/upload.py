"""The receiver's plain REST upload: POST /batches, multipart with manifest + files."""

from __future__ import annotations

import json
from typing import Any

from sync.receiver.capture import Answer, problem
from sync.receiver.multipart import parse_multipart
from sync.receiver.state import ReceiverState, now_iso
from sync.receiver.validate import EpcisValidator, ValidationFailed, check_file, verify_manifest


def handle_upload(
    state: ReceiverState, validator: EpcisValidator, key: bytes | None, headers: Any, body: bytes
) -> Answer:
    """Check and store one batch file set; a repeated batch id gets the first answer back."""
    try:
        parts = parse_multipart(headers.get("Content-Type", ""), body)
    except ValueError as exc:
        return problem(400, "Bad upload", str(exc))
    manifests = [p for p in parts if p.name == "manifest"]
    if len(manifests) != 1:
        return problem(400, "Bad upload", "exactly one 'manifest' part is required")
    try:
        manifest = verify_manifest(manifests[0].data, key)
    except ValidationFailed as exc:
        return problem(400, "Manifest rejected", str(exc))
    batch_id = manifest["batch_id"]
    header_batch = headers.get("X-LineStation-Batch") or headers.get("Idempotency-Key")
    if header_batch and header_batch != batch_id:
        return problem(
            400, "Manifest rejected", f"manifest is for {batch_id}, header {header_batch}"
        )
    with state.lock:
        first = state.receipts.get(batch_id)
    if first is not None:
        with state.lock:
            state.stats["replayed"] += 1
        return _replay(first)
    files = {p.filename: p.data for p in parts if p.name == "file" and p.filename}
    listed = {e.get("name") for e in manifest["files"] if isinstance(e, dict)}
    extra = sorted(set(files) - listed)
    if extra:
        return problem(400, "Bad upload", f"files not in the manifest: {', '.join(extra)}")
    try:
        for name in sorted(listed):
            if name not in files:
                raise ValidationFailed(f"{name} is listed in the manifest but was not uploaded")
            check_file(manifest, name, files[name])
            if name.endswith((".jsonld", ".json")):
                try:
                    doc = json.loads(files[name])
                except ValueError as exc:
                    raise ValidationFailed(f"{name} is not JSON: {exc}") from exc
                validator.check(doc)
    except ValidationFailed as exc:
        return problem(400, "Batch rejected", str(exc))
    ack_id = f"rcv-{batch_id}"
    receipt = {
        "batch_id": batch_id,
        "ack_id": ack_id,
        "via": "rest",
        "received_at": now_iso(),
        "status": 201,
        "body": {"ack_id": ack_id, "batch_id": batch_id, "message": f"{len(files)} files stored"},
    }
    stood = state.commit(batch_id, files, manifests[0].data, receipt)
    return (201, {}, stood["body"]) if stood is receipt else _replay(stood)


def _replay(receipt: dict[str, Any]) -> Answer:
    if receipt.get("via") != "rest":
        body = {
            "ack_id": receipt["ack_id"],
            "batch_id": receipt["batch_id"],
            "message": "already captured",
        }
        return 200, {"Idempotent-Replayed": "true"}, body
    return int(receipt["status"]), {"Idempotent-Replayed": "true"}, receipt["body"]
