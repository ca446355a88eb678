"""Alarm texts: every alarm the runner raises reads in Chinese and English on the banner."""

from __future__ import annotations

import ast
import re
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from station.events import Alarm
from ui.alarms import CONTEXT, PLACEHOLDER, TEMPLATES, alarm_text
from ui.i18n import TS_FILE

ROOT = Path(__file__).resolve().parents[2]
RUNNER = sorted((ROOT / "station" / "line").glob("*.py"))
CJK = re.compile(r"[\u4e00-\u9fff]")
DETAIL = "inkjet at socket://127.0.0.1:9100: no answer in 2.0 s"


def _strings(node: ast.expr | None) -> list[str]:
    """The string constants a key expression can take ("a" if x else "b" gives both)."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return [node.value]
    if isinstance(node, ast.IfExp):
        return _strings(node.body) + _strings(node.orelse)
    return []


def _arg_names(node: ast.expr | None) -> set[str]:
    """The names in an args literal: (("seq", ...), ("detail", ...))."""
    if not isinstance(node, ast.Tuple):
        return set()
    return {
        e.elts[0].value
        for e in node.elts
        if isinstance(e, ast.Tuple) and e.elts and isinstance(e.elts[0], ast.Constant)
    }


def raised_keys() -> dict[str, set[str]]:
    """Every Alarm(...) and _fault(...) in the runner's source → {key: arg names}; '' = no key."""
    found: dict[str, set[str]] = {}
    for path in RUNNER:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(node, ast.Call):
                continue
            f = node.func
            callee = f.id if isinstance(f, ast.Name) else getattr(f, "attr", "")
            if callee not in ("Alarm", "_fault"):
                continue
            kw = {k.arg: k.value for k in node.keywords}
            pos = 3 if callee == "_fault" else 5  # key's position after device, message, action
            key = kw.get("key", node.args[pos] if len(node.args) > pos else None)
            args = kw.get("args", node.args[pos + 1] if len(node.args) > pos + 1 else None)
            if isinstance(key, ast.Name):
                continue  # the Alarm that _fault builds from its own parameters
            for k in _strings(key) or [""]:
                found.setdefault(k, set()).update(_arg_names(args))
    return found


def ts_translations() -> dict[str, str]:
    """Source → Chinese of the finished entries of the Alarms context."""
    out = {}
    for c in ET.parse(TS_FILE).getroot().iter("context"):
        if c.findtext("name") != CONTEXT:
            continue
        for m in c.iter("message"):
            tr = m.find("translation")
            if tr is not None and tr.get("type") is None and tr.text:
                out[m.findtext("source") or ""] = tr.text
    return out


def test_every_alarm_the_runner_raises_has_a_key_and_both_languages() -> None:
    raised = raised_keys()
    assert "" not in raised, "an Alarm or _fault(...) in the runner has no key"
    assert {"late_decision", "printer_fault", "not_a_case_code"} <= set(raised)
    assert set(raised) <= set(TEMPLATES), set(raised) - set(TEMPLATES)
    zh = ts_translations()
    for key, names in raised.items():
        for template in TEMPLATES[key]:
            assert CJK.search(zh.get(template, "")), (key, template)
            wanted = set(PLACEHOLDER.findall(template))
            assert set(PLACEHOLDER.findall(zh[template])) == wanted, (key, zh[template])
            assert wanted <= names, (key, wanted - names)  # the runner supplies every value


@pytest.fixture
def banner(qtbot, station):
    """The operator screen's alarm banner on a real (idle) line's view model."""
    from ui.app import make_app
    from ui.i18n import Language
    from ui.viewmodels.line import LineViewModel
    from ui.widgets.operator import AlarmBanner

    make_app()
    line = LineViewModel(station.controller)
    b = AlarmBanner(line)
    qtbot.addWidget(b)
    lang = Language()
    yield line, b, lang
    lang.apply("en")


LATE = Alarm(
    "late",
    "line",
    "item 42: no decision before its deadline",
    "slow the line or check the camera",
    "warning",
    key="late_decision",
    args=(("seq", "42"),),
)
PRINTER = Alarm(
    "fault:inkjet",
    "inkjet",
    DETAIL,
    "check the printer (ink, head, cable), then clear the fault",
    key="printer_fault",
    args=(("detail", DETAIL),),
)


def test_banner_shows_chinese_message_and_action(banner) -> None:
    line, b, lang = banner
    lang.apply("zh")
    b.retranslate()
    line.on_alarm_raised(LATE)
    text = b.text.text()
    assert "第 42 件产品未能在期限前判定" in text and "请降低线速或检查相机" in text
    assert "deadline" not in text and "slow" not in text
    line.on_alarm_raised(PRINTER)  # a fault goes before a warning
    text = b.text.text()
    assert text.startswith("故障: 喷码机 — 喷码机停止响应")
    assert "检查喷码机（墨水、喷头、线缆）后清除故障" in text
    # What the driver said stays, labelled as its own words, for the technician.
    assert text.endswith(" — 设备原文: " + DETAIL.removeprefix("inkjet at ")), text
    assert b.current == "fault:inkjet"


def test_banner_in_english_and_unknown_keys_fall_back(banner) -> None:
    line, b, lang = banner
    lang.apply("en")
    b.retranslate()
    line.on_alarm_raised(LATE)
    assert b.text.text() == (
        "Decision too late — Item 42 was not decided before its deadline: rejected"
        " → Slow the line or check the camera"
    )
    old = Alarm("x", "plc", "no answer", "check the cable", "warning", key="not_a_key")
    assert alarm_text(old).line() == "PLC — no answer → check the cable"
    lang.apply("zh")
    case = Alarm(
        "pallet_case",
        "pallet_reader",
        "case C1 is rejected",
        "take the case off for QA",
        "warning",
        key="case_in_wrong_state",
        args=(("code", "C1"), ("state", "rejected"), ("pallet", "")),
    )
    t = alarm_text(case)
    assert t.message == "箱 C1 状态为“已剔除”，不能上垛" and t.action == "请取下该箱交质检处理"
