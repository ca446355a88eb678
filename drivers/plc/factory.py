"""One way to open the line PLC and one to start its simulator, whatever the protocol.

    plc = open_line_plc("s7", "s7://192.168.0.10?rack=0&slot=1", address_map={...})
    sim = start_plc_sim("mc", address_map=None, port=0)      # started; sim.url for the driver

Protocols: "modbus" (modbus-tcp:// or modbus-rtu://, RegisterMap), "s7" (s7://host[:102]
?rack=&slot=, S7Map), "mc" (mc://host:port, MELSEC 3E binary, MCMap). The address map is the
config table of that protocol's map; None takes its defaults.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from drivers.plc.base import LinePLC, RegisterMap
from drivers.plc.modbus import ModbusPLC

PROTOCOLS = ("modbus", "s7", "mc")
_SCHEMES = {"modbus-tcp": "modbus", "modbus-rtu": "modbus", "s7": "s7", "mc": "mc"}
_EXAMPLES = {
    "modbus": "modbus-tcp://192.168.0.10:502",
    "s7": "s7://192.168.0.10:102?rack=0&slot=1",
    "mc": "mc://192.168.0.10:5007",
}


def protocol_of(url: str) -> str:
    """The protocol a PLC URL speaks, from its scheme; ValueError naming the known ones."""
    scheme = url.split("://", 1)[0].lower() if "://" in url else ""
    if scheme not in _SCHEMES:
        raise ValueError(
            f"plc url {url!r}: unknown scheme; use " + ", ".join(_EXAMPLES[p] for p in PROTOCOLS)
        )
    return _SCHEMES[scheme]


def _check(protocol: str | None, url: str) -> str:
    spoken = protocol_of(url)
    if protocol is None:
        return spoken
    if protocol not in PROTOCOLS:
        raise ValueError(f"plc protocol {protocol!r}: expected one of {', '.join(PROTOCOLS)}")
    if protocol != spoken:
        raise ValueError(
            f"plc protocol {protocol!r} but url {url!r} is {spoken}; "
            f"a {protocol} url looks like {_EXAMPLES[protocol]}"
        )
    return protocol


def open_line_plc(
    protocol: str | None,
    url: str,
    *,
    address_map: Mapping[str, Any] | None = None,
    name: str = "plc",
    timeout_s: float = 0.5,
    heartbeat_timeout_ms: int = 2000,
) -> LinePLC:
    """The driver for `protocol` at `url` (protocol None: taken from the URL); not connected."""
    proto = _check(protocol, url)
    if proto == "s7":
        from drivers.plc.s7.driver import S7PLC

        return S7PLC(
            url,
            s7_map=address_map or None,
            name=name,
            timeout_s=timeout_s,
            heartbeat_timeout_ms=heartbeat_timeout_ms,
        )
    if proto == "mc":
        from drivers.plc.mc.driver import MCPLC

        return MCPLC(
            url,
            mc_map=address_map or None,
            name=name,
            timeout_s=timeout_s,
            heartbeat_timeout_ms=heartbeat_timeout_ms,
        )
    return open_plc(
        url,
        register_map=address_map or None,
        name=name,
        timeout_s=timeout_s,
        heartbeat_timeout_ms=heartbeat_timeout_ms,
    )


def start_plc_sim(
    protocol: str,
    address_map: Mapping[str, Any] | None = None,
    *,
    host: str = "127.0.0.1",
    port: int = 0,
    first_seq: int = 1,
    heartbeat_period_s: float = 0.1,
    station_timeout_ms: int = 2000,
) -> Any:
    """A started simulator of `protocol` (SimPLC over TCP, SimS7PLC, SimMCPLC); `.url` to dial.

    All three share the world hooks: trigger(), conveyor(rate), rejects(), on_trigger,
    stack_light, line_stop, case_result, cases_placed, station_alive, stop().
    """
    kw: dict[str, Any] = dict(
        host=host,
        port=port,
        first_seq=first_seq,
        heartbeat_period_s=heartbeat_period_s,
        station_timeout_ms=station_timeout_ms,
    )
    if protocol == "s7":
        from drivers.plc.s7.sim import SimS7PLC

        return SimS7PLC(address_map or None, **kw).start()
    if protocol == "mc":
        from drivers.plc.mc.sim import SimMCPLC

        return SimMCPLC(address_map or None, **kw).start()
    if protocol == "modbus":
        from drivers.plc.sim import SimPLC

        return SimPLC(address_map or None, **kw).start()
    raise ValueError(f"plc protocol {protocol!r}: expected one of {', '.join(PROTOCOLS)}")


def open_plc(
    url: str,
    *,
    register_map: RegisterMap | Mapping[str, Any] | None = None,
    name: str = "plc",
    timeout_s: float = 0.5,
    heartbeat_timeout_ms: int = 2000,
) -> LinePLC:
    """A PLC driver for `modbus-tcp://host:port` or `modbus-rtu:///dev/ttyUSB0?baudrate=19200&parity=E`.

    The RTU port may be any pyserial URL (`modbus-rtu://socket://gateway:4001`). Not connected yet.
    """
    if register_map is None:
        rmap = RegisterMap()
    elif isinstance(register_map, RegisterMap):
        rmap = register_map
    else:
        rmap = RegisterMap.from_dict(register_map)
    return ModbusPLC(
        url,
        register_map=rmap,
        name=name,
        timeout_s=timeout_s,
        heartbeat_timeout_ms=heartbeat_timeout_ms,
    )
