"""Case gate verdicts and the palletizer's cases-placed counter, over real Modbus TCP."""

from __future__ import annotations

import pytest

from drivers.plc.base import CASE_ACCEPTED, CASE_REJECTED, RegisterMap
from drivers.plc.factory import open_plc
from drivers.plc.modbus import ModbusPLC
from drivers.plc.sim import SimPLC


def test_case_verdicts_reach_the_gate(sim: SimPLC, plc: ModbusPLC) -> None:
    assert sim.case_result is None  # no verdict yet
    plc.report_case(7, CASE_ACCEPTED)
    assert sim.case_result == (7, CASE_ACCEPTED)
    plc.report_case(65537, CASE_REJECTED)  # case numbers wrap with the u16 register
    assert sim.case_result == (1, CASE_REJECTED)


def test_cases_placed_counts_on_across_a_station_restart(sim: SimPLC) -> None:
    with open_plc(sim.url, timeout_s=0.3) as plc:
        for _ in range(3):
            plc.case_placed()
    assert sim.cases_placed == 3
    with open_plc(sim.url, timeout_s=0.3) as plc:  # a restarted station continues the count
        plc.case_placed()
    assert sim.cases_placed == 4


def test_a_map_without_the_gate_writes_nothing() -> None:
    rmap = RegisterMap(case_result=None, cases_placed=None)
    with SimPLC(rmap) as sim, open_plc(sim.url, register_map=rmap, timeout_s=0.3) as plc:
        plc.report_case(3, CASE_ACCEPTED)
        plc.case_placed()
        assert sim.case_result is None and sim.cases_placed == 0


def test_gate_registers_must_not_overlap_others() -> None:
    with pytest.raises(ValueError, match="case_result and"):
        RegisterMap(case_result=21)  # on top of the stack light


def test_minus_one_in_config_switches_an_address_off() -> None:
    m = RegisterMap.from_dict({"case_result": -1, "cases_placed": "none", "line_stop_coil": -1,
                               "line_stop_register": 60})  # fmt: skip
    assert (m.case_result, m.cases_placed, m.line_stop_coil, m.line_stop_register) == (
        None, None, None, 60,
    )  # fmt: skip
