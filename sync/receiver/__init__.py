"""Reference receiver: EPCIS 2.0 capture interface and REST upload, with fault switches."""

from __future__ import annotations

from sync.receiver.cli import main
from sync.receiver.server import ReceiverServer, serve
from sync.receiver.validate import EpcisValidator, canonical_body, sign_manifest, verify_manifest

__all__ = [
    "EpcisValidator",
    "ReceiverServer",
    "canonical_body",
    "main",
    "serve",
    "sign_manifest",
    "verify_manifest",
]
