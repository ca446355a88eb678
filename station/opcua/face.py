"""LineFace: the line's OPC UA server in its own thread and event loop, fed plain snapshots.

The line is a plain thread with a tick loop, so the face never blocks it: `update()` only keeps
the newest snapshot and wakes the server's loop, which writes what changed (snapshots that arrive
faster than they are written are coalesced; a client sees the newest). Job-order methods run the
caller's handler in a worker thread of the server's loop.
```
LineFace(handler, authenticate).start(endpoint, certificate_dir)   # returns once listening
face.update(LineSnapshot(...))     # any thread, any rate
face.stop()
```
"""

from __future__ import annotations

import asyncio
import logging
import socket
import threading
from importlib import resources
from pathlib import Path
from urllib.parse import urlparse

from asyncua import ua

from .certs import CertificatePair, ensure_certificate
from .jobs import OPENSCS_URI, JobControl
from .model import Authenticate, JobHandler, LineSnapshot, OpcUaError
from .security import GuardedServer, PasswordUsers
from .space import LineSpace

log = logging.getLogger(__name__)

NODESETS = ("Opc.Ua.PackML.NodeSet2.xml", "Opc.Ua.OPENSCS.NodeSet2.xml")
DEFAULT_JOB_ROLES = frozenset({"it", "admin"})  # the station roles that manage batches


def check_endpoint(endpoint: str) -> tuple[str, int]:
    """(host, port) of an opc.tcp:// endpoint, or OpcUaError naming what is wrong."""
    url = urlparse(endpoint)
    try:
        port = url.port
    except ValueError:
        port = None
    if url.scheme != "opc.tcp" or not url.hostname or not port:
        raise OpcUaError(
            f"endpoint {endpoint!r} is not opc.tcp://HOST:PORT/PATH",
            "[opcua] endpoint",
            'write e.g. endpoint = "opc.tcp://0.0.0.0:4840/linestation"',
        )
    return url.hostname, port


