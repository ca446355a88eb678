"""LineStation drivers/plc: the line PLC over Modbus TCP/RTU, Siemens S7, MELSEC MC (README.md)."""

from __future__ import annotations

from drivers.plc.base import (
    LinePLC,
    ModbusRefused,
    RegisterMap,
    StackLight,
    Trigger,
    TriggersLost,
)
from drivers.plc.factory import open_line_plc, open_plc, start_plc_sim
from drivers.plc.mc.addresses import MCMap
from drivers.plc.s7.addresses import S7Map

__all__ = [
    "LinePLC",
    "MCMap",
    "ModbusRefused",
    "RegisterMap",
    "S7Map",
    "StackLight",
    "Trigger",
    "TriggersLost",
    "open_line_plc",
    "open_plc",
    "start_plc_sim",
]
