"""The words of an alert: a small table keyed by alert kind, Chinese first, English after.

A phone shows the first lines of a message in its notification, so each message starts with the
Chinese title and where it happened (line, batch, device), then what happened and what to do in
Chinese, then the same in English. What a driver or upstream said (`Alert.message`) is quoted as
it is in both halves: it is for the technician.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from station.alerts.model import Alert, AlertKind, Severity


@dataclass(frozen=True)
class KindText:
    """Title, sentence and what-to-do of one alert kind, in Chinese and English."""

    title_zh: str
    title_en: str
    text_zh: str
    text_en: str
    hint_zh: str
    hint_en: str


TEXTS: dict[AlertKind, KindText] = {
    AlertKind.DEVICE_FAULT: KindText(
        "设备故障",
        "Device fault",
        "设备 {device} 报告故障",
        "Device {device} reports a fault",
        "到现场检查该设备（电源、线缆、墨水或标签、喷头、光源），排除后在操作屏上清除故障",
        "Check the device on the line (power, cable, ink or labels, head, light), "
        "then clear the fault on the operator screen",
    ),
    AlertKind.LINE_STOPPED: KindText(
        "产线停机超时",
        "Line stopped too long",
        "产线 {line} 已停机超过 {minutes} 分钟（自 {since} 起）",
        "Line {line} has been stopped for more than {minutes} minutes (since {since})",
        "到线上查明停机原因（故障、缺料、等待质检），处理后重新启动",
        "Go to the line and find why it stopped (fault, no material, waiting for QA); "
        "fix it and start the line again",
    ),
    AlertKind.LINE_RESUMED: KindText(
        "产线恢复运行",
        "Line running again",
        "产线 {line} 停机 {minutes} 分钟后已恢复运行",
        "Line {line} is running again after {minutes} minutes stopped",
        "无需处理",
        "Nothing to do",
    ),
    AlertKind.DELIVERY_FAILED: KindText(
        "上传失败",
        "Upstream delivery failed",
        "发往 {target} 的数据已连续失败 {attempts} 次",
        "Data for {target} failed {attempts} times in a row",
        "检查网络与上游平台；数据保留在本地发件箱，恢复后自动重发，不要删除",
        "Check the network and the upstream platform; the data stays in the local outbox "
        "and is sent again when it is back: delete nothing",
    ),
    AlertKind.DELIVERY_REFUSED: KindText(
        "上游拒收",
        "Upstream refused a unit",
        "{target} 拒收了 {unit}，已停止重发；其后的单元在等待",
        "{target} refused {unit}; it is no longer retried and the units after it wait",
        "看上游给出的原因并改正，再用 `station sync retry` 重发该单元；若已用其他方式送达，"
        "用 `station sync mark-delivered` 登记（电子签名）",
        "Read upstream's reason and fix it, then `station sync retry` the unit; if it reached "
        "upstream another way, record it with `station sync mark-delivered` (e-signature)",
    ),
    AlertKind.POOL_LOW: KindText(
        "码池余量不足",
        "Code pool low",
        "{level_zh}码池仅剩 {remaining} 个码，低于 {threshold}",
        "The {level} pool has {remaining} codes left, below {threshold}",
        "尽快导入或生成新码（station codes import / generate），或向品牌方申请码",
        "Import or generate codes soon (station codes import / generate), "
        "or ask the brand for more",
    ),
    AlertKind.POOL_EMPTY: KindText(
        "码池已空",
        "Code pool empty",
        "{level_zh}码池已无可用码，产线将停止",
        "The {level} pool has no codes left: the line will stop",
        "立即导入或生成新码（station codes import / generate），然后重新启动产线",
        "Import or generate codes now (station codes import / generate), then start the line again",
    ),
    AlertKind.TEST: KindText(
        "测试消息",
        "Test message",
        "这是产线 {line} 的测试告警，收到即表示推送通道正常",
        "This is a test alert from line {line}: if it arrived, the channel works",
        "无需处理",
        "Nothing to do",
    ),
}

SEVERITY_ZH = {Severity.INFO: "通知", Severity.WARNING: "警告", Severity.CRITICAL: "严重"}
SEVERITY_EN = {Severity.INFO: "Info", Severity.WARNING: "Warning", Severity.CRITICAL: "Critical"}

# The levels of DESIGN.md; a level a line names otherwise shows as its key.
LEVEL_ZH = {"inner": "盖内码", "outer": "盖外码", "box": "盒码", "case": "箱码", "pallet": "垛码"}

DETAIL_MAX_CHARS = 300


class _Blank(dict):
    """Placeholder values; a missing one shows as '?' rather than failing the alert."""

    def __missing__(self, key: str) -> str:
        return "?"


def _values(alert: Alert) -> _Blank:
    level = alert.arg("level")
    return _Blank(
        line=alert.line,
        batch=alert.batch or "-",
        device=alert.device or "-",
        level_zh=LEVEL_ZH.get(level, level),
        **dict(alert.args),
    )


def _clip(text: str, limit: int = DETAIL_MAX_CHARS) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _stamp(at: datetime) -> str:
    return at.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def title(alert: Alert) -> str:
    """One line: severity and kind in both languages, e.g. `【严重】设备故障 · Device fault`."""
    t = TEXTS[alert.kind]
    return f"【{SEVERITY_ZH[alert.severity]}】{t.title_zh} · {t.title_en}"


def where(alert: Alert) -> str:
    """Line, batch and device, both languages in one line."""
    return (
        f"产线 Line: {alert.line} | 批次 Batch: {alert.batch or '-'}"
        f" | 设备 Device: {alert.device or '-'}"
    )


def body(alert: Alert, clip: int = DETAIL_MAX_CHARS) -> str:
    """The full text of one alert: where, then Chinese, then English, then when (UTC).

    What the source said (`message`, `hint`) is cut to `clip` characters.
    """
    t, v = TEXTS[alert.kind], _values(alert)
    detail = f"：{_clip(alert.message, clip)}" if alert.message else ""
    detail_en = f": {_clip(alert.message, clip)}" if alert.message else ""
    hint_zh = t.hint_zh + (f"（设备提示：{_clip(alert.hint, clip)}）" if alert.hint else "")
    hint_en = f"{_clip(alert.hint, clip)}. {t.hint_en}" if alert.hint else t.hint_en
    return "\n".join(
        [
            where(alert),
            t.text_zh.format_map(v) + detail,
            f"处理：{hint_zh}",
            t.text_en.format_map(v) + detail_en,
            f"What to do: {hint_en}",
            _stamp(alert.at),
        ]
    )


def fitted(alert: Alert, budget_bytes: int) -> tuple[str, str]:
    """(title, body) of one alert within `budget_bytes` (UTF-8, title included): a long detail
    from the source is cut shorter until it fits (a WeCom robot takes 2,048 bytes)."""
    head = title(alert)
    for clip in (DETAIL_MAX_CHARS, 120, 40, 10):
        text = body(alert, clip)
        if len(head.encode()) + 2 + len(text.encode()) <= budget_bytes:
            return head, text
    room = max(0, budget_bytes - len(head.encode()) - 2 - 3)
    return head, text.encode()[:room].decode(errors="ignore") + "…"


def digest_line(alert: Alert) -> str:
    """One alert in one line of a digest: time, kind in both languages, batch, device, detail."""
    t = TEXTS[alert.kind]
    parts = [
        alert.at.astimezone(UTC).strftime("%H:%M:%S"),
        f"{t.title_zh} {t.title_en}",
        f"{alert.line}/{alert.batch or '-'}/{alert.device or '-'}",
    ]
    text = t.text_en.format_map(_values(alert))
    if alert.message:
        text += f": {alert.message}"
    parts.append(_clip(text, 120))
    return " · ".join(parts)


def digest(alerts: list[Alert], budget_bytes: int, waiting_after: int = 0) -> tuple[str, str, int]:
    """A digest of the first alerts that fit `budget_bytes` (UTF-8, title included).

    Returns (title, body, n): the first n alerts are in the body, always at least one (a digest line
    is at most a few hundred bytes). `waiting_after` counts alerts beyond this list still waiting.
    """
    first, last = alerts[0].at, alerts[-1].at
    minutes = max(1, round((last - first).total_seconds() / 60 + 0.49))
    worst = max(
        (a.severity for a in alerts), key=[Severity.INFO, Severity.WARNING, Severity.CRITICAL].index
    )
    head_zh = f"【{SEVERITY_ZH[worst]}】告警汇总"
    fixed = [
        "处理：逐条到现场查看；详情见操作屏的报警列表",
        "What to do: check each on the line; the operator screen lists the details",
    ]

    def compose(n: int) -> tuple[str, str]:
        rest = len(alerts) - n + waiting_after
        head = (
            f"{head_zh}：过去 {minutes} 分钟另有 {n} 条告警 · "
            f"{n} more alert{'s' if n != 1 else ''} in the last {minutes} min"
        )
        lines = [f"{i}. {digest_line(a)}" for i, a in enumerate(alerts[:n], 1)]
        if rest:
            lines.append(f"（另有 {rest} 条稍后发送 · {rest} more follow）")
        return head, "\n".join([*lines, *fixed])

    def size(n: int) -> int:
        head, text = compose(n)
        return len(head.encode()) + 2 + len(text.encode())

    n = 1
    while n < len(alerts) and size(n + 1) <= budget_bytes:
        n += 1
    head, text = compose(n)
    return head, text, n
