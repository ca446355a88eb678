"""A closed batch's file set: the export files and the signed manifest, sealed once.

`seal` writes into a temporary folder beside the final one and renames it into place, so the
folder either holds a complete signed set or does not exist; a sealed set is never rewritten.
"""

from __future__ import annotations

import json
import os
import shutil
import threading
from pathlib import Path

from sqlalchemy import Engine

from station.config import Settings
from station.errors import StationError
from station.upstream.batchdata import batch_data, capacities
from sync.durable import fsync_dir
from sync.manifest import MANIFEST, write_batch_files
from sync.model import ExportError, safe_name


class ExportFailed(StationError):
    """The batch could not be written in a chosen format; the message names the code or file."""


def outbox_dir(settings: Settings) -> Path:
    """Where the batch file sets live: <data_dir>/outbox."""
    return settings.data_dir / "outbox"


def export_formats(settings: Settings) -> list[str]:
    """The formats of the batch file set: EPCIS 2.0 JSON-LD always, plus [upstream].formats."""
    return list(dict.fromkeys(("epcis-jsonld", *settings.upstream.formats)))


def write_file_set(settings: Settings, data, out_dir: Path, formats: list[str], **kw) -> Path:
    """write_batch_files with the station's key, pair event and level capacities."""
    try:
        return write_batch_files(
            data,
            out_dir,
            formats,
            key=settings.station.signing_key.encode("utf-8"),
            key_id=f"{settings.station.id}:hmac",
            pair_event=settings.upstream.pair_event,
            capacities=capacities(settings),
            **kw,
        )
    except ExportError as exc:
        raise ExportFailed(f"batch {data.info.batch_id}: {exc}") from exc


def seal(engine: Engine, settings: Settings, batch_id: str) -> Path:
    """Seal the closed batch's file set in <data_dir>/outbox/<batch>/ (once); return the folder."""
    folder = outbox_dir(settings) / safe_name(batch_id)
    if (folder / MANIFEST).exists():
        sealed_for = _manifest_batch(folder)
        if sealed_for != batch_id:  # two ids with the same file-safe name
            raise ExportFailed(
                f"batch {batch_id}: {folder} already holds the sealed set of batch {sealed_for}; "
                "rename one of the batches"
            )
        return folder  # sealed earlier (a crash before the row was written): reuse it
    folder.parent.mkdir(parents=True, exist_ok=True)
    tmp = folder.with_name(f".{folder.name}.{os.getpid()}.{threading.get_ident()}.tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    try:
        write_file_set(settings, batch_data(engine, settings, batch_id), tmp,
                       export_formats(settings))  # fmt: skip
        if folder.exists() and not (folder / MANIFEST).exists():
            shutil.rmtree(folder)  # an unsealed leftover; never a signed set
        try:
            os.rename(tmp, folder)
        except OSError:
            if not (folder / MANIFEST).exists():
                raise
            shutil.rmtree(tmp, ignore_errors=True)  # another process sealed it first
        fsync_dir(folder.parent)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return folder


def _manifest_batch(folder: Path) -> str | None:
    try:
        return json.loads((folder / MANIFEST).read_text(encoding="utf-8")).get("batch_id")
    except (OSError, ValueError, AttributeError):
        return None
