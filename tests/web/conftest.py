"""The handheld page in a real browser: `station web` as its own process, headless Chromium.

Chromium and its driver come from Debian (`chromium`, `chromium-driver`: Makefile DEB_PACKAGES);
selenium drives /usr/bin/chromedriver on a phone-sized window.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "integration" / "ship"))

from ship_helpers import build_station, run

ROOT = Path(__file__).resolve().parents[2]
CHROMEDRIVER = Path("/usr/bin/chromedriver")
CHROMIUM = Path("/usr/bin/chromium")
FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
         "--no-first-run", "--disable-background-networking", "--disable-component-update",
         "--disable-sync", "--window-size=412,915")  # fmt: skip


@pytest.fixture(scope="session")
def web_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The demo station of the shipping tests, both batches released by QA."""
    folder = tmp_path_factory.mktemp("web-template")
    config = build_station(folder)
    import sqlite3

    with sqlite3.connect(folder / "var" / "station.db") as db:
        batches = [r[0] for r in db.execute("SELECT id FROM batches ORDER BY id")]
    for b in batches:
        assert run(config, "ship", "release-batch", b, user="qa1") == 0
    return folder


@pytest.fixture
def station(web_template: Path, tmp_path: Path) -> Path:
    """A fresh copy of the released demo station; its folder."""
    folder = tmp_path / "station"
    shutil.copytree(web_template, folder)
    return folder


class WebProcess:
    """`station web` as a separate process on 127.0.0.1."""

    def __init__(self, config: Path, port: int = 0) -> None:
        code = "import sys; from station.cli import main; sys.exit(main(sys.argv[1:]))"
        self.err_path = config.parent / f"web-{time.monotonic_ns()}.err"
        self.err = self.err_path.open("w")  # a file, not a pipe nobody reads: it never blocks
        self.proc = subprocess.Popen(
            [sys.executable, "-c", code, "--config", str(config), "web", "--port", str(port)],
            cwd=ROOT, stdout=subprocess.PIPE, stderr=self.err, text=True,
            env={**os.environ, "PYTHONPATH": str(ROOT)},
        )  # fmt: skip
        line = self.proc.stdout.readline()  # "handheld page on http://host:port/ …"
        if "handheld page on" not in line:
            self.proc.kill()
            self.err.close()
            raise AssertionError(f"station web did not start: {line}{self.err_path.read_text()}")
        self.url = line.split(" on ", 1)[1].split("/ ", 1)[0].rstrip("/")
        self.port = int(self.url.rsplit(":", 1)[1])

    def stop(self) -> None:
        """SIGTERM, then wait for it to end."""
        if self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(60)
        self.proc.stdout.close()
        self.err.close()


@pytest.fixture
def web(station: Path) -> Iterator:
    """Start `station web` processes (stopped afterwards): web() or web(port=P)."""
    started: list[WebProcess] = []

    def start(port: int = 0) -> WebProcess:
        p = WebProcess(station / "config.toml", port)
        started.append(p)
        return p

    yield start
    for p in started:
        p.stop()


@pytest.fixture
def browser(tmp_path: Path) -> Iterator:
    """Headless Chromium on a 412×915 window, a fresh profile."""
    if not (CHROMEDRIVER.exists() and CHROMIUM.exists()):
        pytest.fail("chromium and chromium-driver are missing: `make deps` installs them (apt)")
    webdriver = pytest.importorskip("selenium.webdriver")
    from selenium.webdriver.chrome.service import Service

    opts = webdriver.ChromeOptions()
    opts.binary_location = str(CHROMIUM)
    for flag in (*FLAGS, f"--user-data-dir={tmp_path / 'chrome-profile'}"):
        opts.add_argument(flag)
    driver = webdriver.Chrome(service=Service(str(CHROMEDRIVER)), options=opts)
    driver.set_window_size(412, 915)
    driver.set_page_load_timeout(60)
    try:
        yield driver
    finally:
        driver.quit()


def wait_for(check, timeout_s: float = 30.0, what: str = "condition"):
    """Poll `check()` until it returns something truthy; its value. Fails naming `what`."""
    deadline = time.monotonic() + timeout_s
    last = None
    while time.monotonic() < deadline:
        try:
            last = check()
            if last:
                return last
        except Exception as exc:  # the page is between states: look again
            last = exc
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what} (last: {last!r})")


@pytest.fixture
def wait():
    """wait_for(check, timeout_s, what)."""
    return wait_for
