"""Alerts reach a robot endpoint through Apprise: once, naming the device, rate-limited, retried."""

from __future__ import annotations

import re
from datetime import UTC, datetime

from station.alerts import AlertRules, AlertsConfig, Notifier, open_target, send_test

WHEN = datetime(2026, 12, 7, 9, 30, tzinfo=UTC)
KEY = "693axxx6-7aoc-4bc4-97a0-0ec2sifa5aaa"


def _fault(rules: AlertRules, device: str, what: str = "ink out", code: str = "printer_fault"):
    return rules.device_fault(device, what, code=code, hint="refill the ink cartridge", now=WHEN)


def _wecom(port: int):
    """Apprise's real WeCom robot plugin, its endpoint moved from qyapi.weixin.qq.com to here.

    Apprise has no URL option for another host (the plugin formats a fixed https address), so the
    test sets the one attribute the plugin posts to; payload and checks are the plugin's own.
    """
    plugin = open_target(f"wecombot://{KEY}")
    plugin.api_url = f"http://127.0.0.1:{port}/cgi-bin/webhook/send?key={KEY}"
    return plugin


def test_one_fault_gives_one_alert_naming_line_batch_and_device(make_robot) -> None:
    robot = make_robot()
    rules = AlertRules("L1")
    rules.batch_started("B2611")
    notifier = Notifier([f"json://127.0.0.1:{robot.port}/hook"])
    try:
        notifier.notify(_fault(rules, "inkjet_1"))
        notifier.notify(_fault(rules, "inkjet_1", what="ink out (again)"))  # same fault: nothing
        assert robot.wait_for(lambda: len(robot.received) >= 1)
    finally:
        assert notifier.close()
    [text] = robot.texts()
    assert "inkjet_1" in text and "L1" in text and "B2611" in text
    assert "处理" in text and "What to do" in text and "refill the ink cartridge" in text
    assert text.index("设备故障") < text.index("Device fault")
    assert robot.received[0].payload["type"] == "failure"


def test_wecom_robot_gets_a_text_message_within_its_limits(make_robot) -> None:
    robot = make_robot()
    rules = AlertRules("L2")
    notifier = Notifier([_wecom(robot.port)])
    try:
        notifier.notify(rules.pool_level("outer", 120, 5000, now=WHEN))
        assert robot.wait_for(lambda: len(robot.received) >= 1)
    finally:
        assert notifier.close()
    [msg] = robot.received
    assert msg.query["key"] == KEY
    assert msg.text.startswith("【警告】码池余量不足 · Code pool low")
    assert "盖外码码池仅剩 120 个码" in msg.text and "The outer pool has 120 codes left" in msg.text
    assert robot.refused == []


def test_dingtalk_robot_with_signing_gets_the_alert(make_robot) -> None:
    secret = "SEC0123456789abcdef0123456789abcdef"
    robot = make_robot(dingtalk_secret=secret)
    plugin = open_target(f"dingtalk://{secret}@abcdef0123456789/")
    # As for WeCom: Apprise formats a fixed https://oapi.dingtalk.com address; moved here.
    plugin.notify_url = f"http://127.0.0.1:{robot.port}/robot/send?access_token={{token}}"
    rules = AlertRules("L3", delivery_failures=2)
    notifier = Notifier([plugin])
    try:
        assert rules.delivery_failed("plant-epcis", "HTTP 503", 1, now=WHEN) is None
        notifier.notify(rules.delivery_failed("plant-epcis", "HTTP 503", 2, now=WHEN))
        assert robot.wait_for(lambda: len(robot.received) + len(robot.refused) >= 1)
    finally:
        notifier.close(timeout_s=2)
    assert robot.refused == [], robot.refused
    [msg] = robot.received
    assert msg.query["access_token"] == "abcdef0123456789"
    assert "上传失败" in msg.text and "plant-epcis" in msg.text and "HTTP 503" in msg.text


def test_a_burst_of_50_faults_keeps_the_robot_limit_and_loses_none(make_robot, clock) -> None:
    robot = make_robot(clock=clock)
    rules = AlertRules("L1")
    rules.batch_started("B7")
    notifier = Notifier([_wecom(robot.port)], per_minute=20, clock=clock)
    devices = [f"cam{i:02d}" for i in range(50)]
    try:
        for device in devices:
            notifier.notify(_fault(rules, device, what=f"no frame from {device}"))
        # The clock stands still: 20 go alone, 30 are held for a digest when a token returns.
        assert robot.wait_for(lambda: notifier.status()[0].held == 30), notifier.status()
        assert len(robot.received) == 20
        clock.advance(61.0)
        assert robot.wait_for(lambda: notifier.status()[0].alerts_delivered == 50)
        assert notifier.idle()
    finally:
        assert notifier.close()
    assert robot.refused == [], robot.refused
    texts = robot.texts()
    digests = [t for t in texts if "告警汇总" in t]
    assert len(texts) == 20 + len(digests) and 1 <= len(digests) < 20
    for device in devices:  # every device in exactly one message
        hits = [t for t in texts if re.search(rf"\b{device}\b", t)]
        assert len(hits) == 1, (device, hits)
    assert all(len(t.encode()) <= 2048 for t in texts)
    assert "more alerts in the last" in digests[0] and digests[0].startswith("【严重】告警汇总")
    stamps = [r.at for r in robot.received]
    assert all(sum(1 for s in stamps if t <= s < t + 60) <= 20 for t in stamps)


