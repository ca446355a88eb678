"""Checked by mypy, never called: each PLC driver meets the LinePLC Protocol.

A driver that drifts from its Protocol (a renamed method, a changed signature) fails `make lint`
here rather than at run time on the line. The Sim* PLCs are servers the drivers talk to, not
drivers, so they have no Protocol to meet.
"""

from __future__ import annotations

from drivers.plc.base import LinePLC
from drivers.plc.mc.driver import MCPLC
from drivers.plc.modbus import ModbusPLC
from drivers.plc.s7.driver import S7PLC


def _conforms(modbus: ModbusPLC, s7: S7PLC, mc: MCPLC) -> tuple[LinePLC, LinePLC, LinePLC]:
    return modbus, s7, mc
