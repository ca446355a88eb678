"""Issue 17, data follows the goods, end to end: `station demo` and `station receiver` as
separate processes. Each pallet reaches the receiver while the line still runs; after the
close the receiver's documents say what a whole-batch export says; a QA unpack after delivery
goes as a correction; codes turn active only with the release."""

from __future__ import annotations

import json
import os
import selectors
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import pytest
from sync_station_helpers import ROOT

from sync.receiver import serve
from sync.transports import EpcisCaptureTransport

KEY = "demo-station-key-change-me"
MAIN = "import sys; from station.cli import main; sys.exit(main(sys.argv[1:]))"


def station(config: Path, *args: str, timeout: float = 300) -> subprocess.CompletedProcess:
    """`station --config CONFIG ARGS…` as a process of its own (this checkout's code)."""
    return subprocess.run(
        [sys.executable, "-c", MAIN, "--config", str(config), *args], env=_env(),
        capture_output=True, text=True, timeout=timeout,
    )  # fmt: skip


def _env() -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(ROOT)}


def last_json(proc: subprocess.CompletedProcess) -> dict:
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    return json.loads(proc.stdout.strip().splitlines()[-1])


@dataclass
class Line:
    """The demo's station, its receiver (a process) and what the demo saw."""

    config: Path
    store: Path
    url: str
    batch: str
    first_pallet_seen_while_running: bool
    summary: dict


@pytest.fixture(scope="module")
def line(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Line]:
    """A demo of 3 pallets (cases of 6, pallets of 4 cases) delivering to `station receiver`."""
    folder = tmp_path_factory.mktemp("pallets")
    text = (ROOT / "config.toml").read_text(encoding="utf-8")
    text = text.replace("capacity = 24", "capacity = 6").replace("capacity = 20", "capacity = 4")
    config = folder / "config.toml"
    config.write_text(text, encoding="utf-8")
    key = folder / "key"
    key.write_text(KEY + "\n")
    store = folder / "received"
    rx = subprocess.Popen(
        [sys.executable, "-c", MAIN, "receiver", "--port", "0", "--store", str(store),
         "--key-file", str(key)],
        env=_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        with selectors.DefaultSelector() as sel:
            sel.register(rx.stdout, selectors.EVENT_READ)
            assert sel.select(timeout=60), "the receiver printed nothing within 60 s"
        url = rx.stdout.readline().split()[2]
        demo = subprocess.Popen(
            [sys.executable, "-c", MAIN, "--config", str(config), "demo", "--items", "60",
             "--rate", "300", "--seed", "5", "--upstream", url, "--json"],
            env=_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )  # fmt: skip
        seen = False
        while demo.poll() is None:
            firsts = list(store.glob("*#P1/receipt.json"))
            if firsts and not seen:
                batch = firsts[0].parent.name.removesuffix("#P1")
                seen = not (store / batch).exists()  # the close is not there yet
            time.sleep(0.1)
        out, err = demo.communicate(timeout=60)
        assert demo.returncode == 0, out[-2000:] + err[-2000:]
        summary = json.loads(out.strip().splitlines()[-1])
        yield Line(config, store, url, summary["batch"], seen, summary)
    finally:
        rx.terminate()
        rx.communicate(timeout=30)
    shutil.rmtree(folder, ignore_errors=True)


def view(line: Line) -> dict:
    return last_json(station(line.config, "receiver", "--store", str(line.store), "--view"))


def whole(line: Line, out: Path) -> dict:
    """What a reference receiver knows after a whole-batch export of the batch, made now and
    fed to it (in-process here; the units went to the `station receiver` process)."""
    last_json(station(line.config, "export", line.batch, "--format", "epcis-jsonld",
                      "--out", str(out / "export"), "--json"))  # fmt: skip
    with serve(0, out / "received", key=KEY.encode()) as server:
        transport = EpcisCaptureTransport(server.url, poll_interval_s=0.05)
        try:
            transport.deliver(out / "export", line.batch)
        finally:
            transport.close()
    return last_json(station(line.config, "receiver", "--store", str(out / "received"), "--view"))


def same(got: dict, want: dict) -> None:
    assert {e: c["state"] for e, c in got["codes"].items()} == {
        e: c["state"] for e, c in want["codes"].items()
    }
    assert got["parents"] == want["parents"]
    assert got["pairs"] == want["pairs"]


def test_each_pallet_arrives_while_the_line_runs_and_together_they_are_the_batch(
    line: Line, tmp_path: Path
) -> None:
    b = line.batch
    assert (
        line.summary["containers"]["pallet"]
        and sum(line.summary["containers"]["pallet"].values()) == 3
    ), line.summary["containers"]
    assert line.first_pallet_seen_while_running
    first = json.loads((line.store / f"{b}#P1" / "receipt.json").read_text())["received_at"]
    status = last_json(station(line.config, "sync", "status", "--pallets", "--json"))
    closed = last_json(station(line.config, "batch", "show", b, "--json"))
    closed_at = datetime.fromisoformat(closed["closed_at"])
    assert datetime.fromisoformat(first.replace("Z", "+00:00")).replace(tzinfo=None) < closed_at
    units = [(u["unit"], u["kind"], u["state"]) for u in status["units"]]
    assert units == [(f"{b}#P{i}", "pallet", "acknowledged") for i in (1, 2, 3)] + [
        (b, "close", "acknowledged")
    ]
    assert all(u["pallet"] for u in status["units"][:3]) and status["corrections_pending"] == {}
    got = view(line)
    assert got["units"] == [u[0] for u in units]
    same(got, whole(line, tmp_path / "whole"))
    assert {c.get("disposition") for c in got["codes"].values()} == {"inactive"}


def test_an_unpack_after_delivery_goes_as_a_correction_and_the_release_activates(
    line: Line, tmp_path: Path
) -> None:
    b = line.batch
    tree = last_json(station(line.config, "qa", "scan", _pallet(view(line)), "--json"))
    case = tree["children"][0]["code"]
    refused = station(line.config, "qa", "unpack", case)
    assert refused.returncode == 2 and "sealed" in refused.stderr  # from the top: the pallet
    assert station(line.config, "qa", "unpack", tree["code"]).returncode == 0
    assert station(line.config, "qa", "unpack", case).returncode == 0
    pending = last_json(station(line.config, "sync", "status", "--json"))
    assert list(pending["corrections_pending"]) == [b]
    pushed = station(line.config, "sync", "push", "--wait", "--upstream", line.url, "--json")
    assert last_json(pushed)["parked"] == []
    got = view(line)
    assert got["units"][-1] == f"{b}#C1"
    epc = "https://id.example.com/code/" + case
    assert [c for c, p in got["parents"].items() if p == epc] == []  # the case holds nothing
    assert got["codes"][epc]["state"] == "decommissioned"
    same(got, whole(line, tmp_path / "whole"))

    assert last_json(station(line.config, "ship", "release-batch", b, "--json"))
    last_json(station(line.config, "sync", "push", "--wait", "--upstream", line.url, "--json"))
    got = view(line)
    assert got["units"][-1] == f"{b}#R"
    live = {e for e, c in got["codes"].items() if c["state"] == "commissioned"}
    assert live and {got["codes"][e]["disposition"] for e in live} == {"active"}


def _pallet(view: dict) -> str:
    """A pallet's code: a parent whose children hold children, held by nobody."""
    parents = set(view["parents"].values())
    for child, parent in view["parents"].items():
        if child in parents and parent not in view["parents"]:
            return parent.removeprefix("https://id.example.com/code/")
    raise AssertionError("no pallet in the receiver's view")
