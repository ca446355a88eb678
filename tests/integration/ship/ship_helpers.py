"""Helpers of the shipping tests: a small demo station, the CLI in-process, the users' PINs."""

from __future__ import annotations

import os
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
PINS = {"admin": "1111", "wh1": "2222", "qa1": "3333", "op1": "4444"}


def small_config(folder: Path, database: str | None = None) -> Path:
    """The sample config with cases of 4 and pallets of 2, no pallet labeler (SSCC template)."""
    text = (ROOT / "config.toml").read_text(encoding="utf-8")
    text = text.replace("capacity = 24", "capacity = 4").replace("capacity = 20", "capacity = 2")
    if database:
        text = re.sub(r'^database = ".*"$', f'database = "{database}"', text, flags=re.M)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "config.toml").write_text(text, encoding="utf-8")
    return folder / "config.toml"


def run(config: Path, *args: str, user: str | None = None, env: dict | None = None):
    """`station --config CONFIG [--user U] ARGS…` in-process; (rc, stdout) via capture by caller."""
    from station.cli import main

    extra = {"LINESTATION_PIN": PINS[user]} if user else {}
    extra.update(env or {})
    old = {k: os.environ.get(k) for k in extra}
    os.environ.update(extra)
    try:
        return main(["--config", str(config), *(["--user", user] if user else []), *args])
    finally:
        for k, v in old.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


def build_station(folder: Path, database: str | None = None) -> Path:
    """Run the demo (2 batches) and add the users; returns the config path."""
    config = small_config(folder, database)
    assert (
        run(config, "demo", "--items", "16", "--batches", "2", "--seed", "3", "--defects", "0.15")
        == 0
    )
    assert run(config, "users", "add", "admin", env={"LINESTATION_NEW_PIN": PINS["admin"]}) == 0
    for name, role, badge in (("wh1", "warehouse", "BADGE-WH1"), ("qa1", "qa", None),
                              ("op1", "operator", None)):  # fmt: skip
        args = ["users", "add", name, "--role", role, *(["--badge", badge] if badge else [])]
        assert run(config, *args, user="admin", env={"LINESTATION_NEW_PIN": PINS[name]}) == 0
    return config
