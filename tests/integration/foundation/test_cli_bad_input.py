"""Bad input to `station …`: a clear error naming what and where, the right exit code, no traceback.

In-process (the `cli` fixture) except one run of the real console script.
"""

from __future__ import annotations

import json
import logging
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest


@pytest.fixture(autouse=True)
def _root_handlers() -> Iterator[None]:
    """Each command may add a log handler to the root logger; leave it as we found it."""
    root = logging.getLogger()
    before = list(root.handlers)
    yield
    for h in root.handlers[:]:
        if h not in before:
            root.removeHandler(h)
            h.close()


def _ok_error(r, rc: int, *words: str) -> None:
    """Exit code `rc`, no traceback, and every word in stderr."""
    assert r.rc == rc, (r.rc, r.out, r.err)
    assert "Traceback" not in r.err and "Traceback" not in r.out
    for w in words:
        assert w in r.err, (w, r.err)


def _set(station_dir: Path, old: str, new: str) -> None:
    cfg = station_dir / "config.toml"
    text = cfg.read_text(encoding="utf-8")
    assert old in text
    cfg.write_text(text.replace(old, new), encoding="utf-8")


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_malformed_config_names_file_and_line_before_and_after_the_command(
    station_dir: Path, capsys
) -> None:
    from station.cli import main

    bad = station_dir / "bad.toml"
    bad.write_text("[station\nid = 1\n", encoding="utf-8")
    for argv in (
        ["--config", str(bad), "config", "check"],
        ["config", "check", "--config", str(bad)],
    ):
        assert main(argv) == 2
        err = capsys.readouterr().err
        assert "bad.toml" in err and "line 1" in err and "Traceback" not in err
    assert main(["config", "check", "--config", str(station_dir), "--json"]) == 2
    cap = capsys.readouterr()
    assert "cannot read" in cap.err and str(station_dir) in cap.err
    last = json.loads(cap.out.strip().splitlines()[-1])
    assert last["ok"] is False and last["exit_code"] == 2 and "cannot read" in last["error"]


@pytest.mark.parametrize(
    ("url", "words"),
    [
        ("notaurl", ("station.database", "notaurl", "sqlite:///")),
        ("mysql://u@127.0.0.1:1/x", ("station.database", "mysql://", "postgresql://")),
        ("sqlite:garbage", ("station.database", "sqlite:garbage")),
    ],
)
def test_database_url_that_cannot_work(cli, station_dir: Path, url: str, words) -> None:
    _set(station_dir, 'database = "sqlite:///var/station.db"', f'database = "{url}"')
    _ok_error(cli("codes", "stats"), 2, *words)


def test_a_store_file_that_is_not_a_database_is_named_and_left_alone(
    cli, station_dir: Path
) -> None:
    db = station_dir / "var" / "station.db"
    db.parent.mkdir()
    junk = bytes(range(256)) * 20
    db.write_bytes(junk)
    _ok_error(cli("codes", "stats"), 2, str(db), "not a database", "station.database")
    assert db.read_bytes() == junk


def test_code_files_bad_in_every_way(cli, tmp_path: Path) -> None:
    garbage = tmp_path / "garbage.bin"
    garbage.write_bytes(b"\x81\x30\xff\xfe\x00" * 50)
    _ok_error(cli("codes", "import", str(garbage), "--level", "case"), 2, "garbage.bin", "line 1")
    dup = tmp_path / "dup.txt"
    dup.write_text("AAAA1111BBBB2222\nAAAA1111BBBB2222\n")
    _ok_error(cli("codes", "import", str(dup), "--level", "case"), 2, "dup.txt", "line 2")
    pairs = tmp_path / "pairs.csv"
    pairs.write_text("in1,out1\nin2\n")
    r = cli("codes", "import", str(pairs), "--level", "outer", "--pairs")
    _ok_error(r, 2, "pairs.csv", "line 2", "inner,outer")
    missing = tmp_path / "nope.txt"
    _ok_error(cli("codes", "import", str(missing), "--level", "case"), 2, "nope.txt")
    bom = tmp_path / "bom.txt"
    bom.write_bytes(b"\xef\xbb\xbfCODE1AAAA\r\nCODE2BBBB\r\n")
    assert cli("codes", "import", str(bom), "--level", "case").rc == 0
    assert cli("codes", "stats", "--json").json["levels"] == {"case": {"available": 2}}


