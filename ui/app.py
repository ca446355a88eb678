"""Start the touchscreen UI on a LineController: `station demo --ui` or `python -m ui`."""

from __future__ import annotations

import os
import sys

from PySide6.QtWidgets import QApplication

from ui.i18n import ui_font
from ui.style import QSS


def has_display() -> bool:
    """True when Qt can open a window here (X11/Wayland), or a platform is forced."""
    return bool(
        os.environ.get("DISPLAY")
        or os.environ.get("WAYLAND_DISPLAY")
        or os.environ.get("QT_QPA_PLATFORM")
    )


def make_app(argv: list[str] | None = None) -> QApplication:
    """The QApplication with the HMI style and a font that renders Chinese."""
    app = QApplication.instance() or QApplication(argv or sys.argv[:1])
    app.setFont(ui_font(14))
    app.setStyleSheet(QSS)
    return app  # type: ignore[return-value]


def make_window(controller, *, language: str | None = None, size: tuple[int, int] | None = None):
    """The main window on `controller` (tests use this with a fixed size)."""
    from ui.main_window import MainWindow

    w = MainWindow(controller, language=language)
    if size:
        w.resize(*size)
    return w


def run(controller, *, language: str | None = None, full_screen: bool = True) -> int:
    """Open the UI and run Qt's event loop until the window closes; returns the exit code."""
    app = make_app()
    w = make_window(controller, language=language, size=(1280, 800))
    if full_screen and os.environ.get("QT_QPA_PLATFORM") != "offscreen":
        w.showFullScreen()
    else:
        w.show()
    rc = app.exec()
    if controller.running:
        controller.stop()
        controller.wait(30)
    return rc
