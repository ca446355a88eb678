"""Durable renames: after writing a file and renaming it into place, sync its folder too."""

from __future__ import annotations

import os
from pathlib import Path


def fsync_dir(path: Path) -> None:
    """Flush a folder's entries (a rename into it) to disk.

    Some filesystems (SMB mounts, FAT on USB sticks) refuse fsync on a folder; the rename is done
    all the same, only its durability across a power cut is weaker there, so that is no error.
    """
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
