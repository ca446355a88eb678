"""The line's OPC UA server for MES and SCADA: PackML state, counts, batch, alarms, job orders.

Imports nothing from the rest of station/: it takes plain snapshots and calls a JobHandler and an
authenticate callable its caller provides (see README.md in this folder).
"""

from .certs import CertificatePair, ensure_certificate
from .face import DEFAULT_JOB_ROLES, LineFace, check_endpoint
from .model import (
    Authenticate,
    JobHandler,
    JobInfo,
    JobOrder,
    JobOrderState,
    JobResult,
    JobStatus,
    LineAlarm,
    LineSnapshot,
    OpcUaError,
    PackMLState,
)
from .space import NS_URI

__all__ = [
    "DEFAULT_JOB_ROLES",
    "NS_URI",
    "Authenticate",
    "CertificatePair",
    "JobHandler",
    "JobInfo",
    "JobOrder",
    "JobOrderState",
    "JobResult",
    "JobStatus",
    "LineAlarm",
    "LineFace",
    "LineSnapshot",
    "OpcUaError",
    "PackMLState",
    "check_endpoint",
    "ensure_certificate",
]
