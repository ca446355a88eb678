"""The suite runs as any Python developer types it: plain `pytest FILE` from any folder, not only
`python -m pytest` from the checkout (which puts the checkout first on sys.path)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_plain_pytest_on_one_driver_and_one_ui_file_collects(tmp_path: Path) -> None:
    # tests/drivers and tests/ui share their names with the drivers and ui packages: a test
    # folder on sys.path would shadow them ("No module named 'drivers.camera.base'").
    pytest = Path(sys.executable).with_name("pytest")
    files = [ROOT / "tests/drivers/camera/test_capture.py", ROOT / "tests/ui/test_viewmodels.py"]
    done = subprocess.run(
        [str(pytest), "--collect-only", "-q", "-p", "no:cacheprovider", *map(str, files)],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=240,
    )
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    assert "test_capture.py::" in done.stdout and "test_viewmodels.py::" in done.stdout
