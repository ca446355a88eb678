"""The device registry: each device role of a line described once.

A role is its config model (the `[devices.<key>]` table), how its driver is opened, how its
simulator starts and how a driver reaches that simulator, its display names in both languages and
the alarm keys it raises. The composition root (`station.build`), `station sim`, `station devices
check/test`, the IT screen and the status bar all read `ROLES`; config.toml's `[devices]` table is
built from it. Adding a role is one folder in `drivers/` plus one `Role` here.

Drivers are imported inside the `open`/`simulate` functions, so loading a config imports no driver.
The config models themselves live in station/device_models.py.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from pydantic import create_model, model_validator

from station.device_models import (  # noqa: F401  (the registry's names, one place)
    CameraSettings,
    CheckweigherSettings,
    CodeFormat,
    DeviceSettings,
    FrozenSettings,
    InkjetProtocol,
    InkjetSettings,
    LabelerSettings,
    PlcProtocol,
    PlcSettings,
    ReaderDialect,
    ReaderSettings,
    ScannerSettings,
    TicketSettings,
    WeighLevelSettings,
    check_url,
    plc_map,
    refuse_quoted_number,
)


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


def _open_reader(cfg: ReaderSettings, url: str, name: str = "reader") -> Any:
    from drivers.reader.factory import open_reader

    return open_reader(
        url, name=name, prefix=cfg.prefix, suffix=cfg.suffix, separator=cfg.separator,
        noread=cfg.noread, dialect=cfg.dialect,
    )  # fmt: skip


def _open_item_reader(cfg: ReaderSettings, url: str) -> Any:
    return _open_reader(cfg, url, "item_reader")


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
    Role("verify_camera_2", CameraSettings, "校验相机2", "Verify camera 2", None,
         _sim_camera("verify_camera_2"), alarms=("camera_fault",)),
    Role("box_camera", CameraSettings, "盒码相机", "Box camera", None,
         _sim_camera("box_camera"), alarms=("box_camera_fault",)),
    Role("case_camera", CameraSettings, "箱码相机", "Case camera", None,
         _sim_camera("case_camera"), alarms=("case_camera_fault",)),
    Role("box_labeler", LabelerSettings, "盒标打印机", "Box labeler",
         _open_labeler("box_labeler"), _sim_labeler, "tcp", ("box_labeler_fault",)),
    Role("case_labeler", LabelerSettings, "箱标打印机", "Case labeler",
         _open_labeler("case_labeler"), _sim_labeler, "tcp", ("labeler_fault",)),
    Role("pallet_labeler", LabelerSettings, "垛标打印机", "Pallet labeler",
         _open_labeler("pallet_labeler"), _sim_labeler, "tcp", ("labeler_fault",)),
    Role("ticket", TicketSettings, "小票打印机", "Ticket printer", _open_ticket, _sim_ticket,
         in_line=False),
    Role("item_reader", ReaderSettings, "瓶码读码器", "Item reader", _open_item_reader,
         _sim_reader, "tcp", ("reader_fault",)),
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
