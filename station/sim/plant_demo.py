"""A plant file (plant-config.toml): several line configs sharing one PostgreSQL database.

```toml
[plant]
name = "Plant 1"
database = "postgresql://station@127.0.0.1:5432/linestation"
lines = ["examples/line-a.toml", "examples/line-b.toml"]
```
`station demo --config plant-config.toml` runs every line as its own `station demo` process
against the plant database (each line keeps its own devices, data folder and outbox) and
summarises them; `--database URL` or $LINESTATION_DATABASE overrides the plant's URL.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tomllib
from dataclasses import dataclass, replace
from pathlib import Path

from station.config import ENV_DATABASE, load_settings
from station.errors import ConfigError

LINE_TIMEOUT_S = 900.0
_MAIN = "import sys; from station.cli import main; sys.exit(main(sys.argv[1:]))"


@dataclass(frozen=True)
class PlantConfig:
    """The plant file: a name, the plant database URL and the line configs."""

    path: Path
    name: str
    database: str
    lines: tuple[Path, ...]


def load_plant(path: Path) -> PlantConfig | None:
    """The plant file at `path`, or None when it is a plain line config (no [plant] table)."""
    if not path.exists():
        return None
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError:
        return None  # load_settings reports the syntax error with its usual message
    if "plant" not in data:
        return None
    p = data["plant"]
    unknown = set(data) - {"plant"} | set(p) - {"name", "database", "lines"}
    if unknown:
        raise ConfigError(f"{path}: unknown key(s) {', '.join(sorted(unknown))} in a plant file")
    lines = tuple((path.parent / x).resolve() for x in p.get("lines", []))
    if not lines:
        raise ConfigError(f"{path}: [plant] lines is empty; list the line configs")
    missing = [str(x) for x in lines if not x.exists()]
    if missing:
        raise ConfigError(f"{path}: line config(s) not found: {', '.join(missing)}")
    db = p.get("database", "")
    if not str(db).startswith("postgresql://"):
        raise ConfigError(f"{path}: [plant] database must be a postgresql:// URL, got {db!r}")
    return PlantConfig(path, str(p.get("name", path.stem)), str(db), lines)


def with_database(plant: PlantConfig, url: str | None) -> PlantConfig:
    """The plant with its database overridden by `url` or $LINESTATION_DATABASE."""
    url = url or os.environ.get(ENV_DATABASE)
    return replace(plant, database=url) if url else plant


def prepare(plant: PlantConfig, items: int, batches: int, user: str) -> None:
    """Migrate the plant database and generate every line's codes up front, in one go.

    Generation writes serial counters; doing it before the lines start keeps two lines from
    generating at once (each line's own check then finds enough free codes).
    """
    from station.sim.demo import DemoPlan, ensure_pools
    from station.store.db import make_engine

    os.environ[ENV_DATABASE] = plant.database
    engine = make_engine(plant.database)
    try:
        s = load_settings(plant.lines[0])
        total = (items + 200) * batches * len(plant.lines)
        ensure_pools(engine, s, DemoPlan(total, batches, 0, 0.0, 0, s.products[0].sku), user)
    finally:
        engine.dispose()


def run_lines(plant: PlantConfig, demo_args: list[str]) -> dict:
    """Run `station demo` for every line in parallel against the plant database; summarise."""
    exe = Path(sys.executable).with_name("station")
    cmd = [str(exe)] if exe.exists() else [sys.executable, "-c", _MAIN]
    env = {**os.environ, ENV_DATABASE: plant.database}
    procs = [
        (
            cfg,
            subprocess.Popen(
                [*cmd, "demo", "--config", str(cfg), *demo_args, "--json"],
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
                env=env,
            ),
        )
        for cfg in plant.lines
    ]
    lines = []
    for cfg, p in procs:
        try:
            out, err = p.communicate(timeout=LINE_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            p.kill()
            out, err = p.communicate()
        try:
            summary = json.loads(out.strip().splitlines()[-1])
        except (IndexError, json.JSONDecodeError):
            summary = None
        lines.append(
            {
                "config": str(cfg),
                "station_id": load_settings(cfg).station.id,
                "rc": p.returncode,
                "summary": summary,
                "error": _error(err) if p.returncode else None,
            }
        )
    return {
        "plant": plant.name,
        "database": _hide_password(plant.database),
        "ok": all(ln["rc"] == 0 for ln in lines),
        "lines": lines,
    }


def _hide_password(url: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)


def _error(stderr: str) -> str:
    """The `error: …` line a failed line printed, else its last lines."""
    lines = stderr.strip().splitlines()
    told = [ln for ln in lines if ln.startswith(("error:", "Traceback", "RuntimeError"))]
    return "\n".join(told[-3:] or lines[-8:])
