"""LineStation drivers/plc: the line PLC over Modbus TCP/RTU (see README.md)."""

from __future__ import annotations

from drivers.plc.base import (
    LinePLC,
    ModbusRefused,
    RegisterMap,
    StackLight,
    Trigger,
    TriggersLost,
    open_plc,
)

__all__ = [
    "LinePLC",
    "ModbusRefused",
    "RegisterMap",
    "StackLight",
    "Trigger",
    "TriggersLost",
    "open_plc",
]
