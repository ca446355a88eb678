"""Every screen at 1280×800 and 1920×1080, both languages: touch targets ≥ 48 px, no cut text."""

from __future__ import annotations

import pytest
from PySide6.QtWidgets import (
    QAbstractButton,
    QApplication,
    QComboBox,
    QLabel,
    QLineEdit,
    QTableWidget,
)

from .conftest import login

MIN_TOUCH_PX = 48
ELIDED: set = set()  # (table, column) where a long text may end in "…" (its tooltip has it all)


def problems(w) -> list[str]:
    """Visible controls smaller than a finger, and single-line texts wider than their widget."""
    out = []
    for c in (
        w.findChildren(QAbstractButton) + w.findChildren(QLineEdit) + w.findChildren(QComboBox)
    ):
        if (
            c.isVisible()
            and c.height() < MIN_TOUCH_PX
            and c.metaObject().className() != "QCheckBox"
        ):
            out.append(f"small {c.metaObject().className()} {getattr(c, 'text', lambda: '')()!r}")
    for c in w.findChildren(QAbstractButton) + w.findChildren(QLabel):
        if not c.isVisible() or not c.text() or (isinstance(c, QLabel) and c.wordWrap()):
            continue
        need = max(c.fontMetrics().horizontalAdvance(t) for t in c.text().split("\n"))
        room = c.contentsRect().width() - (16 if isinstance(c, QAbstractButton) else 0)
        if need > room + 1:
            out.append(f"cut {c.text()!r}: needs {need}px, has {room}px")
    for c in w.findChildren(QComboBox):
        if c.isVisible() and c.currentText():
            need = c.fontMetrics().horizontalAdvance(c.currentText())
            if need > c.width() - 70:  # the drop-down button and the frame
                out.append(f"cut combo {c.currentText()!r}: needs {need}px, has {c.width() - 70}")
    for t in w.findChildren(QTableWidget):
        if not t.isVisible():
            continue
        fm = t.fontMetrics()
        for row in range(t.rowCount()):
            for col in range(t.columnCount()):
                item = t.item(row, col)
                if item is None or (t, col) in ELIDED:
                    continue
                need = max(fm.horizontalAdvance(x) for x in item.text().split("\n")) + 4
                if need > t.columnWidth(col):
                    out.append(
                        f"cut cell {item.text()!r}: needs {need}px, has {t.columnWidth(col)}"
                    )
    return out


@pytest.mark.parametrize("size", [(1280, 800), (1920, 1080)])
def test_screens_fit_both_languages(qtbot, window, size) -> None:
    w = window
    w.resize(*size)
    ELIDED.clear()
    ELIDED.add((w.screens["it"].outbox, 4))  # upstream's answer: a path or a server message
    ELIDED.add((w.screens["operator"].reads, 4))  # a reject's reason (tooltip, alarm line)
    login(qtbot, w, "ada")  # the admin sees every screen
    found = []
    for lang in ("en", "zh"):
        w.session.set_language(lang)
        for screen in ("operator", "collect", "orders", "qa", "it"):
            w.show_screen(screen)
            qtbot.waitUntil(lambda: w.tasks.idle, timeout=5000)
            QApplication.processEvents()
            found += [f"{lang} {screen}: {p}" for p in problems(w)]
    w.session.logout()
    QApplication.processEvents()
    found += [f"login: {p}" for p in problems(w)]
    assert not found, "\n".join(found)
