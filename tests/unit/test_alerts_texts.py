"""Alert texts: every kind reads in Chinese first, then English, naming where and what to do."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest

from station.alerts import Alert, AlertKind, AlertRules, Severity, texts

CJK = re.compile(r"[\u4e00-\u9fff]")
T0 = datetime(2026, 12, 7, 8, 0, tzinfo=UTC)


def _one_of_each() -> list[Alert]:
    rules = AlertRules("L1", stopped_minutes=5, delivery_failures=1)
    rules.batch_started("B2611")
    stop = [rules.line_state("stopped", T0), rules.line_state("stopped", T0 + timedelta(minutes=6))]
    alerts = [
        rules.device_fault("inkjet_1", "ink out", hint="refill the ink", now=T0),
        stop[1],
        rules.line_state("running", T0 + timedelta(minutes=9)),
        rules.delivery_failed("plant-epcis", "HTTP 503", 1, now=T0),
        rules.pool_level("outer", 12, 100, now=T0),
        rules.pool_level("outer", 0, 100, now=T0),
        rules.delivery_refused("plant-epcis", "B2611#P2", "HTTP 400: bad lot", now=T0),
    ]
    assert stop[0] is None and all(alerts)
    return alerts  # type: ignore[return-value]


def test_the_table_covers_every_kind_in_both_languages() -> None:
    assert set(texts.TEXTS) == set(AlertKind)
    for kind, t in texts.TEXTS.items():
        for zh in (t.title_zh, t.text_zh, t.hint_zh):
            assert CJK.search(zh), (kind, zh)
        for en in (t.title_en, t.text_en, t.hint_en):
            assert not CJK.search(en), (kind, en)


@pytest.mark.parametrize("alert", _one_of_each(), ids=lambda a: a.kind.value)
def test_every_alert_names_line_batch_device_and_what_to_do(alert: Alert) -> None:
    head, body = texts.title(alert), texts.body(alert)
    t = texts.TEXTS[alert.kind]
    assert head.index(t.title_zh) < head.index(t.title_en)
    lines = body.splitlines()
    assert lines[0].startswith("产线 Line: L1 | 批次 Batch: B2611 | 设备 Device: ")
    assert CJK.search(lines[1]) and lines[2].startswith("处理：")
    assert not CJK.search(lines[3]) and lines[4].startswith("What to do: ")
    assert "?" not in body and "{" not in body, body  # every placeholder filled
    assert lines[-1].endswith("UTC")


def test_a_device_fault_reads_as_an_operator_would_want_it() -> None:
    alert = _one_of_each()[0]
    assert texts.title(alert) == "【严重】设备故障 · Device fault"
    assert texts.body(alert).splitlines()[1:5] == [
        "设备 inkjet_1 报告故障：ink out",
        "处理：到现场检查该设备（电源、线缆、墨水或标签、喷头、光源），排除后在操作屏上清除故障"
        "（设备提示：refill the ink）",
        "Device inkjet_1 reports a fault: ink out",
        "What to do: refill the ink. Check the device on the line (power, cable, ink or labels, "
        "head, light), then clear the fault on the operator screen",
    ]


def test_a_pool_alert_names_the_level_in_chinese() -> None:
    low = _one_of_each()[4]
    assert "盖外码码池仅剩 12 个码，低于 100" in texts.body(low)
    custom = Alert(AlertKind.POOL_LOW, Severity.WARNING, "L1", args=(("level", "sachet"),))
    assert "sachet码池" in texts.body(custom)


def test_a_digest_fits_its_budget_and_says_what_follows() -> None:
    alerts = [
        Alert(AlertKind.DEVICE_FAULT, Severity.WARNING, "L1", "B1", f"cam{i:02d}", "no frame",
              at=T0 + timedelta(seconds=i))
        for i in range(40)
    ]  # fmt: skip
    head, body, n = texts.digest(alerts, 2048, waiting_after=5)
    assert 1 < n < 40
    assert len(head.encode()) + 2 + len(body.encode()) <= 2048
    assert head == (
        f"【警告】告警汇总：过去 1 分钟另有 {n} 条告警 · {n} more alerts in the last 1 min"
    )
    assert f"（另有 {40 - n + 5} 条稍后发送 · {40 - n + 5} more follow）" in body
    assert body.splitlines()[0] == "1. 08:00:00 · 设备故障 Device fault · L1/B1/cam00 · " + (
        "Device cam00 reports a fault: no frame"
    )
    assert "处理：" in body and "What to do:" in body
    _, body_all, n_all = texts.digest(alerts[:3], 4000)
    assert n_all == 3 and "稍后" not in body_all


def test_a_long_detail_is_cut_to_fit_a_wecom_robot() -> None:
    what = "喷头温度异常，" * 200  # 1,400 Chinese characters: 4,200 bytes
    alert = Alert(AlertKind.DEVICE_FAULT, Severity.CRITICAL, "L1", "B1", "inkjet_1", what,
                  hint="请联系设备供应商" * 50, at=T0)  # fmt: skip
    head, body = texts.fitted(alert, 2048)
    assert len(head.encode()) + 2 + len(body.encode()) <= 2048
    lines = body.splitlines()
    assert lines[0].endswith("设备 Device: inkjet_1") and lines[2].startswith("处理：")
    assert lines[4].startswith("What to do: ") and lines[-1].endswith("UTC")
