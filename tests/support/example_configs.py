"""The example line configurations (examples/*.toml) as a test's own station."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def example_text(name: str, capacities: dict[str, int] | None = None) -> str:
    """The example's config text, its store and data in the config's own folder."""
    text = (ROOT / "examples" / name).read_text(encoding="utf-8")
    text = re.sub(r'"sqlite:///\.\./var/[a-z]+/station\.db"', '"sqlite:///var/station.db"', text)
    text = re.sub(r'data_dir = "\.\./var/[a-z]+"', 'data_dir = "var"', text)
    for level, cap in (capacities or {}).items():
        text, n = re.subn(
            rf'(name = "{level}"\n(?:[^\[]*\n)*?capacity = )\d+', rf"\g<1>{cap}", text, count=1
        )
        if n != 1:
            raise ValueError(f"{name}: no capacity for level {level}")
    return text


def use_example(station_dir: Path, name: str, capacities: dict[str, int] | None = None) -> Path:
    """Make the station's config.toml the example `name` (capacities changed as a tester would)."""
    cfg = station_dir / "config.toml"
    cfg.write_text(example_text(name, capacities), encoding="utf-8")
    return cfg
