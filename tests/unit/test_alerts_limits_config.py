"""The per-target rate window, the [alerts] config section and target URLs."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from station.alerts import AlertsConfig, TargetError, build, open_target
from station.alerts.limiter import SendWindow
from station.alerts.robots import CheckedDingTalk, CheckedWeComBot
from station.alerts.targets import masked


def test_the_window_never_allows_more_than_the_limit_in_any_window() -> None:
    w = SendWindow(3, 60.0)
    sends = []
    t = 0.0
    while t < 300:
        if w.tokens(t):
            w.take(t)
            sends.append(t)
        t += 0.5
    assert all(sum(1 for s in sends if a <= s < a + 60) <= 3 for a in sends)
    assert sends[:4] == [0.0, 0.0, 0.0, 60.0] or sends[:3] == [0.0, 0.5, 1.0]
    assert len(sends) == 15  # 3 per minute for 5 minutes


def test_the_window_says_when_a_token_returns() -> None:
    w = SendWindow(2, 60.0)
    w.take(10.0)
    w.take(20.0)
    assert w.tokens(30.0) == 0 and w.wait_s(30.0) == pytest.approx(40.0)
    assert w.tokens(70.0) == 1 and w.wait_s(70.0) == 0.0
    with pytest.raises(ValueError, match="per-minute limit"):
        SendWindow(0)


def test_config_takes_the_documented_schemes() -> None:
    cfg = AlertsConfig(
        targets=(
            "wecombot://693axxx6-7aoc-4bc4-97a0-0ec2sifa5aaa",
            "dingtalk://SECabc123@token123/",
            "json://127.0.0.1:8080/alerts",
            "mailto://user:pw@smtp.example.com?to=ops@example.com",
        ),
        per_minute=18,
        stopped_minutes=15,
        pool_thresholds={"outer": 20000, "case": 500},
    )
    rules, notifier = build(cfg, "L4")
    try:
        assert rules.line == "L4" and rules.stopped_minutes == 15
        assert rules.pool_thresholds == {"outer": 20000, "case": 500}
        assert [s.target.split(":")[0] for s in notifier.status()] == [
            "wecombot", "dingtalk", "json", "mailto",
        ]  # fmt: skip
    finally:
        assert notifier.close(timeout_s=5)


def test_a_bad_target_names_the_key_hides_the_secret_and_says_what_to_use() -> None:
    with pytest.raises(ValidationError) as err:
        AlertsConfig(targets=("json://127.0.0.1/x", "qiyeweixin://s3cr3tkey"))
    [error] = err.value.errors()  # the station's config errors show the message, not the input
    assert error["msg"].startswith(
        "Value error, alerts.targets[1]: qiyeweixin://s3… is not an Apprise"
    )
    assert "wecombot://BOTKEY" in error["msg"] and "s3cr3t" not in error["msg"]
    with pytest.raises(TargetError) as err2:
        open_target("wecombot://bad-s3cr3t-key!", "alerts.targets[0]")
    assert str(err2.value).startswith("alerts.targets[0]: wecombot://ba… is not usable: ")
    assert "s3cr3t" not in str(err2.value)


def test_config_rejects_unknown_keys_and_bad_numbers() -> None:
    with pytest.raises(ValidationError, match="per_mintue"):
        AlertsConfig(per_mintue=5)  # type: ignore[call-arg]
    with pytest.raises(ValidationError, match=r"pool_thresholds.case is 0"):
        AlertsConfig(pool_thresholds={"case": 0})
    with pytest.raises(ValidationError, match="per_minute"):
        AlertsConfig(per_minute=0)


def test_masked_urls_keep_no_secret() -> None:
    assert masked("wecombot://693axxx6-7aoc") == "wecombot://69…"
    assert masked("mailto://user:pw@smtp.example.com?to=a@b") == "mailto://smtp.example.com"
    assert masked("dingtalk://SECabc@tok/") == "dingtalk://to…"
    assert masked("json://127.0.0.1:8080/x") == "json://127.0.0.1:8080"
    assert (
        masked("https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=K")
        == "https://qyapi.weixin.qq.com"
    )


def test_robots_get_the_twins_that_read_the_robots_answer() -> None:
    key = "693axxx6-7aoc-4bc4-97a0-0ec2sifa5aaa"
    for url in (
        f"wecombot://{key}",
        f"https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key={key}",  # as the robot shows it
    ):
        plugin = open_target(url)
        assert isinstance(plugin, CheckedWeComBot) and plugin.key == key
        assert plugin.request_rate_per_sec == 0  # the notifier's window is the one limit
    signed = open_target("dingtalk://SEC0123abcd@token123/13800138000")
    assert isinstance(signed, CheckedDingTalk)
    assert (signed.secret, signed.token, signed.targets) == (
        "SEC0123abcd",
        "token123",
        ["13800138000"],
    )
    assert type(open_target("json://127.0.0.1:8080/x")).__name__ == "NotifyJSON"


def test_a_wecom_robot_message_budget_is_its_2048_bytes() -> None:
    from station.alerts.targets import body_budget

    assert body_budget(open_target("wecombot://abc123")) == 2048
    assert body_budget(open_target("dingtalk://token123/")) == 4000  # our cap: short digests
