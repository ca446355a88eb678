"""The device config models: one `[devices.<key>]` table per role, checked when config loads.

The device registry (station/devices.py) pairs each model with its role; names a config may carry
(inkjet protocols, reader dialects, symbologies) are `Literal`s here, checked against the drivers
by tests/unit/foundation/test_device_registry.py.
"""

from __future__ import annotations

from typing import Any, Literal, get_args
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator, model_validator

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
