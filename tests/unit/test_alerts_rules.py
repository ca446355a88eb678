"""Alert rules: each condition alerts once and re-arms when it ends."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from station.alerts import AlertKind, AlertRules, Severity

T0 = datetime(2026, 12, 7, 8, 0, tzinfo=UTC)


def _at(minutes: float) -> datetime:
    return T0 + timedelta(minutes=minutes)


def test_a_repeated_fault_alerts_once_until_the_device_is_ok() -> None:
    rules = AlertRules("L1")
    rules.batch_started("B1")
    first = rules.device_fault("inkjet", "ink out", code="printer_fault", now=T0)
    assert first is not None
    assert (first.kind, first.severity, first.line, first.batch, first.device) == (
        AlertKind.DEVICE_FAULT, Severity.CRITICAL, "L1", "B1", "inkjet",
    )  # fmt: skip
    assert rules.device_fault("inkjet", "ink out!", code="printer_fault", now=_at(1)) is None
    assert rules.device_fault("camera", "no frame", code="camera_fault", now=_at(1)) is not None
    assert rules.device_fault("inkjet", "head open", code="head", now=_at(1)) is not None
    rules.device_ok("inkjet", "printer_fault")
    assert rules.device_fault("inkjet", "head open", code="head", now=_at(2)) is None
    assert rules.device_fault("inkjet", "ink out", code="printer_fault", now=_at(2)) is not None
    rules.device_ok("inkjet")
    assert rules.device_fault("inkjet", "head open", code="head", now=_at(3)) is not None


def test_a_fault_without_a_code_is_told_apart_by_its_text() -> None:
    rules = AlertRules("L1")
    assert rules.device_fault("plc", "no answer", now=T0) is not None
    assert rules.device_fault("plc", "no answer", now=T0) is None
    assert rules.device_fault("plc", "bad frame", now=T0) is not None


def test_a_long_stop_alerts_once_and_its_end_is_told() -> None:
    rules = AlertRules("L1", stopped_minutes=10)
    assert rules.line_state("stopped", _at(0)) is None
    assert rules.line_state("stopped", _at(9.9)) is None
    alert = rules.line_state("stopped", _at(10), reason="waiting for QA")
    assert alert is not None and alert.kind is AlertKind.LINE_STOPPED
    assert alert.message == "waiting for QA" and alert.arg("minutes") == "10"
    assert alert.arg("since") == "08:00 UTC"
    assert rules.line_state("stopped", _at(30)) is None
    resumed = rules.line_state("running", _at(42))
    assert resumed is not None and resumed.kind is AlertKind.LINE_RESUMED
    assert resumed.severity is Severity.INFO and resumed.arg("minutes") == "42"
    assert rules.line_state("running", _at(43)) is None
    # a short stop says nothing, before or after
    assert rules.line_state("stopped", _at(50)) is None
    assert rules.line_state("running", _at(55)) is None
    # the next long stop alerts again
    assert rules.line_state("stopped", _at(60)) is None
    assert rules.line_state("stopped", _at(71)) is not None


def test_delivery_failures_alert_at_the_threshold_once_per_outage() -> None:
    rules = AlertRules("L1", delivery_failures=3)
    assert rules.delivery_failed("plant", "timeout", 1, now=T0) is None
    assert rules.delivery_failed("plant", "timeout", 2, now=T0) is None
    alert = rules.delivery_failed("plant", "HTTP 503", 3, batch="B9", now=T0)
    assert alert is not None and alert.batch == "B9" and alert.device == "plant"
    assert alert.arg("attempts") == "3" and alert.message == "HTTP 503"
    assert rules.delivery_failed("plant", "HTTP 503", 4, now=T0) is None
    rules.delivery_ok("plant")
    assert rules.delivery_failed("plant", "HTTP 503", 3, now=T0) is not None


def test_a_pool_alerts_low_then_empty_and_re_arms_when_refilled() -> None:
    rules = AlertRules("L1", pool_thresholds={"outer": 1000})
    assert rules.pool_level("outer", 5000, now=T0) is None
    low = rules.pool_level("outer", 999, now=T0)
    assert low is not None and low.kind is AlertKind.POOL_LOW and low.severity is Severity.WARNING
    assert [low.arg(k) for k in ("level", "remaining", "threshold")] == ["outer", "999", "1000"]
    assert rules.pool_level("outer", 500, now=T0) is None
    empty = rules.pool_level("outer", 0, now=T0)
    assert empty is not None and empty.kind is AlertKind.POOL_EMPTY
    assert rules.pool_level("outer", 0, now=T0) is None
    assert rules.pool_level("outer", 400, now=T0) is None  # still below: no new alert
    assert rules.pool_level("outer", 1000, now=T0) is None  # refilled: re-armed
    assert rules.pool_level("outer", 10, now=T0) is not None
    assert rules.pool_level("case", 0, now=T0) is None  # no threshold for case
    assert rules.pool_level("case", 5, threshold=50, now=T0) is not None


def test_bad_inputs_are_named() -> None:
    rules = AlertRules("L1")
    with pytest.raises(ValueError, match="no time zone"):
        rules.device_fault("x", "y", now=datetime(2026, 1, 1))
    with pytest.raises(ValueError, match="'stopped' or 'running'"):
        rules.line_state("paused", T0)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="stopped_minutes"):
        AlertRules("L1", stopped_minutes=0)


def test_a_cleared_alarm_code_re_arms_the_fault_on_its_device() -> None:
    rules = AlertRules("L1")
    assert rules.device_fault("inkjet", "ink out", code="fault:inkjet", now=T0) is not None
    assert rules.device_fault("inkjet", "ink out", code="fault:inkjet", now=T0) is None
    rules.fault_cleared("fault:inkjet")
    assert rules.device_fault("inkjet", "ink out", code="fault:inkjet", now=T0) is not None


def test_a_refused_unit_alerts_at_once_with_upstream_s_reason_until_it_is_dealt_with() -> None:
    rules = AlertRules("L1", delivery_failures=3)
    alert = rules.delivery_refused("plant", "B9#P2", "HTTP 400: lot unknown", batch="B9", now=T0)
    assert alert is not None and alert.kind is AlertKind.DELIVERY_REFUSED
    assert alert.message == "HTTP 400: lot unknown" and alert.arg("unit") == "B9#P2"
    assert alert.batch == "B9" and alert.device == "plant"
    assert rules.delivery_refused("plant", "B9#P2", "HTTP 400", now=T0) is None  # once
    assert rules.delivery_refused("plant", "B9#P3", "HTTP 400", now=T0) is not None  # per unit
    rules.refusal_cleared("B9#P2")  # IT re-queued it
    assert rules.delivery_refused("plant", "B9#P2", "HTTP 400", now=T0) is not None
