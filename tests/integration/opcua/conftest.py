"""A running LineFace on a free local port, a recording job handler, and asyncua clients for it."""

from __future__ import annotations

import socket
import threading

import pytest
from asyncua import Client

from station.opcua import (
    JobInfo,
    JobOrder,
    JobOrderState,
    JobResult,
    JobStatus,
    LineFace,
    ensure_certificate,
)

USERS = {"mes": ("mes-secret", "it"), "op": ("op-secret", "operator")}
TIMEOUT_S = 120  # server start and client requests on a busy 2-core machine


def free_port() -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def authenticate(user: str, password: str) -> str | None:
    """The station's side of a login, as the integrator will wire it: role or None."""
    known = USERS.get(user)
    return known[1] if known and known[0] == password else None


class RecordingJobs:
    """A JobHandler that keeps what the MES sent (a stand-in for the line's batch handling)."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.calls: list[tuple[str, object]] = []
        self.jobs: dict[str, JobOrderState] = {}

    def store_job(self, job: JobOrder) -> JobResult:
        """Keep the job as Ready."""
        with self.lock:
            self.calls.append(("store", job))
            if job.job_id in self.jobs:
                return JobResult(JobStatus.REJECTED, f"job {job.job_id} is already stored")
            self.jobs[job.job_id] = JobOrderState.READY
        return JobResult(JobStatus.OK, f"stored {job.job_id}")

    def start_job(self, job_id: str) -> JobResult:
        """Mark a stored job Running."""
        with self.lock:
            self.calls.append(("start", job_id))
            if job_id not in self.jobs:
                return JobResult(JobStatus.UNKNOWN_JOB, f"no job {job_id}")
            self.jobs[job_id] = JobOrderState.RUNNING
        return JobResult(JobStatus.OK, f"started {job_id}")

    def stop_job(self, job_id: str) -> JobResult:
        """Mark a job Aborted."""
        with self.lock:
            self.calls.append(("stop", job_id))
            if job_id not in self.jobs:
                return JobResult(JobStatus.UNKNOWN_JOB, f"no job {job_id}")
            self.jobs[job_id] = JobOrderState.ABORTED
        return JobResult(JobStatus.OK, f"stopped {job_id}")

    def list_jobs(self) -> list[JobInfo]:
        """The jobs in the order they were stored."""
        with self.lock:
            return [JobInfo(j, s) for j, s in self.jobs.items()]


@pytest.fixture(scope="module")
def jobs() -> RecordingJobs:
    """The module's job handler."""
    return RecordingJobs()


@pytest.fixture(scope="module")
def face(jobs: RecordingJobs, tmp_path_factory: pytest.TempPathFactory):
    """One LineFace serving line "Line1" for the module's tests."""
    certs = tmp_path_factory.mktemp("opcua-certs")
    face = LineFace(jobs, authenticate, line_name="Line1", application_uri="urn:test:linestation")
    face.start(f"opc.tcp://127.0.0.1:{free_port()}/linestation", certs, timeout_s=TIMEOUT_S)
    try:
        yield face
    finally:
        face.stop()


@pytest.fixture
def lasting_threads() -> tuple[str, ...]:
    """The face's executor threads (asyncio_N), started at the first method call, in some test.

    The module-scoped face runs an event loop of its own; face.stop() shuts its executor down.
    """
    return ("asyncio_",)


@pytest.fixture(scope="module")
def client_cert(tmp_path_factory: pytest.TempPathFactory):
    """A client application certificate (made by the same helper the server uses)."""
    return ensure_certificate(tmp_path_factory.mktemp("client-certs"), "urn:test:mes-client")


@pytest.fixture(scope="module")
def connect(face: LineFace, client_cert):
    """Make a client: anonymous and unencrypted by default, or encrypted with user/password."""

    def make(user: str | None = None, password: str | None = None, encrypted: bool = False):
        client = Client(face.endpoint, timeout=TIMEOUT_S)
        if not encrypted:
            return _Ready(client)
        client.application_uri = "urn:test:mes-client"
        if user is not None:
            client.set_user(user)
            client.set_password(password or "")
        return _Ready(client, f"Basic256Sha256,SignAndEncrypt,{client_cert.cert},{client_cert.key}")

    return make


class _Ready:
    """`async with connect(...) as client:` sets the security up, then connects."""

    def __init__(self, client: Client, security: str | None = None) -> None:
        self.client, self.security = client, security

    async def __aenter__(self) -> Client:
        if self.security:
            await self.client.set_security_string(self.security)
        await self.client.connect()
        return self.client

    async def __aexit__(self, *exc) -> None:
        await self.client.disconnect()