def test_bad_option_values_of_codes(cli, tmp_path: Path) -> None:
    r = cli("codes", "generate", "--level", "outer", "--count", "99999999999999", "--json")
    _ok_error(r, 2, "--count", "run the command again")
    assert r.json["ok"] is False and "--count" in r.json["error"]
    _ok_error(cli("codes", "generate", "--level", "outer", "--count", "-5"), 2, "--count")
    _ok_error(cli("codes", "stats", "--level", "nolevel"), 2, "nolevel", "levels are")
    out = tmp_path / "x.txt"
    r = cli("codes", "export", "--level", "case", "--state", "bogus", "--out", str(out))
    _ok_error(r, 2, "bogus", "available")
    assert not out.exists()
    deep = tmp_path / "no" / "such" / "x.txt"
    r = cli("codes", "export", "--level", "case", "--out", str(deep))
    _ok_error(r, 2, str(deep), "check the path")
    assert ".part" not in r.err


def test_batches_unknown_ids_and_bad_values(cli) -> None:
    base = ("batch", "create", "--product", "WATER-550", "--lot", "L1", "--quantity")
    _ok_error(cli(*base, "10", "--id", "a/b"), 2, "--id", "'/'")
    _ok_error(cli(*base, "10", "--id", ""), 2, "--id")
    _ok_error(cli(*base, "99999999999999999999999"), 2, "--quantity")
    assert cli("batch", "list", "--json").json["batches"] == []
    r = cli("batch", "show", "NOPE", "--json")
    _ok_error(r, 2, "NOPE", "station batch list")
    assert r.json == {"ok": False, "error": r.err.splitlines()[-1][7:], "exit_code": 2}
    _ok_error(cli("check", "--batch", "NOPE"), 2, "NOPE", "station batch list")
    _ok_error(cli("qa", "rejects", "--batch", "NOPE"), 2, "NOPE")
    _ok_error(cli("qa", "scan", "  "), 2, "no code given", "station qa scan CODE")
    _ok_error(cli("audit", "show", "--batch", "NOPE"), 2, "NOPE")
    _ok_error(cli("audit", "show", "--since", "99999999d"), 2, "--since")
    _ok_error(cli("audit", "show", "--limit", "0"), 2, "--limit")
    _ok_error(cli("users", "add", "", env={"LINESTATION_NEW_PIN": "1234"}), 2, "user name")


def test_devices_check_names_each_device_and_port(cli, station_dir: Path) -> None:
    text = (station_dir / "config.toml").read_text(encoding="utf-8")
    port = str(_closed_port())
    for old in ("19101", "19102", "19103", "19104", "19105", "19106", "19107", "19108", "19502"):
        text = text.replace(old, port)
    (station_dir / "config.toml").write_text(text, encoding="utf-8")
    r = cli("devices", "check", "--json")
    _ok_error(r, 1)
    devices = r.json["devices"]
    assert {d["device"] for d in devices} >= {"plc", "inkjet", "case_labeler", "verify_camera"}
    for d in devices:
        assert not d["ok"] and f"127.0.0.1:{port}" in d["status"], d
    labeler = next(d for d in devices if d["device"] == "case_labeler")
    assert "check the printer" in labeler["status"]


def test_camera_stream_that_stays_silent_is_a_timeout_naming_the_url() -> None:
    from drivers.camera.stream import FrameStreamClient
    from drivers.errors import DriverTimeout

    with socket.socket() as srv:
        srv.bind(("127.0.0.1", 0))
        srv.listen(1)
        url = f"http://127.0.0.1:{srv.getsockname()[1]}/frames"
        client = FrameStreamClient(url, name="verify_camera", timeout_s=0.3)
        with pytest.raises(DriverTimeout) as caught:
            client.connect()
        client.close()
    assert caught.value.port == url and "verify_camera" in str(caught.value)


