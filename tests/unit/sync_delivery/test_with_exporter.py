"""The contract with the exporters: a batch file set written by sync/manifest.py gets through."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sync_delivery_helpers import stored_batches

from sync.errors import PermanentError
from sync.manifest import write_batch_files
from sync.model import BatchData, BatchInfo, CodeRecord
from sync.receiver import ReceiverServer
from sync.transports import EpcisCaptureTransport, RestUploadTransport

T0 = datetime(2026, 11, 24, 8, 0, tzinfo=UTC)


def exported(root: Path, batch_id: str, n: int, **sign: object) -> Path:
    info = BatchInfo(
        batch_id=batch_id,
        station_id="line-7",
        line="L7",
        product_gtin="06901234567892",
        product_sku=None,
        product_name="Cap 500",
        lot="L2611",
        produced=date(2026, 11, 24),
        expires=date(2028, 11, 23),
        closed_at=T0,
    )
    states = ["decommissioned", "destroyed"] + ["verified"] * (n - 2)
    codes = [CodeRecord(f"8200000000000{i:07d}", "outer", s, T0) for i, s in enumerate(states)]
    data = BatchData(info, lambda: codes, list, list, list, ("outer",))
    folder = root / batch_id
    write_batch_files(data, folder, ["epcis-jsonld", "csv"], **sign)  # type: ignore[arg-type]
    return folder


def test_hmac_signed_export_through_capture_and_upload(
    tmp_path: Path, receiver: Callable[..., ReceiverServer]
) -> None:
    key = b"station-secret"
    server = receiver(key=key, capture_limit=1)
    a = exported(tmp_path / "out", "WO-1", 30, key=key, key_id="k1")
    b = exported(tmp_path / "out", "WO-2", 30, key=key, key_id="k1")
    with EpcisCaptureTransport(server.url, poll_interval_s=0.01, poll_timeout_s=5) as capture:
        result = capture.deliver(a, "WO-1")
    assert "in 3 documents" in result.message  # commissioning, decommissioning, destroying
    with RestUploadTransport(server.url + "/batches") as upload:
        upload.deliver(b, "WO-2")
        wrong = exported(tmp_path / "bad", "WO-3", 3, key=b"not-the-key", key_id="k1")
        with pytest.raises(PermanentError, match="signature does not verify"):
            upload.deliver(wrong, "WO-3")
    assert stored_batches(tmp_path / "received") == ["WO-1", "WO-2"]
    name = "WO-1.epcis.jsonld"
    assert (tmp_path / "received" / "WO-1" / name).read_bytes() == (a / name).read_bytes()


def test_ed25519_signed_export_is_verified_with_the_public_key(
    tmp_path: Path, receiver: Callable[..., ReceiverServer]
) -> None:
    private = Ed25519PrivateKey.generate()
    pem_private = private.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    pem_public = private.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    server = receiver(key=pem_public)
    folder = exported(
        tmp_path / "out", "WO-9", 5, key=b"", key_id="ed1", signer="ed25519",
        ed25519_private_key=pem_private,
    )  # fmt: skip
    with RestUploadTransport(server.url + "/batches") as upload:
        assert upload.deliver(folder, "WO-9").ack_id == "rcv-WO-9"
    hmac_signed = exported(tmp_path / "out", "WO-10", 5, key=b"x", key_id="k1")
    with (
        RestUploadTransport(server.url + "/batches") as upload,
        pytest.raises(PermanentError, match="expects 'ed25519'"),
    ):
        upload.deliver(hmac_signed, "WO-10")
