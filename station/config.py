"""config.toml → validated, frozen settings; errors name the key, the problem and the fix."""

from __future__ import annotations

import os
import string
import tomllib
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import (
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from station.devices import DevicesSettings, FrozenSettings
from station.errors import ConfigError
from station.shape import LineStationSettings, Shape, shape_of
from station.ship.settings import ShipSettings, WebSettings

DEFAULT_CONFIG = "config.toml"
ENV_CONFIG = "LINESTATION_CONFIG"
ENV_DATABASE = "LINESTATION_DATABASE"
LEVEL_ORDER = ("inner", "outer", "box", "case", "pallet")
AMBIGUOUS = set("0O1Il")


_Frozen = FrozenSettings
"""The base of every section here (station.devices defines it for the device tables too)."""


class StationSettings(_Frozen):
    """Who this station is and where it keeps its data."""

    id: str = Field(
        min_length=1, description="Station id, unique in the plant; goes into batch files"
    )
    name: str = "Line station"
    line: str = Field("L1", description="Line name shown on screens and in batch files")
    database: str = Field(
        "sqlite:///var/station.db",
        description="SQLAlchemy URL; a relative sqlite path resolves against the config folder",
    )

    @field_validator("database")
    @classmethod
    def _store_url(cls, v: str) -> str:
        if not v.startswith(("sqlite://", "postgresql://", "postgresql+psycopg://")):
            # Name the scheme only: the rest of a URL may hold a password.
            what = v.split("://", 1)[0] + "://" if "://" in v else repr(v)
            raise ValueError(
                f"{what} is not a store LineStation runs on; write sqlite:///var/station.db "
                "or postgresql://user@host/db"
            )
        return v

    plant_database: str | None = Field(
        None,
        description="Plant-link mode: the plant's postgresql:// URL. The line runs on its own "
        "`database` (SQLite), claims blocks of codes from the plant and reports back what it did "
        "with them, so losing the plant does not stop printing (station/plant/link.py)",
    )
    plant_reserve_blocks: int = Field(
        2,
        ge=1,
        le=1000,
        description="Plant-link mode: blocks of codes of every level kept in the local store "
        "(refilled a block at a time). More blocks ride out a longer plant outage: 2 blocks of "
        "5,000 items is 8 minutes at 1,200/min",
    )
    language: Literal["zh", "en"] = "zh"
    data_dir: str = Field("var", description="Folder for logs, exports and the outbox")
    backup_every_hours: float = Field(
        24,
        ge=0,
        description="The store is copied to <data_dir>/backups when its newest copy is this old "
        "(`station backup --auto`, the touchscreen and `station serve` check hourly); 0: never",
    )
    backup_keep_days: int = Field(
        30, ge=1, description="Backups older than this are deleted; the newest is always kept"
    )
    signing_key: str = Field(
        "change-me-station-key", min_length=8, description="HMAC-SHA256 key for batch manifests"
    )


class CodeSettings(_Frozen):
    """How codes generated here look."""

    alphabet: str = Field(
        "23456789ABCDEFGHJKMNPQRSTUVWXYZ", description="Random-serial alphabet (no 0/O, 1/I/l)"
    )
    length: int = Field(16, ge=4, le=64, description="Random-serial length in characters")
    min_entropy_bits: int = Field(64, ge=32, description="Refuse alphabet/length below this")
    max_length: int = Field(200, ge=8, le=2000, description="Longest code accepted on import")
    resolver: str = Field("https://id.example.com", description="GS1 Digital Link resolver")
    sgtin_format: Literal["digital-link", "element-string"] = "digital-link"
    company_prefix: str = Field("6901234", description="GS1 company prefix (SSCC)")
    sscc_extension: int = Field(0, ge=0, le=9)

    @field_validator("alphabet")
    @classmethod
    def _alphabet(cls, v: str) -> str:
        if len(set(v)) != len(v):
            raise ValueError("alphabet has repeated characters; list each character once")
        bad = AMBIGUOUS & set(v)
        if bad:
            raise ValueError(
                f"alphabet contains ambiguous characters {''.join(sorted(bad))}; remove them"
            )
        if any(c in string.whitespace or c == "," for c in v):
            raise ValueError("alphabet may not contain whitespace or commas")
        return v

    @field_validator("company_prefix")
    @classmethod
    def _prefix(cls, v: str) -> str:
        if not v.isdigit() or not 6 <= len(v) <= 12:
            raise ValueError("company_prefix must be 6 to 12 digits (your GS1 company prefix)")
        return v

    @model_validator(mode="after")
    def _entropy(self) -> CodeSettings:
        import math

        bits = self.length * math.log2(len(self.alphabet))
        if bits < self.min_entropy_bits:
            raise ValueError(
                f"alphabet of {len(self.alphabet)} × length {self.length} gives {bits:.0f} bits; "
                f"raise codes.length to reach {self.min_entropy_bits} bits"
            )
        return self


LevelName = Literal["inner", "outer", "box", "case", "pallet"]


class LevelSettings(_Frozen):
    """One packaging level; capacity = children per container (1 for inner/outer)."""

    name: LevelName
    label_zh: str
    label_en: str
    capacity: int = Field(1, ge=1, le=100000)
    code_length: int | None = Field(
        None,
        ge=1,
        le=2000,
        description="Every code of this level has exactly this many characters (a supplier's "
        "pack, 码长); an import of another length is refused and a read of one is a reject. "
        "Off (any length up to codes.max_length) when not set",
    )


Scheme = Literal["random", "sequential", "sgtin", "sscc", "imported"]


class ProductSettings(_Frozen):
    """A product the line packs: GTIN or SKU, and the code scheme per level."""

    sku: str = Field(min_length=1)
    gtin: str | None = None
    name: str
    schemes: dict[LevelName, Scheme] = Field(default_factory=dict)

    @field_validator("gtin")
    @classmethod
    def _gtin(cls, v: str | None) -> str | None:
        if v is None:
            return v
        from station.codes.gs1 import gtin14, valid_check_digit

        if not v.isdigit() or len(v) not in (8, 12, 13, 14) or not valid_check_digit(v):
            raise ValueError(f"GTIN {v!r} is not 8/12/13/14 digits with a valid check digit")
        return gtin14(v)


class LineSettings(_Frozen):
    """Geometry and timing of the conveyor."""

    printed_level: LevelName = "outer"
    preprinted_caps: bool = False
    speed_m_per_s: float = Field(1.0, gt=0)
    trigger_to_camera_mm: float = Field(300, ge=0)
    camera_to_kicker_mm: float = Field(500, gt=0)
    decision_margin_ms: float = Field(20, ge=0)
    rate_per_min: int = Field(600, ge=1, le=20000)
    status_interval_ms: int = Field(500, ge=50)
    nice: int = Field(
        -10,
        ge=-20,
        le=19,
        description="Scheduling priority (Linux nice) of the line's threads: the decision loop, "
        "its decoders and device readers get the CPU before a virus scan or an update does. "
        "Raising it needs root or CAP_SYS_NICE (the systemd unit grants it); 0 leaves it",
    )
    pallet_number: str | None = Field(
        None,
        description="Pallet numbers from a pattern instead of the pool's SSCCs, e.g. "
        '"V{date:%Y%m%d}{seq:04d}{line}": {seq} the counter (once; it starts again at 1 when '
        "the rest of the number changes, so daily with {date}), {date} with a strftime spec, "
        "{line} station.line, {station} station.id (station/codes/pallet_number.py)",
    )

    @field_validator("pallet_number")
    @classmethod
    def _pallet_number(cls, v: str | None) -> str | None:
        if v is None:
            return v
        from station.codes.pallet_number import check

        return check(v)

    @property
    def deadline_ms(self) -> float:
        """Time from camera to kicker minus the safety margin: the budget for one decision."""
        return self.camera_to_kicker_mm / self.speed_m_per_s - self.decision_margin_ms


ExportFormat = Literal["epcis-jsonld", "epcis-xml", "epcis12-xml", "csv", "mashangfangxin"]
"""sync.manifest.FORMATS (checked by tests/unit/foundation/test_device_registry.py)."""


class UpstreamSettings(_Frozen):
    """Where closed batches go."""

    url: str | None = None
    transport: Literal["epcis-capture", "rest-upload", "folder", "none"] = "none"
    folder: str | None = None
    formats: tuple[ExportFormat, ...] = ("epcis-jsonld", "csv")
    token: str | None = None
    pair_event: Literal["association", "aggregation"] = "association"

    @model_validator(mode="after")
    def _where(self) -> UpstreamSettings:
        if self.transport in ("epcis-capture", "rest-upload") and not self.url:
            raise ValueError(
                f"upstream.transport {self.transport!r} needs upstream.url (the platform's "
                'http(s):// address); add it, or set transport = "none"'
            )
        if self.url and not self.url.startswith(("http://", "https://")):
            raise ValueError(f"upstream.url {self.url!r} is not an http:// or https:// URL")
        if self.transport == "folder" and not self.folder:
            raise ValueError("upstream.transport 'folder' needs upstream.folder; add it")
        return self


class UserSettings(_Frozen):
    """Roles and login policy."""

    roles: dict[str, list[str]] = Field(default_factory=dict)
    max_failures: int = Field(5, ge=1)
    lockout_minutes: int = Field(15, ge=1)


class OpcUaSettings(_Frozen):
    """The line's OPC UA server for MES and SCADA (station/opcua/README.md)."""

    enabled: bool = Field(True, description="false keeps the section but serves nothing")
    endpoint: str | None = Field(
        None, description='Where it listens, e.g. "opc.tcp://0.0.0.0:4840/linestation"'
    )
    certificate_dir: str = Field(
        "var/opcua", description="The server certificate, made at first start (config folder)"
    )
    line_name: str | None = Field(
        None, description="The line's object name (default: station.line)"
    )
    allow_anonymous: bool = Field(True, description="Anonymous read/browse on a None endpoint")
    job_roles: tuple[str, ...] = Field(
        ("it", "admin"), min_length=1, description="Station roles that may call job-order methods"
    )
    linger_s: float = Field(
        3.0,
        ge=0,
        le=600,
        description="`station demo`/`run`: keep serving this long after the last batch, so a "
        "SCADA polling every second or two sees Complete before the server goes",
    )

    @field_validator("endpoint")
    @classmethod
    def _endpoint(cls, v: str | None) -> str | None:
        from urllib.parse import urlsplit

        if v is None:
            return v
        parts = urlsplit(v)
        try:
            port = parts.port
        except ValueError:
            port = None
        if parts.scheme != "opc.tcp" or not parts.hostname or not port:
            raise ValueError(
                f"{v!r} is not opc.tcp://HOST:PORT/PATH; write e.g. "
                '"opc.tcp://0.0.0.0:4840/linestation"'
            )
        return v

    @property
    def active(self) -> bool:
        """True when the server is to run (enabled, with an endpoint)."""
        return self.enabled and self.endpoint is not None


class Settings(_Frozen):
    """The whole config.toml."""

    station: StationSettings
    codes: CodeSettings = CodeSettings()
    levels: Annotated[tuple[LevelSettings, ...], Field(min_length=2)]
    products: Annotated[tuple[ProductSettings, ...], Field(min_length=1)]
    devices: DevicesSettings  # type: ignore[valid-type]  # built from station.devices.ROLES
    line: LineSettings = LineSettings()
    upstream: UpstreamSettings = UpstreamSettings()
    users: UserSettings = UserSettings()
    ship: ShipSettings = ShipSettings()
    web: WebSettings = WebSettings()
    opcua: OpcUaSettings = OpcUaSettings()
    stations: tuple[LineStationSettings, ...] = Field(
        (), description="The line's stations in order (station/shape.py); none: derived from [line]"
    )
    alerts: Any = Field(
        None,
        description="station.alerts.AlertsConfig from an [alerts] section, or None; built only "
        "when the section is there (Apprise takes seconds to import)",
    )
    base_dir: Path = Path(".")

    @field_validator("alerts", mode="before")
    @classmethod
    def _alerts(cls, v: Any) -> Any:
        if v is None:
            return None
        from station.alerts.config import AlertsConfig

        if isinstance(v, AlertsConfig):
            return v
        try:
            return AlertsConfig.model_validate(v)
        except ValidationError as exc:  # one message naming each key under [alerts]
            said = []
            for e in exc.errors():
                msg = "unknown key" if e["type"] == "extra_forbidden" else e["msg"]
                msg = msg.removeprefix("Value error, ")
                said.append(msg if msg.startswith("alerts.") else f"alerts.{_loc(e)}: {msg}")
            raise ValueError("; ".join(said)) from None

    @model_validator(mode="after")
    def _levels(self) -> Settings:
        names = [lv.name for lv in self.levels]
        if len(set(names)) != len(names):
            raise ValueError(f"levels: a level is listed twice in {names}; list each once")
        order = [n for n in LEVEL_ORDER if n in names]
        if names != order:
            raise ValueError(f"levels: list them child first, in the order {order}")
        if "outer" not in names:
            raise ValueError("levels: the sellable item level 'outer' is required")
        shape = shape_of(self)
        if self.stations:
            for cam in shape.cameras:
                if getattr(self.devices, cam, None) is None:
                    raise ValueError(f"stations: camera {cam!r} has no [devices.{cam}] section")
        return self

    @property
    def shape(self) -> Shape:
        """The line's stations as the runner builds them (station/shape.py)."""
        return shape_of(self)

    def level(self, name: str) -> LevelSettings:
        """The settings of level `name`; ConfigError if the line does not use it."""
        for lv in self.levels:
            if lv.name == name:
                return lv
        raise ConfigError(
            f"level {name!r} is not configured; levels are {[lv.name for lv in self.levels]}"
        )

    @property
    def level_names(self) -> tuple[str, ...]:
        """Configured levels, child first."""
        return tuple(lv.name for lv in self.levels)

    def product(self, key: str) -> ProductSettings:
        """Product by SKU or GTIN."""
        for p in self.products:
            if key in (p.sku, p.gtin) or (p.gtin and key.zfill(14) == p.gtin):
                return p
        raise ConfigError(
            f"product {key!r} is not in config.toml [[products]]; known: "
            f"{', '.join(p.sku for p in self.products)}"
        )

    def path(self, value: str) -> Path:
        """A path from the config, resolved against the config file's folder."""
        p = Path(value)
        return p if p.is_absolute() else (self.base_dir / p).resolve()

    @property
    def database_url(self) -> str:
        """The database URL ($LINESTATION_DATABASE wins: a plant's lines share one database)."""
        url = os.environ.get(ENV_DATABASE) or self.station.database
        prefix = "sqlite:///"
        if url.startswith(prefix) and not url.startswith(prefix + "/") and ":memory:" not in url:
            return prefix + str(self.path(url[len(prefix) :]))
        return url

    @property
    def data_dir(self) -> Path:
        """The station's data folder (logs, exports, outbox), created on demand."""
        return self.path(self.station.data_dir)


def resolve_config_path(path: str | os.PathLike[str] | None) -> Path:
    """--config, else $LINESTATION_CONFIG, else ./config.toml."""
    if path:
        return Path(path)
    env = os.environ.get(ENV_CONFIG)
    return Path(env) if env else Path(DEFAULT_CONFIG)


def _loc(err: dict[str, Any]) -> str:
    parts: list[str] = []
    for item in err["loc"]:
        if isinstance(item, int):
            parts[-1:] = [f"{parts[-1]}[{item}]"] if parts else [f"[{item}]"]
        elif item in ("function-after", "function-before") or "[" in str(item):
            continue
        else:
            parts.append(str(item))
    return ".".join(parts)


def _fix(err: dict[str, Any]) -> str:
    kind = err["type"]
    if kind == "extra_forbidden":
        return "remove it or check its spelling against config.toml in the repository"
    if kind == "missing":
        return "add it"
    if kind.startswith("literal"):
        return "use one of the allowed values"
    return "correct the value"


def load_settings(path: str | os.PathLike[str] | None = None) -> Settings:
    """Read and validate config.toml; ConfigError names the key, the problem and the fix."""
    cfg = resolve_config_path(path)
    try:
        raw = tomllib.loads(cfg.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(
            f"{cfg}: no such config file; pass --config PATH or set {ENV_CONFIG}"
        ) from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{cfg}: not valid TOML: {exc}; fix the syntax at that line") from None
    except UnicodeDecodeError:
        raise ConfigError(f"{cfg}: not UTF-8 text; save the file as UTF-8") from None
    except OSError as exc:  # a folder, no permission, an unreadable disk
        raise ConfigError(
            f"{cfg}: cannot read: {exc.strerror or exc}; pass --config with a readable "
            "config.toml file"
        ) from None
    if "base_dir" in raw:
        raise ConfigError(f"{cfg}: key 'base_dir' is not allowed; remove it")
    raw["base_dir"] = cfg.resolve().parent
    try:
        return Settings.model_validate(raw)
    except ValidationError as exc:
        lines = []
        for err in exc.errors():
            key = _loc(err) or "(top level)"
            msg = err["msg"].removeprefix("Value error, ")
            if err["type"] == "extra_forbidden":
                msg = "unknown key"
            lines.append(f"{cfg}: key '{key}': {msg}; {_fix(err)}")
        raise ConfigError("\n".join(lines)) from None
