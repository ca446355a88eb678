"""Transports that move a batch file set upstream: EPCIS capture, REST upload, folder drop."""

from __future__ import annotations

from sync.transports.base import DeliveryResult, Transport
from sync.transports.epcis_capture import CaptureLimits, EpcisCaptureTransport
from sync.transports.folder import FolderTransport
from sync.transports.rest_upload import RestUploadTransport

__all__ = [
    "CaptureLimits",
    "DeliveryResult",
    "EpcisCaptureTransport",
    "FolderTransport",
    "RestUploadTransport",
    "Transport",
]
