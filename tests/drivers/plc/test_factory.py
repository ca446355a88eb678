"""The factory: one call opens the driver of a protocol, one starts its simulator."""

from __future__ import annotations

import pytest

from drivers.plc.base import Trigger
from drivers.plc.factory import open_line_plc, protocol_of, start_plc_sim
from drivers.plc.mc.driver import MCPLC
from drivers.plc.modbus import ModbusPLC
from drivers.plc.s7.driver import S7PLC


@pytest.mark.parametrize(
    ("url", "proto", "cls"),
    [
        ("modbus-tcp://10.0.0.5:502", "modbus", ModbusPLC),
        ("modbus-rtu:///dev/ttyUSB0?baudrate=115200", "modbus", ModbusPLC),
        ("s7://10.0.0.5?rack=0&slot=1", "s7", S7PLC),
        ("mc://10.0.0.5:5007", "mc", MCPLC),
    ],
)
def test_the_url_picks_the_driver(url: str, proto: str, cls: type) -> None:
    assert protocol_of(url) == proto
    assert isinstance(open_line_plc(None, url, name="p"), cls)
    plc = open_line_plc(proto, url, name="p")
    assert isinstance(plc, cls) and (plc.name, plc.url) == ("p", url)


def test_protocol_and_url_must_agree() -> None:
    with pytest.raises(ValueError, match=r"plc protocol 's7' but url 'mc://plc:5007' is mc"):
        open_line_plc("s7", "mc://plc:5007")
    with pytest.raises(ValueError, match="expected one of modbus, s7, mc"):
        open_line_plc("profinet", "s7://plc")
    with pytest.raises(ValueError, match="unknown scheme; use modbus-tcp://"):
        protocol_of("opc.tcp://plc:4840")


def test_the_address_map_goes_to_the_protocols_map() -> None:
    plc = open_line_plc("s7", "s7://plc", address_map={"stack_light": "DB20.DBW0"})
    assert isinstance(plc, S7PLC) and plc.map.stack_light == "DB20.DBW0"
    with pytest.raises(ValueError, match=r"mc map: stack_light='DB20\.DBW0'"):
        open_line_plc("mc", "mc://plc:5007", address_map={"stack_light": "DB20.DBW0"})


@pytest.mark.parametrize("proto", ["modbus", "s7", "mc"])
def test_each_simulator_starts_and_serves_its_driver(proto: str) -> None:
    sim = start_plc_sim(proto, first_seq=9)
    try:
        assert protocol_of(sim.url) == proto
        with open_line_plc(proto, sim.url, timeout_s=0.5) as plc:
            seq = sim.trigger()
            assert plc.poll_triggers() == [Trigger(9, 1)] == [Trigger(seq, 1)]
            plc.request_reject(seq)
            assert sim.rejects() == [seq]
    finally:
        sim.stop()
    with pytest.raises(ValueError, match="expected one of"):
        start_plc_sim("profinet")


S7_TOML = """
[devices.plc]
protocol = "s7"
url = "s7://127.0.0.1:102?rack=0&slot=1"
timeout_ms = 500
heartbeat_timeout_ms = 2000

[devices.plc.register_map]
trigger_counter = "DB20.DBW0"
plc_heartbeat = "DB20.DBW2"
rejects_done = "DB20.DBW4"
trigger_ring = "DB20.DBW6"
trigger_ring_len = 16
station_heartbeat = "DB21.DBW0"
stack_light = "DB21.DBW2"
reject_write_ptr = "DB21.DBW4"
reject_ring = "DB21.DBW6"
reject_ring_len = 16
line_stop_bit = "DB21.DBX40.0"
case_result = "DB21.DBW42"
cases_placed = "DB21.DBW46"
"""

MC_TOML = """
[devices.plc]
protocol = "mc"
url = "mc://127.0.0.1:5007"

[devices.plc.register_map]
trigger_counter = "D500"
trigger_ring = "D503"
plc_heartbeat = "D501"
rejects_done = "D502"
line_stop_bit = "M300"
reject_bit = "M301"
case_result = "none"
"""


@pytest.mark.parametrize("text", [S7_TOML, MC_TOML])
def test_the_proposed_config_shape_runs_a_line(text: str) -> None:
    import tomllib

    cfg = tomllib.loads(text)["devices"]["plc"]
    sim = start_plc_sim(cfg["protocol"], cfg["register_map"], first_seq=3)
    try:
        with open_line_plc(
            cfg["protocol"], sim.url, address_map=cfg["register_map"], timeout_s=0.5
        ) as plc:
            seq = sim.trigger()
            assert plc.poll_triggers() == [Trigger(seq, 1)]
            plc.request_reject(seq)
            assert sim.rejects() == [seq]
            plc.set_line_stop(True)
            assert sim.line_stop
    finally:
        sim.stop()
