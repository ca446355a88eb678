"""config.toml validation: unknown keys, bad values and relative paths."""

from __future__ import annotations

from pathlib import Path

import pytest

from station.config import load_settings
from station.errors import ConfigError

ROOT = Path(__file__).resolve().parents[3]


def _write(tmp_path: Path, text: str) -> Path:
    p = tmp_path / "config.toml"
    p.write_text(text, encoding="utf-8")
    return p


def test_sample_config_loads_and_paths_resolve_against_its_folder(tmp_path: Path) -> None:
    cfg = _write(tmp_path, (ROOT / "config.toml").read_text(encoding="utf-8"))
    s = load_settings(cfg)
    assert s.database_url == f"sqlite:///{tmp_path.resolve() / 'var' / 'station.db'}"
    assert s.level_names == ("inner", "outer", "case", "pallet")
    assert s.level("case").capacity == 24
    assert s.product("06901234000016").sku == "WATER-550"


def test_misspelt_key_is_named(tmp_path: Path) -> None:
    text = (ROOT / "config.toml").read_text(encoding="utf-8").replace("depth = ", "depht = ", 1)
    with pytest.raises(ConfigError) as err:
        load_settings(_write(tmp_path, text))
    assert "devices.inkjet.depht" in str(err.value)
    assert "unknown key" in str(err.value)


@pytest.mark.parametrize(
    ("old", "new", "expect"),
    [
        ('alphabet = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"', 'alphabet = "0123456789"', "ambiguous"),
        ("length = 16", "length = 8", "bits"),
        ('gtin = "06901234000016"', 'gtin = "06901234000017"', "check digit"),
        ('mode = "fifo"', 'mode = "queue"', "devices.inkjet.mode"),
        ('name = "case"', 'name = "crate"', "levels[2].name"),
        ('suffix = "\\r"\n', 'suffix = "\\r"\nencoding = "klingon"\n', "unknown encoding"),
    ],
)
def test_bad_values_name_key_and_fix(tmp_path: Path, old: str, new: str, expect: str) -> None:
    text = (ROOT / "config.toml").read_text(encoding="utf-8")
    assert old in text
    with pytest.raises(ConfigError) as err:
        load_settings(_write(tmp_path, text.replace(old, new, 1)))
    assert expect in str(err.value)


def test_missing_and_malformed_files(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="no such config file"):
        load_settings(tmp_path / "nope.toml")
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_settings(_write(tmp_path, "[station\nid=1"))
