"""Small building blocks: counters with large numerals, status lights, labelled values."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QSize, Qt
from PySide6.QtGui import QColor, QFont, QPainter, QPen
from PySide6.QtWidgets import QFrame, QLabel, QPushButton, QVBoxLayout, QWidget

from ui import style
from ui.i18n import NUMERAL_FAMILY


def label(text: str = "", name: str = "", *, wrap: bool = False) -> QLabel:
    """A QLabel with an object name for the style sheet."""
    w = QLabel(text)
    if name:
        w.setObjectName(name)
    w.setWordWrap(wrap)
    return w


def button(text: str = "", *, name: str = "", checkable: bool = False) -> QPushButton:
    """A touch-sized push button."""
    b = QPushButton(text)
    if name:
        b.setObjectName(name)
    b.setCheckable(checkable)
    b.setFocusPolicy(Qt.FocusPolicy.NoFocus)  # keep focus on the scan field
    return b


class MessageLine(QLabel):
    """A one-line outcome or error; re-rendered in the new language when it switches."""

    def __init__(self) -> None:
        super().__init__("")
        self.setObjectName("message")
        self.setWordWrap(True)
        self._render: Callable[[], str] | None = None

    def say(self, kind: str, render: Callable[[], str]) -> None:
        """Show `render()` now and after each language switch; kind 'error' shows in red."""
        self._render = render
        self.setText(render())
        style.set_severity(self, "alarm" if kind == "error" else "")

    def clear(self) -> None:
        """Nothing to say."""
        self._render = None
        self.setText("")

    def retranslate(self) -> None:
        """Render again in the current language."""
        if self._render is not None:
            self.setText(self._render())


def numeral_font(px: int) -> QFont:
    """Large tabular digits for counters, readable from two metres."""
    f = QFont(NUMERAL_FAMILY)
    f.setPixelSize(px)
    f.setBold(True)
    return f


class Counter(QFrame):
    """A caption over a large number."""

    def __init__(self, px: int = 44, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("counter")
        self.caption = label("", "caption")
        self.value = label("0")
        self.value.setFont(numeral_font(px))
        self.value.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(12, 6, 12, 6)
        lay.setSpacing(0)
        lay.addWidget(self.caption)
        lay.addWidget(self.value)

    def set(self, value: int | float | str) -> None:
        """Show a value; integers get thousands separators."""
        self.value.setText(f"{value:,}" if isinstance(value, int) else str(value))


COLORS = {"alarm": style.ALARM, "warning": style.WARNING, "ok": "#4A4A4A", "off": None}


class Light(QWidget):
    """A status dot: dark grey = normal, hollow = off/unknown, amber = warning, red = alarm."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.state = "off"
        self.setFixedSize(QSize(22, 22))

    def set_state(self, state: str) -> None:
        """'ok' | 'off' | 'warning' | 'alarm'."""
        if state != self.state:
            self.state = state
            self.update()

    def paintEvent(self, _event) -> None:
        """Draw the dot."""
        p = QPainter(self)
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        color = COLORS.get(self.state)
        p.setPen(QPen(QColor("#333333"), 2))
        if color:
            p.setBrush(QColor(color))
        p.drawEllipse(3, 3, 16, 16)
        p.end()
