"""Opt-in check against a real PLC with the default map: LINESTATION_HARDWARE=plc:<url>."""

from __future__ import annotations

import os
import time

import pytest

from drivers.plc.base import StackLight
from drivers.plc.factory import open_plc

_SPEC = next(
    (s for s in os.environ.get("LINESTATION_HARDWARE", "").split() if s.startswith("plc:")), ""
)


@pytest.mark.hardware
@pytest.mark.skipif(
    not _SPEC,
    reason="needs a real Modbus PLC; name it in LINESTATION_HARDWARE=plc:modbus-tcp://host:502",
)
def test_real_plc_polls_and_heartbeats() -> None:
    url = _SPEC.split(":", 1)[1]
    with open_plc(url, name="hardware-plc", timeout_s=1.0, heartbeat_timeout_ms=3000) as plc:
        plc.poll_triggers()
        for _ in range(3):  # the PLC's heartbeat must move within 3 s
            plc.heartbeat()
            time.sleep(1.0)
        plc.set_stack_light(StackLight.GREEN)
        plc.set_stack_light(StackLight.OFF)
