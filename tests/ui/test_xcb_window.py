"""`station demo --ui` opens a real window on an X display (Qt's xcb platform), not only
offscreen: the xcb plugin needs libraries (libxcb-cursor0, libxcb-icccm4, …) that `make` installs.
The rest of the UI suite runs offscreen, which would never notice them missing."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

XVFB = shutil.which("Xvfb")


@pytest.fixture
def x_display():
    """A private Xvfb server; yields its DISPLAY."""
    if XVFB is None:
        pytest.skip("needs Debian's xvfb (make installs it) to give Qt an X display")
    read, write = os.pipe()
    proc = subprocess.Popen(
        [XVFB, "-displayfd", str(write), "-screen", "0", "1280x800x24", "-nolisten", "tcp"],
        pass_fds=(write,),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    os.close(write)
    try:
        with os.fdopen(read) as f:
            number = f.readline().strip()
        assert number, "Xvfb did not report its display"
        yield f":{number}"
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)


def test_demo_ui_opens_its_window_on_xcb(station_dir: Path, x_display: str) -> None:
    env = {k: v for k, v in os.environ.items() if k not in ("QT_QPA_PLATFORM", "WAYLAND_DISPLAY")}
    env.update(DISPLAY=x_display, QT_DEBUG_PLUGINS="0")
    station = Path(sys.executable).with_name("station")
    args = ["demo", "--ui", "--items", "40", "--rate", "1200", "--quit-after", "8"]
    done = subprocess.run(
        [str(station), "--config", str(station_dir / "config.toml"), *args],
        cwd=station_dir,
        env=env,
        capture_output=True,
        text=True,
        timeout=240,
    )
    out = done.stdout + done.stderr
    assert "Could not load the Qt platform plugin" not in out, out[-3000:]
    assert done.returncode == 0, out[-3000:]
    shown = [line for line in done.stdout.splitlines() if line.startswith("ui: window")]
    assert shown, out[-3000:]
    assert " on xcb," in shown[0] and "screen operator" in shown[0], shown[0]
