"""`station receiver …` wiring: sync.receiver.main runs a receiver until SIGTERM."""

from __future__ import annotations

import signal
import subprocess
import sys
from pathlib import Path

import httpx

from sync.receiver import main

REPO = Path(__file__).resolve().parents[3]


def test_bad_options_exit_2(capsys: object) -> None:
    assert main(["--fail-rate", "1.5"]) == 2
    assert main(["--key-file", "/nonexistent/key"]) == 2


def test_receiver_command_serves_and_stops_on_sigterm(tmp_path: Path) -> None:
    (tmp_path / "key").write_bytes(b"secret\n")
    code = "import sys; from sync.receiver import main; sys.exit(main(sys.argv[1:]))"
    args = ["--port", "0", "--store", str(tmp_path / "store"), "--key-file", str(tmp_path / "key")]
    args += ["--capture-limit", "50", "--fail-rate", "0"]
    proc = subprocess.Popen(
        [sys.executable, "-c", code, *args], cwd=REPO, stdout=subprocess.PIPE, text=True
    )
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()  # "receiver at http://127.0.0.1:PORT (…)"
        url = line.split()[2]
        answer = httpx.options(url + "/capture", timeout=5)
        assert answer.headers["GS1-EPCIS-Capture-Limit"] == "50"
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(10) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(5)
        if proc.stdout is not None:
            proc.stdout.close()