class LineFace:
    """The line as MES and SCADA see it over OPC UA: PackML state, counts, batch, alarms, jobs."""

    def __init__(
        self,
        handler: JobHandler | None = None,
        authenticate: Authenticate | None = None,
        *,
        line_name: str = "Line",
        job_roles: frozenset[str] = DEFAULT_JOB_ROLES,
        allow_anonymous: bool = True,
        application_uri: str | None = None,
    ) -> None:
        if not line_name.strip():
            raise OpcUaError("line_name is empty", "[opcua] line_name", "name the line, e.g. Line1")
        self._handler = handler
        self._authenticate = authenticate
        self.line_name = line_name
        self._job_roles = frozenset(job_roles)
        self._allow_anonymous = allow_anonymous
        self.application_uri = application_uri or f"urn:{socket.gethostname()}:linestation"
        self.endpoint = ""
        self.certificate: CertificatePair | None = None
        self.last_error: BaseException | None = None  # the last failed publish, for the log view
        self._lock = threading.Lock()
        self._published = threading.Condition(self._lock)
        self._latest = LineSnapshot()
        self._posted = 0
        self._written = 0
        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._wake: asyncio.Event | None = None
        self._stopping = False
        self._ready = threading.Event()
        self._start_error: BaseException | None = None

    def start(self, endpoint: str, certificate_dir: Path, *, timeout_s: float = 120.0) -> None:
        """Start the server on `endpoint`; returns once it listens, raises OpcUaError if not.

        The certificate is made in `certificate_dir` at first start and reused afterwards.
        """
        if self._thread is not None:
            raise OpcUaError("already started", self.endpoint, "call stop() first")
        check_endpoint(endpoint)
        self.endpoint = endpoint
        self.certificate = ensure_certificate(
            Path(certificate_dir), self.application_uri, hosts=(urlparse(endpoint).hostname,)
        )
        self._ready.clear()
        self._start_error = None
        self._stopping = False
        self._thread = threading.Thread(target=self._run, name="opcua-server", daemon=True)
        self._thread.start()
        if not self._ready.wait(timeout_s):
            self.stop()
            raise OpcUaError(
                f"not listening after {timeout_s:.0f} s",
                endpoint,
                "see the log; is the machine busy?",
            )
        if self._start_error is not None:
            err = self._start_error
            self._thread.join(timeout_s)
            self._thread = None
            if isinstance(err, OpcUaError):
                raise err
            if isinstance(err, OSError):
                hint = "pick a free port in [opcua] endpoint, or stop the program that holds it"
            else:
                hint = "see the log for the trace and report it"
            raise OpcUaError(f"cannot start ({err!r})", endpoint, hint) from err

    def update(self, snapshot: LineSnapshot) -> None:
        """Hand over the line's newest snapshot; returns at once (any thread)."""
        with self._lock:
            self._latest = snapshot
            self._posted += 1
            loop, wake = self._loop, self._wake
        if loop is not None and wake is not None:
            try:
                loop.call_soon_threadsafe(wake.set)
            except RuntimeError:
                pass  # the loop just closed: the server is stopping

    def wait_published(self, timeout_s: float = 60.0) -> bool:
        """Wait until the newest snapshot handed over is written; False on timeout."""
        with self._published:
            return self._published.wait_for(lambda: self._written >= self._posted, timeout_s)

    def stop(self, timeout_s: float = 60.0) -> None:
        """Stop the server and its thread (idempotent)."""
        thread = self._thread
        if thread is None:
            return
        with self._lock:
            self._stopping = True
            loop, wake = self._loop, self._wake
        if loop is not None and wake is not None:
            try:
                loop.call_soon_threadsafe(wake.set)
            except RuntimeError:
                pass
        thread.join(timeout_s)
        if thread.is_alive():
            log.warning("OPC UA: the server thread did not end within %.0f s", timeout_s)
        self._thread = None

    # --- the server's thread -------------------------------------------------------------

    def _run(self) -> None:
        """Thread body: an event loop of its own running the server until stop()."""
        loop = asyncio.new_event_loop()
        try:
            loop.run_until_complete(self._serve())
            loop.run_until_complete(loop.shutdown_asyncgens())
            loop.run_until_complete(loop.shutdown_default_executor())
        finally:
            with self._lock:
                self._loop = self._wake = None
            loop.close()

    async def _serve(self) -> None:
        """Build, listen, then write snapshots as they come until stopping."""
        try:
            server, space, jobs = await self._build()
            await server.start()
        except BaseException as exc:
            self._start_error = exc
            self._ready.set()
            return
        with self._lock:
            self._loop = asyncio.get_running_loop()
            self._wake = asyncio.Event()
            self._wake.set()  # publish the snapshot held now
        self._ready.set()
        log.info("OPC UA: serving %s on %s", self.line_name, self.endpoint)
        try:
            await self._publish_loop(space, jobs)
        finally:
            await server.stop()

    async def _publish_loop(self, space: LineSpace, jobs: JobControl | None) -> None:
        """Write the newest snapshot each time update() wakes us."""
        last = None
        while True:
            await self._wake.wait()
            self._wake.clear()
            with self._lock:
                if self._stopping:
                    return
                snap, seq = self._latest, self._posted
            try:
                await space.publish(snap)
                if jobs is not None and (
                    last is None or (last.batch_id, last.state) != (snap.batch_id, snap.state)
                ):
                    await jobs.refresh()  # a batch that starts or ends moves its job's state
                last = snap
            except Exception as exc:
                self.last_error = exc
                log.exception("OPC UA: writing the line snapshot failed")
            with self._published:
                self._written = seq
                self._published.notify_all()

    async def _build(self) -> tuple[GuardedServer, LineSpace, JobControl | None]:
        """The asyncua server with the nodesets, the line's nodes and the security set up."""
        guarded: set[ua.NodeId] = set()
        users = PasswordUsers(self._authenticate, self._allow_anonymous)
        server = GuardedServer(guarded, self._job_roles, users)
        await server.init()
        server.set_endpoint(self.endpoint)
        server.set_server_name(f"LineStation {self.line_name}")
        await server.set_application_uri(self.application_uri)
        await server.load_certificate(str(self.certificate.cert))
        await server.load_private_key(str(self.certificate.key))
        policies = [ua.SecurityPolicyType.Basic256Sha256_SignAndEncrypt]
        tokens: list[type] = [ua.UserNameIdentityToken]
        if self._allow_anonymous:
            policies.insert(0, ua.SecurityPolicyType.NoSecurity)
            tokens.insert(0, ua.AnonymousIdentityToken)
        server.set_security_policy(policies)
        server.set_identity_tokens(tokens)
        folder = resources.files(__package__) / "nodesets"
        for name in NODESETS:
            with resources.as_file(folder / name) as path:
                await server.import_xml(str(path))
        space = await LineSpace.build(server, self.line_name)
        guarded |= space.guarded
        jobs = None
        if self._handler is not None:
            oidx = await server.get_namespace_index(OPENSCS_URI)
            jobs = await JobControl.build(space.line, space.idx, oidx, self._handler)
            guarded |= set(jobs.methods.values())
        return server, space, jobs
