"""The one composition root: the only place that picks concrete drivers and simulators."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from station.config import Settings
from station.errors import ConfigError


@dataclass
class Simulators:
    """Every simulator of a line, each serving its wire protocol on loopback."""

    plc: Any
    inkjet: Any | None
    case_labeler: Any | None
    pallet_labeler: Any | None
    reader: Any | None
    ticket: Any | None = None
    scanner: Any | None = None
    verify_camera: Any | None = None
    case_camera: Any | None = None

    def all(self) -> list[tuple[str, Any]]:
        """(name, simulator) for each one present."""
        return [(k, v) for k, v in self.__dict__.items() if v is not None]

    def stop(self) -> None:
        """Stop every simulator."""
        for _, sim in self.all():
            try:
                (getattr(sim, "stop", None) or sim.close)()
            except Exception:
                pass


def _port(url: str, fixed: bool) -> tuple[str, int]:
    if not fixed:
        return "127.0.0.1", 0
    hostport = url.split("://", 1)[-1].split("/", 1)[0]
    host, _, port = hostport.rpartition(":")
    return host or "127.0.0.1", int(port)


def start_simulators(settings: Settings, *, fixed_ports: bool = False) -> Simulators:
    """Start a simulator for every configured device (on the config's ports when fixed_ports)."""
    from drivers.labels.sim import SimTicketPrinter, SimZplPrinter
    from drivers.plc.sim import SimPLC
    from drivers.reader.sim import SimReader

    d = settings.devices
    if d.plc is None:
        raise ConfigError("devices.plc is required for a line; add a [devices.plc] section")
    host, port = _port(d.plc.url, fixed_ports)
    sims = Simulators(
        plc=SimPLC(
            d.plc.register_map or None,
            host=host,
            port=port,
            station_timeout_ms=d.plc.heartbeat_timeout_ms * 5,
        ).start(),
        inkjet=None,
        case_labeler=None,
        pallet_labeler=None,
        reader=None,
    )
    try:
        if d.inkjet is not None:
            from drivers.inkjet.sim import SimInkjet

            host, port = _port(d.inkjet.url, fixed_ports)
            sims.inkjet = SimInkjet(
                d.inkjet.protocol,
                host,
                port,
                mode=d.inkjet.mode,
                depth=d.inkjet.depth,
                jobs=(d.inkjet.job,),
            )
            sims.inkjet.start()
        for name in ("case_labeler", "pallet_labeler"):
            cfg = getattr(d, name)
            if cfg is not None:
                host, port = _port(cfg.url, fixed_ports)
                sim = SimZplPrinter(host, port)
                sim.start()
                setattr(sims, name, sim)
        if d.reader is not None:
            host, port = _port(d.reader.url, fixed_ports)
            sims.reader = SimReader(
                host,
                port,
                prefix=d.reader.prefix,
                suffix=d.reader.suffix,
                separator=d.reader.separator,
                noread=d.reader.noread,
            )
        if d.ticket is not None:
            host, port = _port(d.ticket.url, fixed_ports)
            sims.ticket = SimTicketPrinter(host, port)
            sims.ticket.start()
        if d.scanner is not None and d.scanner.url.startswith(("socket://", "tcp://")):
            from drivers.scanner.sim import SimScanner  # a serial (USB CDC) one is a real port

            host, port = _port(d.scanner.url, fixed_ports)
            sims.scanner = SimScanner(
                transport="tcp",
                host=host,
                port=port,
                suffix=d.scanner.suffix,
                encoding=d.scanner.encoding,
                name="scanner",
            )
        for name in ("verify_camera", "case_camera"):
            cam = getattr(d, name)
            if cam is not None and is_stream(cam.source):
                from drivers.camera.stream import FrameStreamServer

                host, port = _port(cam.source, fixed_ports)
                setattr(sims, name, FrameStreamServer(None, host, port, name=name).start())
    except Exception:
        sims.stop()
        raise
    return sims


SAMPLE_PORTS = ("19101", "19102", "19103", "19104", "19105", "19106", "19107", "19108", "19502")
"""The loopback ports of the sample config.toml's devices."""


def free_ports(n: int) -> list[int]:
    """n loopback TCP ports free right now (for simulators beside other stations)."""
    import socket

    socks = [socket.socket() for _ in range(n)]
    try:
        for sk in socks:
            sk.bind(("127.0.0.1", 0))
        return [sk.getsockname()[1] for sk in socks]
    finally:
        for sk in socks:
            sk.close()


def on_free_ports(config_text: str) -> str:
    """The sample config's text with every device moved to a free port (tests, benchmarks)."""
    for old, new in zip(SAMPLE_PORTS, map(str, free_ports(len(SAMPLE_PORTS))), strict=True):
        config_text = config_text.replace(old, new)
    return config_text


def is_stream(source: str) -> bool:
    """True for a tagged frame stream URL (what `station sim` serves for a camera)."""
    return source.startswith("http://") and source.split("?")[0].endswith("/frames")


def open_frame_source(name: str, source: str) -> Any:
    """The FrameSource of a camera: a tagged frame stream, or a hardware-triggered camera.

    'sim' is the in-process world of `station demo`, not a device: refused here with the fix.
    """
    from drivers.camera.stream import CameraFrameSource, FrameStreamClient

    if source == "sim":
        raise ConfigError(
            f"devices.{name}.source is 'sim' (the in-process world of `station demo`); a "
            "production run needs a camera: the frame stream URL `station sim` prints "
            "(http://127.0.0.1:PORT/frames), an RTSP/HTTP URL, a device index or genicam:CTI"
        )
    if is_stream(source):
        return FrameStreamClient(source, name=name)
    if source.startswith("genicam:"):
        from drivers.camera.genicam import HarvesterCamera

        cti, _, serial = source[len("genicam:") :].partition("?serial=")
        return CameraFrameSource(HarvesterCamera(cti, serial or None, name=name))
    from drivers.camera.opencv import OpenCVCamera

    return CameraFrameSource(OpenCVCamera(int(source) if source.isdigit() else source, name=name))


def sim_url(sim: Any, scheme: str | None = None) -> str:
    """The URL a driver uses to reach a simulator."""
    url = sim.url
    if scheme and "://" in url:
        return f"{scheme}://{url.split('://', 1)[1]}"
    return url


def open_devices(settings: Settings, urls: dict[str, str] | None = None) -> dict[str, Any]:
    """Real drivers for every configured device, at the config's URLs or the given ones."""
    from drivers.camera.decode import make_decoder
    from drivers.inkjet.factory import open_inkjet
    from drivers.labels.zebra import ZplPrinter
    from drivers.plc.base import open_plc
    from drivers.reader.factory import open_reader

    urls = urls or {}
    d = settings.devices
    out: dict[str, Any] = {}
    if d.plc is not None:
        out["plc"] = open_plc(
            urls.get("plc", d.plc.url),
            register_map=d.plc.register_map or None,
            timeout_s=d.plc.timeout_ms / 1000,
            heartbeat_timeout_ms=d.plc.heartbeat_timeout_ms,
        )
    if d.inkjet is not None:
        out["inkjet"] = open_inkjet(
            d.inkjet.protocol,
            urls.get("inkjet", d.inkjet.url),
            depth=d.inkjet.depth,
            mode=d.inkjet.mode,
            job=d.inkjet.job,
            timeout_s=d.inkjet.timeout_ms / 1000,
        )
    for name in ("case_labeler", "pallet_labeler"):
        cfg = getattr(d, name)
        if cfg is not None:
            # Not connected yet: the runner (or `devices check`) connects and reports failures.
            out[name] = ZplPrinter(
                urls.get(name, cfg.url), name=name, timeout_s=cfg.timeout_ms / 1000
            )
    if d.reader is not None:
        r = d.reader
        out["reader"] = open_reader(
            urls.get("reader", r.url),
            prefix=r.prefix,
            suffix=r.suffix,
            separator=r.separator,
            noread=r.noread,
            dialect=r.dialect,
        )
    if d.ticket is not None:  # not in the line loop, but on the line: `devices check` sees it
        from drivers.labels.ticket import TicketPrinter

        out["ticket"] = TicketPrinter(urls.get("ticket", d.ticket.url))
    if d.scanner is not None:
        from drivers.scanner.serial_scanner import SerialScanner

        out["scanner"] = SerialScanner(
            urls.get("scanner", d.scanner.url), suffix=d.scanner.suffix, encoding=d.scanner.encoding
        )
    cam = d.verify_camera
    out["decoder"] = make_decoder(
        cam.formats if cam else ("QRCode", "DataMatrix"),
        second_opinion=cam.second_opinion if cam else True,
    )
    return out


def sim_device_urls(sims: Simulators) -> dict[str, str]:
    """Driver URLs pointing at running simulators."""
    urls = {"plc": sim_url(sims.plc, "modbus-tcp")}
    if sims.inkjet is not None:
        urls["inkjet"] = sims.inkjet.url
    for name in ("case_labeler", "pallet_labeler"):
        sim = getattr(sims, name)
        if sim is not None:
            urls[name] = sim_url(sim, "tcp")
    if sims.reader is not None:
        urls["reader"] = sim_url(sims.reader, "tcp")
    for name in ("verify_camera", "case_camera"):
        if getattr(sims, name) is not None:
            urls[name] = getattr(sims, name).url
    return urls