def test_sim_on_a_port_in_use_names_device_and_port(cli, station_dir: Path) -> None:
    from station.build import on_free_ports

    cfg = station_dir / "config.toml"
    cfg.write_text(on_free_ports(cfg.read_text(encoding="utf-8")), encoding="utf-8")
    with socket.socket() as held:
        held.bind(("127.0.0.1", 0))
        held.listen(1)
        port = held.getsockname()[1]
        text = cfg.read_text(encoding="utf-8")
        inkjet = text.split("[devices.inkjet]", 1)[1].split("url = ", 1)[1].split("\n", 1)[0]
        cfg.write_text(text.replace(inkjet, f'"socket://127.0.0.1:{port}"'), encoding="utf-8")
        r = cli("sim", "--seconds", "0.1")
    _ok_error(r, 2, "inkjet", f"127.0.0.1:{port}", "station sim")
    caps = station_dir / "caps.bin"
    caps.write_bytes(b"\x81\x30\xff\xfe" * 10)
    _ok_error(cli("sim", "--world", "5", "--caps", str(caps)), 2, "caps.bin", "line 1")
    _ok_error(cli("sim", "--seconds", "-1"), 2, "--seconds")


def test_demo_and_receiver_option_values(cli, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LINESTATION_DATABASE", "")  # demo --database sets it: undone after
    monkeypatch.delenv("LINESTATION_DATABASE")
    _ok_error(cli("demo", "--items", "5", "--rate", "0"), 2, "--rate")
    _ok_error(cli("demo", "--items", "5", "--defects", "2"), 2, "--defects")
    _ok_error(cli("demo", "--items", "-5", "--json"), 2, "--items")
    _ok_error(cli("demo", "--product", "NOPE"), 2, "NOPE", "WATER-550")
    _ok_error(cli("demo", "--database", "notaurl"), 2, "notaurl")
    _ok_error(cli("receiver", "--port", "99999"), 2, "--port", "65535")
    _ok_error(cli("plant", "claim", "--level", "outer", "--count", "-5"), 2, "--count")


def test_upstream_unreachable_or_not_a_url_fails_the_push(cli) -> None:
    assert cli("batch", "create", "--product", "WATER-550", "--lot", "L", "--quantity", "2",
               "--id", "B1").rc == 0  # fmt: skip
    assert cli("batch", "close", "B1").rc == 0
    _ok_error(cli("sync", "push", "--upstream", "ftp://host/x"), 2, "ftp://host/x", "http://")
    url = f"http://127.0.0.1:{_closed_port()}/epcis"
    r = cli("sync", "push", "--upstream", url, "--json")
    _ok_error(r, 1, "not delivered: B1", url, "station sync push")
    assert r.json["waiting"] == ["B1"]
    _ok_error(cli("sync", "push", "--wait", "--timeout", "-1", "--upstream", url), 2, "--timeout")


def test_data_folder_that_cannot_be_written_loses_nothing(cli, station_dir: Path) -> None:
    _set(station_dir, 'data_dir = "var"', 'data_dir = "config.toml/var"')
    r = cli("batch", "create", "--product", "WATER-550", "--lot", "L", "--quantity", "2",
            "--id", "R1")  # fmt: skip
    _ok_error(r, 0, "no log file", "station.data_dir")
    r = cli("batch", "close", "R1")
    _ok_error(r, 1, "R1 is closed", "station sync retry R1")
    assert "completed" in r.out


def test_console_script_prints_no_traceback(station_dir: Path) -> None:
    _set(station_dir, 'database = "sqlite:///var/station.db"', 'database = "notaurl"')
    exe = Path(sys.executable).with_name("station")
    p = subprocess.run(
        [str(exe), "codes", "stats", "--config", "config.toml"],
        cwd=station_dir,
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert p.returncode == 2 and "Traceback" not in p.stderr and "notaurl" in p.stderr
