"""Opt-in check against a real S7 or MELSEC CPU with the default map.

LINESTATION_HARDWARE="plc-s7:s7://192.168.0.10?rack=0&slot=1 plc-mc:mc://192.168.3.39:5007"
"""

from __future__ import annotations

import os
import time

import pytest

from drivers.plc.base import StackLight
from drivers.plc.factory import open_line_plc

_SPECS = os.environ.get("LINESTATION_HARDWARE", "").split()


def _url(prefix: str) -> str:
    return next((s.split(":", 1)[1] for s in _SPECS if s.startswith(prefix + ":")), "")


@pytest.mark.hardware
@pytest.mark.parametrize("prefix", ["plc-s7", "plc-mc"])
def test_real_cpu_polls_and_heartbeats(prefix: str) -> None:
    url = _url(prefix)
    if not url:
        cpu = {"plc-s7": "a Siemens S7-1200/1500 CPU", "plc-mc": "a Mitsubishi MELSEC CPU"}[prefix]
        pytest.skip(f"needs {cpu} on the network; name it in LINESTATION_HARDWARE={prefix}:<url>")
    with open_line_plc(None, url, name="hardware-plc", timeout_s=1.0,
                       heartbeat_timeout_ms=3000) as plc:  # fmt: skip
        plc.poll_triggers()
        for _ in range(3):  # the PLC's heartbeat must move within 3 s
            plc.heartbeat()
            time.sleep(1.0)
        plc.set_stack_light(StackLight.GREEN)
        plc.set_stack_light(StackLight.OFF)
