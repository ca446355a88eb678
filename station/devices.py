"""The device registry: each device role of a line described once.

A role is its config model (the `[devices.<key>]` table), how its driver is opened, how its
simulator starts and how a driver reaches that simulator, its display names in both languages and
the alarm keys it raises. The composition root (`station.build`), `station sim`, `station devices
check/test`, the IT screen and the status bar all read `ROLES`; config.toml's `[devices]` table is
built from it. Adding a role is one folder in `drivers/` plus one `Role` here.

Drivers are imported inside the `open`/`simulate` functions, so loading a config imports no driver.
The names a config may carry (inkjet protocols, reader dialects, symbologies) are listed here as
`Literal`s and checked against the drivers by tests/unit/foundation/test_device_registry.py.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal, get_args
from urllib.parse import urlsplit

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationInfo,
    create_model,
    field_validator,
    model_validator,
)

InkjetProtocol = Literal["binpacket", "bracetext"]
"""The modules of drivers/inkjet/codecs/."""
ReaderDialect = Literal["generic", "keyence", "cognex"]
"""drivers.reader.dialects.DIALECTS."""
CodeFormat = Literal[
    "QRCode", "MicroQRCode", "RMQRCode", "DataMatrix", "Aztec", "PDF417", "MaxiCode",
    "Code128", "Code39", "Code93", "Codabar", "EAN13", "EAN8", "UPCA", "UPCE", "ITF",
    "DataBar", "DataBarExpanded",
]  # fmt: skip
"""Symbologies a camera may be told to decode (zxing-cpp's names)."""


def check_url(url: str) -> str:
    """A device URL's port, if it names one, is 1..65535; ValueError says which and what to do."""
    if "://" not in url:
        return url  # a serial device path (/dev/ttyUSB0, COM3) or a camera index
    netloc = url.split("://", 1)[1].split("/", 1)[0].split("?", 1)[0]
    if not netloc or netloc.startswith("/"):
        return url
    _host, sep, port = netloc.rpartition(":")
    if not sep or "]" in port:
        return url
    if not port.lstrip("-").isdigit() or not 1 <= int(port) <= 65535:
        raise ValueError(f"port {port!r} in {url!r} is not a TCP port; use 1..65535")
    try:
        urlsplit(url).port  # noqa: B018  (raises on what the check above let through)
    except ValueError as exc:
        raise ValueError(f"{url!r}: {exc}") from None
    return url


def refuse_quoted_number(model: type[BaseModel], field: str | None, value: Any) -> Any:
    """ValueError for text where config wants a number (`capacity = "24"`): say it, never coerce."""
    if isinstance(value, str) and field:
        ann = model.model_fields[field].annotation
        kinds = set(get_args(ann)) if get_args(ann) else {ann}
        if kinds & {int, float} and not kinds & {str}:
            raise ValueError(f"{value!r} is text; write the number without quotes")
    return value


class FrozenSettings(BaseModel):
    """Base of every config table: unknown keys rejected, numbers never read from text, frozen."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    @field_validator("*", mode="before")
    @classmethod
    def _numbers(cls, v: Any, info: ValidationInfo) -> Any:
        return refuse_quoted_number(cls, info.field_name, v)


class DeviceSettings(FrozenSettings):
    """Base of a device's config table: FrozenSettings, and its URL's port checked."""

    @field_validator("url", "source", check_fields=False)
    @classmethod
    def _url(cls, v: str) -> str:
        return check_url(v)


class InkjetSettings(DeviceSettings):
    """Inkjet printer for a printed level (CIJ/TIJ)."""

    protocol: InkjetProtocol = "binpacket"
    url: str
    depth: int = Field(4, ge=1, le=64, description="Codes queued ahead at most")
    mode: Literal["fifo", "single"] = "fifo"
    job: str = "LINESTATION"
    timeout_ms: int = Field(1000, ge=10)


class CameraSettings(DeviceSettings):
    """Camera (OpenCV source) or simulated camera, and what it decodes."""

    source: str = Field(
        "sim", description="'sim', a device index, an RTSP/HTTP URL, a file, a folder"
    )
    formats: tuple[CodeFormat, ...] = Field(("QRCode", "DataMatrix"), min_length=1)
    roi: tuple[int, int, int, int] | None = None
    min_grade: Literal["A", "B", "C", "D", "F"] = "D"
    second_opinion: bool = True


class LabelerSettings(DeviceSettings):
    """ZPL label printer."""

    url: str
    symbology: Literal["qr", "datamatrix"] = "qr"
    template: str | None = Field(None, description="Site ZPL template file with {placeholders}")
    timeout_ms: int = Field(2000, ge=10)


class TicketSettings(DeviceSettings):
    """ESC/POS ticket printer for batch and pallet sheets."""

    url: str


class ReaderSettings(DeviceSettings):
    """Fixed code reader (smart camera decoding on the device)."""

    url: str
    prefix: str = ""
    suffix: str = "\r\n"
    separator: str = ";"
    noread: str = "NOREAD"
    dialect: ReaderDialect = "generic"


class ScannerSettings(DeviceSettings):
    """Handheld serial scanner."""

    url: str
    suffix: str = "\r"
    encoding: str = "utf-8"

    @field_validator("encoding")
    @classmethod
    def _known_encoding(cls, v: str) -> str:
        import codecs

        try:
            codecs.lookup(v)
        except LookupError:
            raise ValueError(f"unknown encoding {v!r}; e.g. utf-8, gbk, gb18030, latin-1") from None
        return v


PlcProtocol = Literal["modbus", "s7", "mc"]
"""drivers.plc.factory.PROTOCOLS: Modbus TCP/RTU, Siemens S7 (ISO-on-TCP), MELSEC MC 3E binary."""
_PLC_SCHEMES: dict[str, tuple[str, ...]] = {
    "modbus": ("modbus-tcp://", "modbus-rtu://"),
    "s7": ("s7://",),
    "mc": ("mc://",),
}
_PLC_URLS = {
    "modbus": "modbus-tcp://HOST:502 or modbus-rtu:///dev/ttyUSB0?baudrate=19200&parity=E",
    "s7": "s7://HOST:102?rack=0&slot=1",
    "mc": "mc://HOST:5007",
}


class PlcSettings(DeviceSettings):
    """Line PLC: Modbus TCP/RTU, Siemens S7 or Mitsubishi MELSEC (MC protocol)."""

    protocol: PlcProtocol = Field(
        "modbus", description="modbus, s7 or mc; the url's scheme must agree"
    )
    url: str
    timeout_ms: int = Field(500, ge=10)
    heartbeat_timeout_ms: int = Field(2000, ge=100)
    register_map: dict[str, int | str | None] = Field(
        default_factory=dict,
        description="Where the line signals live: Modbus register numbers, S7 addresses "
        "(DB10.DBW0, DB10.DBX80.0) or MELSEC devices (D100, M100); see drivers/plc/README.md",
    )

    @field_validator("url")
    @classmethod
    def _plc_url(cls, v: str, info: ValidationInfo) -> str:
        protocol = info.data.get("protocol")
        if protocol is None:  # the protocol itself was refused; that error says it
            return v
        if not v.startswith(_PLC_SCHEMES[protocol]):
            raise ValueError(
                f"{v!r} is not a {protocol} PLC URL; write {_PLC_URLS[protocol]}"
                + ("" if protocol != "modbus" else ', or set protocol = "s7" or "mc"')
            )
        return v

    @field_validator("register_map")
    @classmethod
    def _map(cls, v: dict[str, Any], info: ValidationInfo) -> dict[str, Any]:
        protocol = info.data.get("protocol")
        if protocol is None:
            return v
        plc_map(protocol, v)  # its ValueError names the key and the rule
        return v


def plc_map(protocol: str, register_map: dict[str, Any]) -> Any:
    """The driver's map of `protocol` (RegisterMap, S7Map, MCMap) built from a config table."""
    if protocol == "s7":
        from drivers.plc.s7.addresses import S7Map

        return S7Map.from_dict(register_map)
    if protocol == "mc":
        from drivers.plc.mc.addresses import MCMap

        return MCMap.from_dict(register_map)
    from drivers.plc.base import RegisterMap

    for key, value in register_map.items():
        if isinstance(value, str) and value.strip().lower() != "none":
            raise ValueError(
                f"plc register map: {key}={value!r} is text; a Modbus address is a register "
                "number (0-based, on the wire). S7 or MELSEC addresses need protocol = "
                '"s7" or "mc"'
            )
    return RegisterMap.from_dict(register_map)


class WeighLevelSettings(DeviceSettings):
    """Checkweighing one container level (aggregation/weight.py): empty box, one child, band."""

    nominal_g: float = Field(gt=0, description="One child's nominal weight (a full bottle), g")
    tare_g: float = Field(0.0, ge=0, description="The empty container (carton, dividers), g")
    t1_g: float = Field(ge=0, description="Below expected by more than this: warn (a T1 error)")
    t2_g: float = Field(ge=0, description="Below expected by more than this: reject")
    upper_g: float | None = Field(None, ge=0, description="Above by more: reject (default t2_g)")

    @model_validator(mode="after")
    def _band(self) -> WeighLevelSettings:
        self.spec()  # WeightConfigError (a ValueError) names t1/t2 and the fix
        return self

    def spec(self) -> Any:
        """The aggregation.weight.WeightSpec of these settings."""
        from aggregation.weight import Tolerances, WeightSpec

        band = Tolerances(self.t1_g, self.t2_g, self.upper_g)
        return WeightSpec(tare_g=self.tare_g, nominal_g=self.nominal_g, tolerances=band)


class CheckweigherSettings(DeviceSettings):
    """Checkweigher under the case conveyor (MT-SICS over TCP or serial; drivers/scale)."""

    url: str
    timeout_ms: int = Field(1000, ge=10, description="One answer of the scale")
    stable_timeout_ms: int = Field(3000, ge=10, description="How long a case may take to settle")
    levels: dict[Literal["box", "case", "pallet"], WeighLevelSettings] = Field(
        default_factory=dict,
        description="Per container level weighed: [devices.checkweigher.levels.case] nominal_g, "
        "tare_g, t1_g, t2_g, upper_g",
    )


# -- how each role is opened and simulated (drivers imported on use) -----------------------------


def _open_plc(cfg: PlcSettings, url: str) -> Any:
    from drivers.plc.factory import open_line_plc

    return open_line_plc(
        cfg.protocol,
        url,
        address_map=cfg.register_map or None,
        timeout_s=cfg.timeout_ms / 1000,
        heartbeat_timeout_ms=cfg.heartbeat_timeout_ms,
    )


def _sim_plc(cfg: PlcSettings, host: str, port: int) -> Any:
    from drivers.plc.factory import start_plc_sim

    return start_plc_sim(
        cfg.protocol,
        cfg.register_map or None,
        host=host,
        port=port,
        station_timeout_ms=cfg.heartbeat_timeout_ms * 5,
    )


def _plc_sim_scheme(cfg: PlcSettings | None) -> str | None:
    # SimPLC serves Modbus TCP whatever the configured transport (an RTU line is simulated over
    # TCP); the S7 and MC simulators' own URLs are what their drivers dial.
    return "modbus-tcp" if cfg is None or cfg.protocol == "modbus" else None


def _open_checkweigher(cfg: CheckweigherSettings, url: str) -> Any:
    from drivers.scale import open_checkweigher

    return open_checkweigher(
        url, timeout_s=cfg.timeout_ms / 1000, stable_timeout_s=cfg.stable_timeout_ms / 1000
    )


def _sim_checkweigher(cfg: CheckweigherSettings, host: str, port: int) -> Any:
    from drivers.scale.sim import SimScale

    # The world stops each case on the scale before its frame reaches the station: settled.
    return SimScale(host, port, settle_s=0.0, stable_timeout_s=cfg.stable_timeout_ms / 1000)


def _open_inkjet(cfg: InkjetSettings, url: str) -> Any:
    from drivers.inkjet.factory import open_inkjet

    return open_inkjet(
        cfg.protocol, url, depth=cfg.depth, mode=cfg.mode, job=cfg.job,
        timeout_s=cfg.timeout_ms / 1000,
    )  # fmt: skip


def _sim_inkjet(cfg: InkjetSettings, host: str, port: int) -> Any:
    from drivers.inkjet.sim import SimInkjet

    sim = SimInkjet(cfg.protocol, host, port, mode=cfg.mode, depth=cfg.depth, jobs=(cfg.job,))
    sim.start()
    return sim


def _open_labeler(name: str) -> Callable[[LabelerSettings, str], Any]:
    def open_(cfg: LabelerSettings, url: str) -> Any:
        from drivers.labels.zebra import ZplPrinter

        # Not connected yet: the runner (or `devices check`) connects and reports failures.
        return ZplPrinter(url, name=name, timeout_s=cfg.timeout_ms / 1000)

    return open_


def _sim_labeler(cfg: LabelerSettings, host: str, port: int) -> Any:
    from drivers.labels.sim import SimZplPrinter

    sim = SimZplPrinter(host, port)
    sim.start()
    return sim


def _open_reader(cfg: ReaderSettings, url: str) -> Any:
    from drivers.reader.factory import open_reader

    return open_reader(
        url, prefix=cfg.prefix, suffix=cfg.suffix, separator=cfg.separator,
        noread=cfg.noread, dialect=cfg.dialect,
    )  # fmt: skip


def _sim_reader(cfg: ReaderSettings, host: str, port: int) -> Any:
    from drivers.reader.sim import SimReader

    return SimReader(
        host, port, prefix=cfg.prefix, suffix=cfg.suffix, separator=cfg.separator,
        noread=cfg.noread,
    )  # fmt: skip


def _open_ticket(cfg: TicketSettings, url: str) -> Any:
    from drivers.labels.escpos.printer import TicketPrinter

    return TicketPrinter(url)


def _sim_ticket(cfg: TicketSettings, host: str, port: int) -> Any:
    from drivers.labels.sim import SimTicketPrinter

    sim = SimTicketPrinter(host, port)
    sim.start()
    return sim


def _open_scanner(cfg: ScannerSettings, url: str) -> Any:
    from drivers.scanner.serial_scanner import SerialScanner

    return SerialScanner(url, suffix=cfg.suffix, encoding=cfg.encoding)


def _sim_scanner(cfg: ScannerSettings, host: str, port: int) -> Any:
    if not cfg.url.startswith(("socket://", "tcp://")):
        return None  # a serial (USB CDC) scanner is a real port: nothing to serve
    from drivers.scanner.sim import SimScanner

    return SimScanner(
        transport="tcp", host=host, port=port, suffix=cfg.suffix, encoding=cfg.encoding,
        name="scanner",
    )  # fmt: skip


def is_stream(source: str) -> bool:
    """True for a tagged frame stream URL (what `station sim` serves for a camera)."""
    return source.startswith("http://") and source.split("?")[0].endswith("/frames")


def _sim_camera(name: str) -> Callable[[CameraSettings, str, int], Any]:
    def simulate(cfg: CameraSettings, host: str, port: int) -> Any:
        if not is_stream(cfg.source):
            return None  # the in-process world ('sim') or a real camera
        from drivers.camera.stream import FrameStreamServer

        return FrameStreamServer(None, host, port, name=name).start()

    return simulate


@dataclass(frozen=True)
class Role:
    """One device role of a line: everything the station needs to know about it, in one place."""

    key: str
    """Its table under [devices] and its name in events, alarms and `station devices`."""
    settings: type[DeviceSettings]
    zh: str
    en: str
    open: Callable[[Any, str], Any] | None
    """(its settings, URL) → the driver, not connected yet; None where the line opens it itself."""
    simulate: Callable[[Any, str, int], Any] | None = None
    """(its settings, host, port) → a started simulator on loopback, or None when there is none."""
    sim_scheme: str | Callable[[Any], str | None] | None = None
    """The URL scheme a driver uses to reach the simulator (None: the simulator's own URL), or
    a function of the role's settings giving it (the PLC: it depends on the protocol)."""
    alarms: tuple[str, ...] = ()
    """The alarm keys raised about this device (translated in ui/alarms.py)."""
    required: bool = False
    in_line: bool = True
    """False for devices beside the line loop (ticket printer, hand scanner)."""
    aliases: tuple[str, ...] = ()
    """Other names the line's alarms use for this device (Alarm.device), for its status light."""

    def url(self, cfg: Any) -> str:
        """The device's address in config (`url`, or a camera's `source`)."""
        return str(getattr(cfg, "url", None) or getattr(cfg, "source", ""))

    def scheme_for(self, cfg: Any) -> str | None:
        """The URL scheme a driver uses to reach this role's simulator, given its settings."""
        return self.sim_scheme(cfg) if callable(self.sim_scheme) else self.sim_scheme

    def name(self, language: str) -> str:
        """Its display name in `language` ('zh' or 'en')."""
        return self.zh if language == "zh" else self.en


ROLES: tuple[Role, ...] = (
    Role("plc", PlcSettings, "PLC", "PLC", _open_plc, _sim_plc, _plc_sim_scheme,
         ("plc_fault", "triggers_lost", "reject_not_delivered"), required=True),
    Role("inkjet", InkjetSettings, "喷码机", "Inkjet printer", _open_inkjet, _sim_inkjet,
         alarms=("printer_fault", "printer_reconnect_failed", "printer_starved"),
         aliases=("printer",)),
    Role("verify_camera", CameraSettings, "校验相机", "Verify camera", None,
         _sim_camera("verify_camera"), alarms=("camera_fault",), aliases=("camera", "decoder")),
    Role("case_camera", CameraSettings, "箱码相机", "Case camera", None,
         _sim_camera("case_camera"), alarms=("case_camera_fault",)),
    Role("case_labeler", LabelerSettings, "箱标打印机", "Case labeler",
         _open_labeler("case_labeler"), _sim_labeler, "tcp", ("labeler_fault",)),
    Role("pallet_labeler", LabelerSettings, "垛标打印机", "Pallet labeler",
         _open_labeler("pallet_labeler"), _sim_labeler, "tcp", ("labeler_fault",)),
    Role("ticket", TicketSettings, "小票打印机", "Ticket printer", _open_ticket, _sim_ticket,
         in_line=False),
    Role("reader", ReaderSettings, "垛码读码器", "Pallet reader", _open_reader, _sim_reader, "tcp",
         ("reader_fault",), aliases=("pallet_reader",)),
    Role("checkweigher", CheckweigherSettings, "检重秤", "Checkweigher", _open_checkweigher,
         _sim_checkweigher, alarms=("checkweigher_fault",)),
    Role("scanner", ScannerSettings, "手持扫码枪", "Hand scanner", _open_scanner, _sim_scanner,
         in_line=False),
)  # fmt: skip
ROLE: dict[str, Role] = {r.key: r for r in ROLES}
"""Roles by key."""
ROLE_BY_NAME: dict[str, Role] = {n: r for r in ROLES for n in (*r.aliases, r.key)}
"""Roles by key or by any other name their alarms use (Alarm.device)."""


class _Devices(DeviceSettings):
    @model_validator(mode="after")
    def _required(self) -> _Devices:
        for role in ROLES:
            if role.required and getattr(self, role.key) is None:
                raise ValueError(
                    f"devices.{role.key} is required for a line; add a [devices.{role.key}] "
                    "section (see config.toml in the repository)"
                )
        return self


DevicesSettings = create_model(  # type: ignore[call-overload]  # fields come from ROLES
    "DevicesSettings",
    __base__=_Devices,
    __doc__="Every device of the line; a missing section means the station does not use it.",
    **{r.key: (r.settings | None, None) for r in ROLES},
)
"""config.toml's [devices] table: one optional table per role (required roles checked)."""
