"""`station receiver …` wiring: sync.receiver.main runs a receiver until SIGTERM."""

from __future__ import annotations

import signal
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

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


def test_installed_receiver_validates_with_no_extra_files_or_flags(tmp_path: Path) -> None:
    """`station receiver --port P --store DIR`, run from an unrelated folder with no schema
    setting, validates against the GS1 schema the package carries: a document missing `action`
    is refused with the schema's words, a good one is stored."""
    import json
    import os

    from sync_delivery_helpers import CONTEXT, KEY, event_json, stored_batches, write_batch

    from sync.errors import PermanentError
    from sync.transports import EpcisCaptureTransport

    (tmp_path / "key").write_bytes(KEY)
    station = Path(sys.executable).with_name("station")
    env = {k: v for k, v in os.environ.items() if k != "LINESTATION_EPCIS_SCHEMA"}
    args = ["receiver", "--port", "0", "--store", str(tmp_path / "store")]
    args += ["--key-file", str(tmp_path / "key")]
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    proc = subprocess.Popen(
        [str(station), *args], cwd=elsewhere, env=env, stdout=subprocess.PIPE, text=True
    )
    try:
        assert proc.stdout is not None
        url = proc.stdout.readline().split()[2]
        bad = json.loads(event_json(0, "B1"))
        del bad["action"]
        doc = {
            "@context": CONTEXT,
            "type": "EPCISDocument",
            "schemaVersion": "2.0",
            "creationDate": "2026-11-24T08:30:00Z",
            "epcisBody": {"eventList": [bad]},
        }
        with EpcisCaptureTransport(url, timeout_s=10, poll_timeout_s=20) as transport:
            bad_set = write_batch(tmp_path / "out", "B1", document=json.dumps(doc).encode())
            with pytest.raises(PermanentError, match="'action' is a required property"):
                transport.deliver(bad_set, "B1")
            transport.deliver(write_batch(tmp_path / "out", "B2"), "B2")
        assert stored_batches(tmp_path / "store") == ["B2"]
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)
        if proc.stdout is not None:
            proc.stdout.close()
