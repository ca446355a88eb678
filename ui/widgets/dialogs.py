"""Touch dialogs: confirm with a list of consequences, PIN entry with an on-screen keypad.

Dialogs open with `open()` (window-modal, never a nested event loop) and report through
`accepted` / `rejected`, so the UI thread keeps painting the line while a dialog is up.
"""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QDialog,
    QGridLayout,
    QHBoxLayout,
    QLineEdit,
    QListWidget,
    QVBoxLayout,
    QWidget,
)

from ui.widgets.common import button, label


class Keypad(QWidget):
    """Digits 0–9, delete and clear, typing into a QLineEdit."""

    def __init__(self, target: QLineEdit, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.target = target
        grid = QGridLayout(self)
        grid.setSpacing(8)
        grid.setContentsMargins(0, 0, 0, 0)
        keys = ["1", "2", "3", "4", "5", "6", "7", "8", "9", "C", "0", "⌫"]
        self.buttons: dict[str, object] = {}
        for i, k in enumerate(keys):
            b = button(k, name="key")
            b.clicked.connect(lambda _=False, k=k: self.press(k))
            grid.addWidget(b, i // 3, i % 3)
            self.buttons[k] = b

    def press(self, key: str) -> None:
        """One key."""
        t = self.target
        if key == "C":
            t.clear()
        elif key == "⌫":
            t.backspace()
        else:
            t.insert(key)


class ConfirmDialog(QDialog):
    """A question, what it will do (a list), Confirm / Cancel."""

    def __init__(self, parent: QWidget, title: str, text: str, items: list[str]) -> None:
        super().__init__(parent)
        self.setWindowTitle(title)
        self.setMinimumWidth(640)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(24, 24, 24, 24)
        lay.setSpacing(16)
        lay.addWidget(label(title, "title"))
        lay.addWidget(label(text, "message", wrap=True))
        self.items = QListWidget()
        self.items.addItems(items)
        self.items.setVisible(bool(items))
        self.items.setMinimumHeight(160 if items else 0)
        lay.addWidget(self.items)
        row = QHBoxLayout()
        self.cancel = button(self.tr("Cancel"))
        self.ok = button(self.tr("Confirm"))
        self.cancel.clicked.connect(self.reject)
        self.ok.clicked.connect(self.accept)
        row.addWidget(self.cancel)
        row.addStretch(1)
        row.addWidget(self.ok)
        lay.addLayout(row)


class PinDialog(QDialog):
    """The e-signature: the logged-in user enters the PIN again."""

    pin_entered = Signal(str)

    def __init__(self, parent: QWidget, title: str, meaning: str) -> None:
        super().__init__(parent)
        self.setWindowTitle(title)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(24, 24, 24, 24)
        lay.setSpacing(12)
        lay.addWidget(label(title, "title"))
        lay.addWidget(label(meaning, "message", wrap=True))
        self.pin = QLineEdit()
        self.pin.setEchoMode(QLineEdit.EchoMode.Password)
        self.pin.setPlaceholderText(self.tr("PIN"))
        self.pin.returnPressed.connect(self._ok)
        lay.addWidget(self.pin)
        lay.addWidget(Keypad(self.pin))
        row = QHBoxLayout()
        self.cancel = button(self.tr("Cancel"))
        self.ok = button(self.tr("Sign"))
        self.cancel.clicked.connect(self.reject)
        self.ok.clicked.connect(self._ok)
        row.addWidget(self.cancel)
        row.addStretch(1)
        row.addWidget(self.ok)
        lay.addLayout(row)
        self.pin.setFocus(Qt.FocusReason.OtherFocusReason)

    def _ok(self) -> None:
        if self.pin.text():
            self.pin_entered.emit(self.pin.text())
            self.accept()
