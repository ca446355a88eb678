"""Translations: every UI string has finished Chinese, the .qm is current, CJK renders."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from ui.i18n import QM_FILE, TS_FILE

UI = Path(__file__).resolve().parents[2] / "ui"
BIN = Path(sys.executable).parent
CJK = re.compile(r"[\u4e00-\u9fff]")
SAME_IN_CHINESE = {"PLC"}  # words Chinese plants write as they are


def messages(ts: Path) -> dict[tuple[str, str], ET.Element]:
    """(context, source) → the <message> element."""
    root = ET.parse(ts).getroot()
    return {
        (c.findtext("name") or "", m.findtext("source") or ""): m
        for c in root.iter("context")
        for m in c.iter("message")
    }


def text_of(m: ET.Element) -> str:
    tr = m.find("translation")
    assert tr is not None
    forms = [n.text or "" for n in tr.findall("numerusform")]
    return " ".join(forms) if forms else (tr.text or "")


def test_every_string_has_a_finished_chinese_translation() -> None:
    msgs = messages(TS_FILE)
    assert len(msgs) > 150
    bad = []
    for key, m in msgs.items():
        tr = m.find("translation")
        zh = text_of(m)
        finished = tr is not None and tr.get("type") not in ("unfinished", "obsolete", "vanished")
        chinese = key[1] in SAME_IN_CHINESE or bool(CJK.search(zh))
        same_placeholders = key[1].count("%") == zh.count("%")
        if not (finished and zh and chinese and same_placeholders):
            bad.append(key)
    assert bad == []


@pytest.mark.skipif(not (BIN / "pyside6-lupdate").exists(), reason="no pyside6-lupdate")
def test_sources_have_no_string_missing_from_the_ts(tmp_path: Path) -> None:
    ts = tmp_path / "fresh.ts"
    sources = sorted(str(p) for p in UI.rglob("*.py"))
    subprocess.run(
        [str(BIN / "pyside6-lupdate"), *sources, "-ts", str(ts), "-locations", "none"],
        check=True,
        capture_output=True,
        timeout=60,
    )
    assert set(messages(ts)) <= set(messages(TS_FILE))


@pytest.mark.skipif(not (BIN / "pyside6-lrelease").exists(), reason="no pyside6-lrelease")
def test_shipped_qm_is_compiled_from_the_ts(tmp_path: Path) -> None:
    shutil.copy(TS_FILE, tmp_path / "x.ts")
    subprocess.run(
        [str(BIN / "pyside6-lrelease"), str(tmp_path / "x.ts"), "-qm", str(tmp_path / "x.qm")],
        check=True,
        capture_output=True,
        timeout=60,
    )
    assert (tmp_path / "x.qm").read_bytes() == QM_FILE.read_bytes()


def test_translator_switches_at_run_time(qapp) -> None:
    from PySide6.QtCore import QCoreApplication

    from ui.i18n import Language
    from ui.names import name

    lang = Language()
    lang.apply("zh")
    try:
        assert QCoreApplication.translate("OperatorScreen", "Close batch") == "关闭批次"
        assert name("decommission") == "注销" and name("running") == "运行中"
    finally:
        lang.apply("en")
    assert name("decommission") == "Decommission"


def test_chinese_renders_with_the_cjk_font(qapp) -> None:
    from PySide6.QtGui import QFontMetrics

    from ui.i18n import CJK_FAMILY, ui_font

    font = ui_font(14)
    assert CJK_FAMILY in font.families()
    assert QFontMetrics(font).inFontUcs4(ord("箱"))
