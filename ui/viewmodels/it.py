"""IT: the outbox (pending, sent, acknowledged, parked), push now, export, store backup, device
tests."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from psygnal import Signal

from station.line.device_test import configured, test_device
from ui.viewmodels import Runner, run_now
from ui.viewmodels.session import SessionModel

AUTO_BACKUP_USER = "auto-backup"
"""Who the audit trail names for the daily backup the station makes by itself."""


def sync_available() -> bool:
    """True when this build has the station's outbox, sender and file sets."""
    import importlib.util

    return all(
        importlib.util.find_spec(m) is not None
        for m in ("station.upstream.outbox", "station.upstream.sender", "station.upstream.fileset")
    )


def device_url(settings, name: str) -> str | None:
    """The configured URL (or camera source) of a device, None if not configured."""
    cfg = getattr(settings.devices, name, None)
    if cfg is None:
        return None
    return getattr(cfg, "url", None) or getattr(cfg, "source", None)


@dataclass(frozen=True)
class Grab:
    """The last frame a camera test grabbed, with the codes read in it."""

    device: str
    frame: Any
    codes: tuple[str, ...]


class ITViewModel:
    """State of the IT screen; outbox work goes through station.upstream (outbox, sender)."""

    outbox_changed = Signal()
    devices_changed = Signal()
    message = Signal(str, str)  # kind (info|error), text
    exported = Signal(str)  # folder
    frame_grabbed = Signal()  # a camera test grabbed `grab`
    backed_up = Signal(dict)  # station.store.backup's summary: backup path, codes, sha256, …

    def __init__(self, engine, settings, session: SessionModel, *, run: Runner = run_now):
        self.engine = engine
        self.settings = settings
        self.session = session
        self.run = run
        self.available = sync_available()
        self.entries: list[dict] = []
        self.units: dict[str, dict] = {}  # a batch's units by key: pallet, close, verdicts
        self.counts: dict[str, int] = {}
        self.upstream: str | None = None
        self.devices: dict[str, tuple[str | None, str, str]] = {
            n: (device_url(settings, n), "untested", "") for n in configured(settings)
        }
        self.busy = False
        self.grab: Grab | None = None
        self.last_tested: str | None = None

    # -- outbox -------------------------------------------------------------------------------
    def refresh(self) -> None:
        """Reload the outbox rows and counts."""
        if not self.available:
            self.outbox_changed.emit()
            return
        from station.upstream import ledger, outbox

        def work():
            return (
                outbox.entries(self.engine),
                outbox.counts(self.engine),
                outbox.describe_upstream(self.settings),
                {u["unit"]: u for u in ledger.units_status(self.engine)},
            )

        self.run(work, self._got, self._error)

    def _got(self, got) -> None:
        self.entries, self.counts, self.upstream, *rest = got
        self.units = rest[0] if rest else {}
        self.outbox_changed.emit()

    def upstream_state(self) -> str:
        """'none' (not configured) | 'parked' | 'waiting' | 'ok' for the status bar."""
        if not self.available or self.upstream is None:
            return "none"
        if self.counts.get("parked"):
            return "parked"
        if self.counts.get("pending") or self.counts.get("sending"):
            return "waiting"
        return "ok"

    def push(self, batch_ids: list[str] | None = None) -> None:
        """Send what is queued now (one attempt each) off the UI thread."""
        if not self._ready("sync"):
            return
        from station.upstream import sender as upstream

        user = self.session.user or ""
        self.busy = True
        self.run(
            lambda: upstream.push(self.engine, self.settings, user=user, batch_ids=batch_ids),
            self._pushed,
            self._error,
        )

    def _pushed(self, result: dict) -> None:
        self.busy = False
        self.entries = result["entries"]
        self.counts = result["counts"]
        self.upstream = result.get("upstream")
        self.outbox_changed.emit()
        self.message.emit("info", "pushed")
        self.refresh()  # the units' pallets and what waits for what

    def retry(self, batch_id: str) -> None:
        """Re-queue a parked entry after IT fixed the cause."""
        if not self._ready("sync"):
            return
        from station.upstream import outbox

        user = self.session.user or ""
        self.run(
            lambda: outbox.requeue(self.engine, batch_id, user=user), self._requeued, self._error
        )

    def _requeued(self, _old: str) -> None:
        self.refresh()

    def export(self, batch_id: str, folder: str | Path) -> None:
        """Write the closed batch's file set (EPCIS, CSV, manifest) into `folder`/<batch>."""
        if not self._ready("export"):
            return
        from station.upstream.batchdata import batch_data
        from station.upstream.fileset import export_formats, write_file_set
        from sync.model import safe_name

        s, e = self.settings, self.engine

        def work() -> str:
            out = Path(folder) / safe_name(batch_id)
            data = batch_data(e, s, batch_id)
            return str(write_file_set(s, data, out, export_formats(s)).parent)

        self.run(work, self.exported.emit, self._error)

    def backup(self) -> None:
        """Copy the store to <data_dir>/backups off the UI thread (station.store.backup)."""
        if not self._may("store.backup"):
            return
        from station.store.backup import backup

        s, e, user = self.settings, self.engine, self.session.user or ""
        self.busy = True
        self.run(lambda: backup(e, s, None, user=user), self._backed_up, self._error)

    def _backed_up(self, got: dict) -> None:
        self.busy = False
        self.backed_up.emit(got)

    def last_backup(self) -> dict | None:
        """The newest backup in <data_dir>/backups (path, bytes, at), or None."""
        from station.store.backup import last_backup

        return last_backup(self.settings)

    def auto_backup(self) -> None:
        """The daily backup, checked hourly by the IT screen: a copy when one is due, old ones
        pruned (station.backup_every_hours / backup_keep_days), off the UI thread."""
        if self.busy:
            return
        from station.store.backup import auto_backup

        s, e = self.settings, self.engine

        def done(got: dict) -> None:
            self.busy = False
            if got["made"]:
                self.backed_up.emit(got["made"])

        self.busy = True
        self.run(lambda: auto_backup(e, s, user=AUTO_BACKUP_USER), done, self._error)

    def closed_batches(self) -> list[str]:
        """Ids of closed batches (what may be exported), newest first."""
        from station.store import batches

        return [b.id for b in batches.list_all(self.engine) if b.closed_at is not None]

    # -- devices ------------------------------------------------------------------------------
    def test_device(self, name: str) -> None:
        """Test one device through its driver, off the UI thread: a test label or ticket, a
        camera frame, the stack light colours (station.line.device_test). The result lands in
        `devices`; a grabbed frame in `grab`."""
        url = device_url(self.settings, name)
        if url is None:
            return
        if not self._may("devices"):
            return
        self.devices[name] = (url, "testing", "")
        self.devices_changed.emit()
        s, e = self.settings, self.engine
        self.run(
            lambda: test_device(s, name, engine=e),
            lambda r: self._tested(name, url, r),
            lambda exc: self._tested(name, url, exc),
        )

    def _tested(self, name: str, url: str, result) -> None:
        self.last_tested = name
        if isinstance(result, Exception):  # refused (a batch runs) or a device gap
            self.devices[name] = (url, "fault", str(result))
        else:
            self.devices[name] = (url, "ok" if result.ok else "fault", result.text)
            if result.frame is not None:
                self.grab = Grab(name, result.frame, result.codes)
                self.frame_grabbed.emit()
        self.devices_changed.emit()

    def _ready(self, action: str) -> bool:
        if not self.available:
            self.message.emit("error", "unavailable")
            return False
        return self._may(action)

    def _may(self, action: str) -> bool:
        if not self.session.can(action):
            self.message.emit("error", f"role {self.session.role} may not {action}")
            return False
        return True

    def _error(self, exc: Exception) -> None:
        self.busy = False
        self.message.emit("error", str(exc))
