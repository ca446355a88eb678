"""Start the touchscreen UI on a LineController: `station demo --ui` or `python -m ui`."""

from __future__ import annotations

import os
import sys

from PySide6.QtWidgets import QApplication

from ui.display import has_display  # noqa: F401  (re-exported for callers of ui.app)
from ui.i18n import ui_font
from ui.style import QSS

START_DELAY_MS = 800


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


def _report_shown(app: QApplication, window) -> None:
    size = window.size()
    print(
        f"ui: window {size.width()}x{size.height()} on {app.platformName()}, "
        f"screen {window.current}, user {window.session.user}",
        flush=True,
    )


def run_demo(
    engine,
    settings,
    *,
    user: str,
    items: int,
    rate: int,
    defects: float,
    product: str,
    language: str | None = None,
    quit_after_s: float | None = None,
) -> int:
    """`station demo --ui`: the UI on the simulated line, logged in as the CLI's user.

    A released batch is started at once (one is created if none is waiting), so the screen moves
    from the first second; further batches start from the operator screen. `quit_after_s` closes
    the window by itself (smoke tests).
    """
    from PySide6.QtCore import QTimer

    from station import users
    from station.line.controller import LineController
    from station.store import batches

    ctl = LineController(settings, engine, user, rate_per_min=rate, defects=defects)
    waiting = ctl.released_batches()
    if not waiting:
        n = len(batches.list_all(engine)) + 1
        batches.create(
            engine, settings, product=product, lot=f"DEMO-UI{n:03d}", quantity=items, user=user
        )
    app = make_app()
    w = make_window(ctl, language=language, size=(1280, 800))
    role = "admin" if user == users.SETUP_USER else users.role_of(engine, user)
    w.session.start_as(user, role)
    first = (waiting or ctl.released_batches())[0]
    if first.state != "running":  # a batch left running by a crash is for the operator to see
        # Start once the first paint is done: loading the CJK font and laying out every screen
        # is the UI's heaviest moment and should not fall on the line's start-up.
        QTimer.singleShot(START_DELAY_MS, lambda: ctl.start(first.id, items))
    if quit_after_s is not None:
        QTimer.singleShot(int(quit_after_s * 1000), w.close)
    if os.environ.get("QT_QPA_PLATFORM") == "offscreen":
        w.show()
    else:
        w.showFullScreen()
    # One line once the window is up, for whoever started it (and the smoke test on Xvfb): the
    # platform Qt really opened it on, the screen shown and who is logged in.
    QTimer.singleShot(0, lambda: _report_shown(app, w))
    rc = app.exec()
    if ctl.running:
        ctl.stop()
        ctl.wait(30)
    return rc
