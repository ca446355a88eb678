"""Login: user name and PIN on a touch keypad, or a badge scanned by a keyboard-wedge reader."""

from __future__ import annotations

import time

from PySide6.QtCore import QEvent, QObject, Qt
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLineEdit, QVBoxLayout, QWidget

from ui.style import set_severity
from ui.viewmodels.session import SessionModel
from ui.viewmodels.wedge import WedgeDetector
from ui.widgets.common import button, label
from ui.widgets.dialogs import Keypad


class LoginScreen(QWidget):
    """Name + PIN, or a badge scan (fast keystrokes ending in Enter) anywhere on the screen."""

    def __init__(self, session: SessionModel, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.session = session
        self.wedge = WedgeDetector()
        outer = QHBoxLayout(self)
        outer.addStretch(1)
        panel = QFrame()
        panel.setObjectName("panel")
        panel.setFixedWidth(520)
        lay = QVBoxLayout(panel)
        lay.setContentsMargins(32, 28, 32, 28)
        lay.setSpacing(12)
        self.title = label("", "title")
        self.hint = label("", "caption", wrap=True)
        self.name = QLineEdit()
        self.pin = QLineEdit()
        self.pin.setEchoMode(QLineEdit.EchoMode.Password)
        self.keypad = Keypad(self.pin)
        self.go = button("")
        self.error = label("", "message", wrap=True)
        for w in (self.title, self.hint, self.name, self.pin, self.keypad, self.go, self.error):
            lay.addWidget(w)
        outer.addWidget(panel, 0, Qt.AlignmentFlag.AlignVCenter)
        outer.addStretch(1)
        self.go.clicked.connect(self.submit)
        self.name.returnPressed.connect(self.pin.setFocus)
        self.pin.returnPressed.connect(self.submit)
        for w in (self.name, self.pin):
            w.installEventFilter(self)
        session.login_failed.connect(self._failed)
        session.logged_in.connect(lambda *_: self.reset())
        self.retranslate()

    def retranslate(self) -> None:
        """Texts in the current language."""
        self.title.setText(self.tr("Log in"))
        self.hint.setText(self.tr("Enter your name and PIN, or scan your badge."))
        self.name.setPlaceholderText(self.tr("User name"))
        self.pin.setPlaceholderText(self.tr("PIN"))
        self.go.setText(self.tr("Log in"))

    def eventFilter(self, obj: QObject, event: QEvent) -> bool:
        """Watch keystrokes for a badge scan; a scan logs in at once."""
        if event.type() == QEvent.Type.KeyPress:
            key = event.key()
            enter = key in (Qt.Key.Key_Return, Qt.Key.Key_Enter)
            text = "\r" if enter else event.text()
            if text:
                badge = self.wedge.key(text, time.monotonic() * 1000)
                if badge is not None:
                    self.name.clear()
                    self.pin.clear()
                    self.session.login_badge(badge)
                    return True
        return super().eventFilter(obj, event)

    def submit(self) -> None:
        """Log in with name and PIN."""
        self.error.setText("")
        self.session.login(self.name.text(), self.pin.text())

    def _failed(self, text: str) -> None:
        self.pin.clear()
        if not text:
            text = self.tr("Enter your name and PIN.")
        elif "wrong PIN" in text:
            text = self.tr("Wrong PIN.")
        elif "locked" in text:
            text = self.tr("Locked after too many wrong PINs; ask an administrator.")
        elif "unknown or disabled" in text:
            text = self.tr("Unknown or disabled user or badge.")
        self.error.setText(text)
        set_severity(self.error, "alarm")

    def reset(self) -> None:
        """Empty fields, focus on the name (after login or logout)."""
        self.name.clear()
        self.pin.clear()
        self.error.setText("")
        self.wedge.reset()
        self.name.setFocus()
