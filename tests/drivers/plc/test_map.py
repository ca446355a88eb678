"""Register map and URL parsing: validation errors name the key; spans cover one read."""

from __future__ import annotations

import pytest

from drivers.plc.base import RegisterMap
from drivers.plc.factory import open_plc
from drivers.plc.link import parse_url


def test_defaults_poll_in_one_read_and_reject_in_one_write() -> None:
    m = RegisterMap()
    assert m.poll_span == (0, 19)  # counter, PLC heartbeat, rejects done, 16 ring slots
    assert m.reject_block


def test_from_dict_builds_and_rejects_unknown_keys() -> None:
    m = RegisterMap.from_dict(
        {
            "unit_id": 3,
            "trigger_ring_len": 32,  # 3..34: the station block moves up
            "station_heartbeat": 40,
            "stack_light": 41,
            "reject_write_ptr": 42,
            "reject_ring": 43,
            "reject_coil": 7,
        }
    )
    assert (m.unit_id, m.trigger_ring_len, m.reject_coil, m.poll_span) == (3, 32, 7, (0, 35))
    with pytest.raises(ValueError, match="trigger_rnig"):
        RegisterMap.from_dict({"trigger_rnig": 5})


@pytest.mark.parametrize(
    ("data", "key"),
    [
        ({"trigger_ring_len": 10}, "trigger_ring_len"),
        ({"reject_ring_len": 0}, "reject_ring_len"),
        ({"trigger_ring_len": 128}, "trigger_ring_len"),
        ({"line_stop_coil": None}, "line_stop"),
        ({"line_stop_register": 30}, "line_stop"),
        ({"trigger_counter": 0, "trigger_ring": 200}, "one read"),
        ({"unit_id": 300}, "unit_id"),
        ({"stack_light": 5}, "stack_light and trigger_ring share register 5"),
        ({"reject_coil": 0}, "line_stop_coil and reject_coil share coil 0"),
        ({"reject_ring": 65530}, "reject_ring=65530 outside"),
    ],
)
def test_bad_maps_are_refused_naming_the_key(data: dict, key: str) -> None:
    with pytest.raises(ValueError, match=key):
        RegisterMap.from_dict(data)


def test_far_heartbeat_is_left_out_of_the_poll_read() -> None:
    m = RegisterMap(plc_heartbeat=1000, rejects_done=50)
    assert m.poll_span == (0, 51)


def test_urls() -> None:
    tcp = parse_url("modbus-tcp://10.0.0.5:1502")
    assert (tcp.kind, tcp.host, tcp.port) == ("tcp", "10.0.0.5", 1502)
    assert parse_url("modbus-tcp://plc").port == 502
    rtu = parse_url("modbus-rtu:///dev/ttyUSB0?baudrate=115200&parity=N&stopbits=2")
    assert (rtu.serial_port, rtu.baudrate, rtu.parity, rtu.stopbits) == (
        "/dev/ttyUSB0",
        115200,
        "N",
        2,
    )
    assert parse_url("modbus-rtu://socket://gw:4001").serial_port == "socket://gw:4001"
    assert parse_url("modbus-rtu:///dev/ttyS1").parity == "E"
    for bad in ("tcp://plc:502", "modbus-rtu://", "modbus-rtu:///dev/ttyS0?speed=9600"):
        with pytest.raises(ValueError, match="plc url"):
            parse_url(bad)


def test_open_plc_takes_a_config_table() -> None:
    plc = open_plc("modbus-tcp://127.0.0.1:1", register_map={"stack_light": 45}, name="p")
    assert plc.name == "p"
    assert plc.url == "modbus-tcp://127.0.0.1:1"
