"""Folder drop (mounted share or USB stick); readers take a batch folder once manifest.json is in.

Each file goes to `<folder>/<batch id>/.<name>.tmp`, is fsynced and renamed into place; the
manifest is written last the same way, so a reader that waits for manifest.json never sees a half
batch. Delivering the same batch again is a no-op when the same manifest is already there.
"""

from __future__ import annotations

import contextlib
import errno
import os
import shutil
from pathlib import Path

from sync.durable import fsync_dir
from sync.errors import PermanentError, SyncError, TransientError
from sync.transports.base import MANIFEST_NAME, DeliveryResult, read_manifest

_COPY_CHUNK = 1 << 20


class FolderTransport:
    """Writes batch file sets into `path/<batch id>/`, atomically per file, manifest last."""

    def __init__(self, path: Path | str, *, min_free_bytes: int = 0) -> None:
        self.path = Path(path)
        self.min_free_bytes = min_free_bytes

    def deliver(self, batch_dir: Path, batch_id: str) -> DeliveryResult:
        """Copy the batch into the folder; idempotent per batch id."""
        manifest = read_manifest(batch_dir, batch_id)
        if not batch_id or any(c in batch_id for c in '/\\:*?"<>|') or batch_id.startswith("."):
            raise PermanentError(f"batch id {batch_id!r} cannot be a folder name")
        if not self.path.is_dir():
            raise TransientError(
                f"drop folder {self.path} is missing (share not mounted or USB stick not plugged "
                "in?): mount or plug it in; the batch waits in the outbox and goes out by itself"
            )
        target = self.path / batch_id
        done = target / MANIFEST_NAME
        if done.exists():
            if done.read_bytes() == manifest.raw:
                return DeliveryResult(str(target), "already in the folder")
            raise PermanentError(
                f"drop folder {target} holds a different batch file set with id {batch_id}; "
                "move it away after checking which one is right, then re-queue"
            )
        needed = len(manifest.raw) + sum(
            (batch_dir / e["name"]).stat().st_size
            for e in manifest.files
            if (batch_dir / e["name"]).exists()
        )
        self._check_space(needed)
        try:
            target.mkdir(exist_ok=True)
            for entry in manifest.files:
                name = entry["name"]
                source = batch_dir / name
                if not source.exists():
                    raise PermanentError(f"batch {batch_id}: {source} is missing; re-export")
                self._write_atomic(target / name, source=source)
            self._write_atomic(done, data=manifest.raw)
            fsync_dir(target)
            fsync_dir(self.path)
        except OSError as exc:
            raise self._os_error(exc, target, needed) from exc
        return DeliveryResult(str(target), f"{len(manifest.files)} files written")

    def _check_space(self, needed: int) -> None:
        try:
            free = shutil.disk_usage(self.path).free
        except OSError as exc:
            raise self._os_error(exc, self.path, needed) from exc
        if free < needed + self.min_free_bytes:
            raise TransientError(
                f"drop folder {self.path} is full: the batch needs {needed} bytes"
                f"{f' plus {self.min_free_bytes} kept free' if self.min_free_bytes else ''}, "
                f"{free} are free: empty or replace the share/stick; the batch waits in the outbox"
            )

    def _write_atomic(self, final: Path, *, source: Path | None = None, data: bytes = b"") -> None:
        tmp = final.with_name(f".{final.name}.tmp")
        try:
            with tmp.open("wb") as out:
                if source is not None:
                    with source.open("rb") as src:
                        shutil.copyfileobj(src, out, _COPY_CHUNK)
                else:
                    out.write(data)
                out.flush()
                os.fsync(out.fileno())
            os.replace(tmp, final)
        except BaseException:
            with contextlib.suppress(OSError):
                tmp.unlink()
            raise

    def _os_error(self, exc: OSError, where: Path, needed: int) -> SyncError:
        if exc.errno in (errno.ENOSPC, errno.EDQUOT):
            return TransientError(
                f"drop folder {self.path} is full while writing {where} ({needed} bytes needed): "
                "empty or replace the share/stick; the batch waits in the outbox"
            )
        if exc.errno == errno.ENOENT:
            return TransientError(
                f"drop folder {self.path} vanished while writing {where} (unplugged?): "
                "plug it back in; the batch waits in the outbox"
            )
        if exc.errno == errno.EROFS:
            return TransientError(
                f"drop folder {self.path} is read-only (write-protected stick?): make it writable"
            )
        if exc.errno in (errno.EACCES, errno.EPERM):
            return TransientError(
                f"no permission to write in drop folder {self.path}: give the station's user "
                "write access"
            )
        return TransientError(f"cannot write batch into drop folder {self.path}: {exc}")
