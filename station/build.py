"""The one composition root: the only place that picks concrete drivers and simulators."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from station.config import Settings
from station.devices import ROLE, ROLES, is_stream
from station.errors import ConfigError


class Simulators:
    """Every simulator of a line, each serving its wire protocol on loopback, by role key."""

    def __init__(
        self, sims: dict[str, Any] | None = None, settings: Settings | None = None
    ) -> None:
        self.by_role: dict[str, Any] = dict(sims or {})
        self.settings = settings
        """The settings they were started from (a driver's URL scheme may depend on them)."""

    def __getattr__(self, key: str) -> Any:
        if key in ROLE:
            return self.__dict__["by_role"].get(key)
        raise AttributeError(key)

    def all(self) -> list[tuple[str, Any]]:
        """(role key, simulator) for each one present, in registry order."""
        return [(r.key, self.by_role[r.key]) for r in ROLES if self.by_role.get(r.key) is not None]

    def stop(self) -> None:
        """Stop every simulator."""
        for _, sim in self.all():
            try:
                (getattr(sim, "stop", None) or sim.close)()
            except Exception:
                pass


def _port(url: str, fixed: bool) -> tuple[str, int]:
    """Where a simulator listens: the URL's host and port when fixed, else a free loopback port.

    A URL may carry a query (`s7://127.0.0.1:19102?rack=0&slot=1`) or name no port (a serial
    device, an S7 CPU on its default 102): no port named means a free one.
    """
    if not fixed:
        return "127.0.0.1", 0
    parts = urlsplit(url)
    try:
        port = parts.port
    except ValueError:
        port = None
    return parts.hostname or "127.0.0.1", port or 0


def start_simulators(settings: Settings, *, fixed_ports: bool = False) -> Simulators:
    """Start a simulator for every configured device (on the config's ports when fixed_ports)."""
    sims = Simulators(settings=settings)
    try:
        for role in ROLES:
            cfg = getattr(settings.devices, role.key)
            if cfg is None or role.simulate is None:
                continue
            host, port = _port(role.url(cfg), fixed_ports)
            sim = role.simulate(cfg, host, port)
            if sim is not None:
                sims.by_role[role.key] = sim
    except Exception:
        sims.stop()
        raise
    return sims


SAMPLE_PORTS = (
    "19101", "19102", "19103", "19104", "19105", "19106", "19107", "19108", "19109", "19110",
    "19111", "19112", "19502",
)  # fmt: skip
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
    """Real drivers for every configured device, at the config's URLs or the given ones.

    Cameras are opened by the line as frame sources (`open_frame_source`); the decoder they feed
    is built here from the verify camera's settings.
    """
    from drivers.camera.decode import make_decoder

    urls = urls or {}
    out: dict[str, Any] = {}
    for role in ROLES:
        cfg = getattr(settings.devices, role.key)
        if cfg is not None and role.open is not None:
            out[role.key] = role.open(cfg, urls.get(role.key, role.url(cfg)))
    cam = settings.devices.verify_camera
    out["decoder"] = make_decoder(
        cam.formats if cam else ("QRCode", "DataMatrix"),
        second_opinion=cam.second_opinion if cam else True,
    )
    return out


def sim_device_urls(sims: Simulators) -> dict[str, str]:
    """Driver URLs pointing at the running simulators of the line's own devices.

    Devices beside the line loop (ticket printer, hand scanner) keep their configured URLs.
    """
    devices = sims.settings.devices if sims.settings is not None else None
    return {
        key: sim_url(sim, ROLE[key].scheme_for(getattr(devices, key, None)))
        for key, sim in sims.all()
        if ROLE[key].in_line
    }
