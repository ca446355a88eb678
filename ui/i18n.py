"""Translations: Qt Linguist .ts sources compiled to .qm by pyside6-lrelease, loaded at run time.

English is the source language (no file); Chinese is translations/linestation_zh_CN.qm.
Update after changing UI strings (lupdate wants the files, not the folder), translate the new
entries in the .ts (Qt Linguist or by hand), then compile; tests/ui/test_i18n.py checks all three:
    .venv/bin/pyside6-lupdate $(find ui -name '*.py') -ts ui/translations/linestation_zh_CN.ts \
        -no-obsolete -locations none
    .venv/bin/pyside6-lrelease ui/translations/linestation_zh_CN.ts
Reject reasons come translated from aggregation.reasons.reason_text; alarm texts from ui.alarms.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QCoreApplication, QTranslator
from PySide6.QtGui import QFont, QFontDatabase

TRANSLATIONS = Path(__file__).with_name("translations")
TS_FILE = TRANSLATIONS / "linestation_zh_CN.ts"
QM_FILE = TRANSLATIONS / "linestation_zh_CN.qm"
CJK_FAMILY = "Noto Sans CJK SC"
UI_FAMILIES = [CJK_FAMILY, "DejaVu Sans"]
NUMERAL_FAMILY = "DejaVu Sans"  # tabular digits: counters do not jiggle as they change


def tr(context: str, text: str) -> str:
    """Translate `text` marked with QT_TRANSLATE_NOOP(context, text)."""
    return QCoreApplication.translate(context, text)


class Language:
    """Installs the Chinese translator or removes it; English needs none.

    One translator and one current language per application, shared by every Language object:
    two windows (or a window a test left behind) can never leave a second translator installed.
    """

    _translator: QTranslator | None = None
    _loaded = False
    _current = "en"

    def __init__(self) -> None:
        if Language._translator is None:
            Language._translator = QTranslator()
        self.translator = Language._translator

    @property
    def current(self) -> str:
        """The language in force: 'zh' or 'en'."""
        return Language._current

    def apply(self, lang: str) -> None:
        """Switch the application's language ('zh' or 'en'); widgets then retranslate."""
        app = QCoreApplication.instance()
        if app is None:
            raise RuntimeError("create the QApplication first")
        if lang == Language._current:
            return
        if lang == "zh":
            if not Language._loaded:
                if not self.translator.load(str(QM_FILE)):
                    raise FileNotFoundError(f"{QM_FILE}: run pyside6-lrelease on {TS_FILE.name}")
                Language._loaded = True
            app.installTranslator(self.translator)
        else:
            app.removeTranslator(self.translator)
        Language._current = lang


def ui_font(point_size: int = 14) -> QFont:
    """The UI font with the CJK fallback, so Chinese renders even on the offscreen platform."""
    families = [f for f in UI_FAMILIES if f in QFontDatabase.families()] or [CJK_FAMILY]
    if CJK_FAMILY not in families:
        families.append(CJK_FAMILY)
    font = QFont()
    font.setFamilies(families)
    font.setPointSize(point_size)
    return font