def test_a_500_then_200_delivers_the_alert_once(make_robot) -> None:
    robot = make_robot()
    robot.statuses.extend([500])
    rules = AlertRules("L1")
    notifier = Notifier([f"json://127.0.0.1:{robot.port}/hook"], retry_first_s=0.2)
    try:
        notifier.notify(_fault(rules, "labeler_case"))
        assert robot.wait_for(lambda: len(robot.received) >= 1)
    finally:
        assert notifier.close()
    assert robot.attempts == 2
    [text] = robot.texts()
    assert "labeler_case" in text
    [status] = notifier.status()
    assert (status.messages_sent, status.alerts_delivered, status.failed_sends) == (1, 1, 1)


def test_a_robot_refusal_in_errcode_is_retried_not_taken_as_delivered(make_robot) -> None:
    robot = make_robot()
    robot.errcodes.extend([45009])  # WeCom: api freq out of limit, with HTTP 200
    rules = AlertRules("L1")
    notifier = Notifier([_wecom(robot.port)], retry_first_s=0.2)
    try:
        notifier.notify(_fault(rules, "verify_camera"))
        assert robot.wait_for(lambda: len(robot.received) >= 1)
    finally:
        assert notifier.close()
    assert robot.attempts == 2 and robot.refused == [("/cgi-bin/webhook/send", "scripted refusal")]
    [status] = notifier.status()
    assert status.failed_sends == 1 and status.alerts_delivered == 1
    assert "errcode 45009" in status.last_error


def test_a_wrong_robot_key_shows_in_the_status_and_never_raises(make_robot) -> None:
    robot = make_robot()
    robot.errcodes.extend([93000] * 100)  # WeCom: invalid webhook url (a wrong key)
    rules = AlertRules("L1")
    notifier = Notifier([_wecom(robot.port)], retry_first_s=0.05, retry_max_s=0.1)
    notifier.notify(_fault(rules, "inkjet_1"))
    assert robot.wait_for(lambda: robot.attempts >= 3)
    [status] = notifier.status()
    assert status.alerts_delivered == 0 and status.failed_sends >= 2 and status.held == 1
    assert "WeCom robot refused the message: HTTP 200, errcode 93000" in status.last_error
    assert notifier.close(timeout_s=0.5) is False


def test_close_sends_what_waits_and_counts_what_the_limit_held_back(make_robot, clock) -> None:
    robot = make_robot(clock=clock)
    rules = AlertRules("L1")
    notifier = Notifier([f"json://127.0.0.1:{robot.port}/hook"], per_minute=2, clock=clock)
    for device in ("a1", "a2", "a3", "a4", "a5"):
        notifier.notify(_fault(rules, device))
    # The clock stands still: two alone, the other three wait for a token that never returns.
    assert robot.wait_for(lambda: notifier.status()[0].held == 3)
    assert notifier.close(timeout_s=1.0) is False
    assert len(robot.received) == 2 and notifier.status()[0].waiting == 3
    notifier.notify(_fault(rules, "a6"))  # after close: logged, not sent, not raised


def test_close_flushes_alerts_just_queued(make_robot) -> None:
    robot = make_robot()
    rules = AlertRules("L1")
    notifier = Notifier([f"json://127.0.0.1:{robot.port}/hook"])
    for device in ("b1", "b2", "b3"):
        notifier.notify(_fault(rules, device))
    assert notifier.close(timeout_s=30)
    joined = "\n".join(robot.texts())
    assert all(d in joined for d in ("b1", "b2", "b3"))


def test_send_test_reports_per_target_what_arrived(make_robot) -> None:
    robot = make_robot()
    cfg = AlertsConfig(targets=(f"json://127.0.0.1:{robot.port}/hook", "json://127.0.0.1:9/x"))
    ok, down = send_test(cfg, "L5", timeout_s=3)
    assert ok.alerts_delivered == 1 and "测试消息" in robot.texts()[0] and "L5" in robot.texts()[0]
    assert down.alerts_delivered == 0 and down.failed_sends >= 1 and down.waiting == 1
