"""`station config check` is the one gate: every name config can carry is checked at load, and the
device registry's closed lists match what the drivers and exporters really offer."""

from __future__ import annotations

import re
import subprocess
import sys
import typing
from pathlib import Path

import pytest

from station.config import ExportFormat
from station.devices import ROLES, CodeFormat, InkjetProtocol, ReaderDialect

ROOT = Path(__file__).resolve().parents[3]
SAMPLE = (ROOT / "config.toml").read_text(encoding="utf-8")


def _without_plc(text: str) -> str:
    return re.sub(r"\[devices\.plc\]\n(?:(?!\n\[).)*", "", text, flags=re.S)


BAD = [
    ('protocol = "binpacket"', 'protocol = "nonexistent"', "devices.inkjet.protocol", "bracetext"),
    ("127.0.0.1:19101", "127.0.0.1:0", "devices.inkjet.url", "1..65535"),
    ("127.0.0.1:19101", "127.0.0.1:-1", "devices.inkjet.url", "1..65535"),
    ("127.0.0.1:19101", "127.0.0.1:70000", "devices.inkjet.url", "1..65535"),
    ("127.0.0.1:19101", "127.0.0.1:99999", "devices.inkjet.url", "1..65535"),
    ('database = "sqlite:///var/station.db"', 'database = "mysql://u@h/db"', "station.database",
     "postgresql://"),
    ('formats = ["epcis-jsonld", "csv"]', 'formats = ["epcis-jsonld", "cvs"]', "upstream.formats",
     "mashangfangxin"),
    ('transport = "none"', 'transport = "rest-upload"', "upstream", "needs upstream.url"),
    ("capacity = 24", 'capacity = "24"', "levels[2].capacity", "without quotes"),
    ('formats = ["QRCode", "DataMatrix"]', 'formats = ["QRcode"]', "devices.verify_camera.formats",
     "DataMatrix"),
    (None, None, "devices", "devices.plc is required"),
]  # fmt: skip


@pytest.mark.parametrize(("old", "new", "key", "choice"), BAD)
def test_config_check_refuses_and_names_the_key(
    tmp_path: Path, old: str | None, new: str | None, key: str, choice: str
) -> None:
    if old is None:
        text = _without_plc(SAMPLE)
    else:
        assert old in SAMPLE, old
        text = SAMPLE.replace(old, new, 1)
    (tmp_path / "config.toml").write_text(text, encoding="utf-8")
    done = subprocess.run(
        [str(Path(sys.executable).with_name("station")), "--config", str(tmp_path / "config.toml"),
         "config", "check"],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert done.returncode == 2, done.stdout + done.stderr
    assert f"key '{key}" in done.stderr and choice in done.stderr, done.stderr
    assert "Traceback" not in done.stderr


def test_closed_lists_match_the_drivers_and_exporters() -> None:
    import pkgutil

    import zxingcpp

    import drivers.inkjet.codecs
    from drivers.reader.dialects import DIALECTS
    from sync.manifest import FORMATS

    modules = {m.name for m in pkgutil.iter_modules(drivers.inkjet.codecs.__path__)}
    assert set(typing.get_args(InkjetProtocol)) == modules
    assert set(typing.get_args(ReaderDialect)) == set(DIALECTS)
    assert set(typing.get_args(ExportFormat)) == set(FORMATS)
    for name in typing.get_args(CodeFormat):
        assert zxingcpp.barcode_formats_from_str(name), name


def test_every_role_is_described_once_and_whole() -> None:
    keys = [r.key for r in ROLES]
    assert len(keys) == len(set(keys))
    for role in ROLES:
        assert (role.zh and role.en and role.zh != role.en) or role.key == "plc", role.key
        assert role.settings.__doc__, role.key
    assert [r.key for r in ROLES if r.required] == ["plc"]
