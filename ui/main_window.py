"""The main window: status bar on top, the screens a role may use on the left, language switch."""

from __future__ import annotations

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import (
    QButtonGroup,
    QFrame,
    QHBoxLayout,
    QMainWindow,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from ui.bridge import LineBridge
from ui.i18n import Language
from ui.names import name
from ui.tasks import TaskRunner
from ui.viewmodels.collect import CollectViewModel
from ui.viewmodels.it import ITViewModel
from ui.viewmodels.line import LineViewModel
from ui.viewmodels.orders import OrdersViewModel
from ui.viewmodels.qa import QAViewModel
from ui.viewmodels.session import SessionModel
from ui.widgets.collect import CollectScreen
from ui.widgets.common import button, label
from ui.widgets.dialogs import ConfirmDialog
from ui.widgets.it_screen import ITScreen
from ui.widgets.login import LoginScreen
from ui.widgets.operator import OperatorScreen
from ui.widgets.orders import OrdersScreen
from ui.widgets.qa_screen import QAScreen

OUTBOX_POLL_MS = 5000  # the status bar's upstream light; the query is tiny and off the UI thread


class MainWindow(QMainWindow):
    """Owns the view models, the bridge and the screens; one per station."""

    def __init__(self, controller, *, language: str | None = None) -> None:
        super().__init__()
        settings, engine = controller.settings, controller.engine
        self.controller = controller
        self.tasks = TaskRunner(self)
        self.session = SessionModel(engine, settings, run=self.tasks, language=language)
        self.line = LineViewModel(controller, run=self.tasks)
        self.qa = QAViewModel(engine, settings, self.session, run=self.tasks)
        self.it = ITViewModel(engine, settings, self.session, run=self.tasks)
        self.orders = OrdersViewModel(engine, settings, self.session, run=self.tasks)
        self.collect = CollectViewModel(engine, settings, self.session, run=self.tasks)
        self.orders.created.connect(lambda _b: self.line.refresh_batches())
        self.bridge = LineBridge(controller, self.line, self)
        self.language = Language()
        self.language.apply(self.session.language)

        from ui.widgets.statusbar import StatusBar

        central = QWidget()
        self.setCentralWidget(central)
        root = QVBoxLayout(central)
        root.setContentsMargins(0, 0, 0, 0)
        root.setSpacing(0)
        self.status_bar = StatusBar(settings, self.line, self.it)
        root.addWidget(self.status_bar)
        body = QHBoxLayout()
        body.setSpacing(0)
        root.addLayout(body, 1)

        nav = QFrame()
        nav.setObjectName("nav")
        nav.setFixedWidth(190)
        nl = QVBoxLayout(nav)
        nl.setContentsMargins(10, 12, 10, 12)
        nl.setSpacing(10)
        st = settings.station
        self.station_name = label(f"{st.name}\n{st.id} · {st.line}", "station", wrap=True)
        nl.addWidget(self.station_name)
        self.nav_group = QButtonGroup(self)
        self.nav_buttons = {}
        for key in ("operator", "collect", "orders", "qa", "it"):
            b = button(name="nav", checkable=True)
            self.nav_group.addButton(b)
            b.clicked.connect(lambda _=False, k=key: self.show_screen(k))
            nl.addWidget(b)
            self.nav_buttons[key] = b
        nl.addStretch(1)
        self.who = label("", "caption", wrap=True)
        self.lang_btn = button()
        self.logout_btn = button()
        nl.addWidget(self.who)
        nl.addWidget(self.lang_btn)
        nl.addWidget(self.logout_btn)
        body.addWidget(nav)
        self.lang_btn.clicked.connect(self.session.toggle_language)
        self.logout_btn.clicked.connect(self.session.logout)

        self.stack = QStackedWidget()
        body.addWidget(self.stack, 1)
        self.screens = {
            "login": LoginScreen(self.session),
            "operator": OperatorScreen(self.line, self.session),
            "collect": CollectScreen(self.collect),
            "orders": OrdersScreen(self.orders),
            "qa": QAScreen(self.qa),
            "it": ITScreen(self.it),
        }
        for w in self.screens.values():
            self.stack.addWidget(w)

        self.session.logged_in.connect(self._logged_in)
        self.session.logged_out.connect(self._logged_out)
        self.session.language_changed.connect(self.set_language)
        self.outbox_timer = QTimer(self)
        self.outbox_timer.setInterval(OUTBOX_POLL_MS)
        self.outbox_timer.timeout.connect(self.it.refresh)
        self.outbox_timer.start()
        self.it.refresh()
        self.line.refresh_batches()
        self.ask_on_close = False  # True: a close by the program asks as the operator's does
        self._may_close = False
        self.close_dialog: ConfirmDialog | None = None
        self.retranslate()
        self._logged_out()

    # -- closing while a batch runs ---------------------------------------------------------
    def _ask_close(self) -> None:
        batch = self.line.status.batch_id or ""
        text = self.tr(
            "Batch %1 is running. Closing stops the line safely: the infeed stops first (PLC "
            "line stop), the items already on the conveyor are finished, then the line stops. "
            "The batch stays open."
        ).replace("%1", batch)
        self.close_dialog = ConfirmDialog(self, self.tr("Close LineStation"), text, [])
        self.close_dialog.ok.setText(self.tr("Stop the line and close"))
        self.close_dialog.accepted.connect(self._stop_then_close)
        self.close_dialog.open()

    def _stop_then_close(self) -> None:
        self.line.stopped_safely.connect(self._close_now)
        self.line.safe_stop()

    def _close_now(self) -> None:
        self.line.stopped_safely.disconnect(self._close_now)
        self._may_close = True
        self.close()

    # -- navigation ---------------------------------------------------------------------------
    def show_screen(self, key: str) -> None:
        """Show one screen (only those the role may use, or login)."""
        if key != "login" and key not in self.session.screens():
            key = "login"
        self.stack.setCurrentWidget(self.screens[key])
        if key in self.nav_buttons:
            self.nav_buttons[key].setChecked(True)
        if key == "qa":
            self.qa.refresh()
            self.screens["qa"].scan_field.setFocus()
        elif key in ("it", "orders", "collect"):
            self.screens[key].refresh()
        elif key == "operator":
            self.line.refresh_batches()

    @property
    def current(self) -> str:
        """The key of the screen shown."""
        w = self.stack.currentWidget()
        return next(k for k, v in self.screens.items() if v is w)

    def _logged_in(self, user: str, role: str) -> None:
        if not self.controller.running:
            self.controller.user = user  # batches started from here are recorded as this user
        allowed = self.session.screens()
        for k, b in self.nav_buttons.items():
            b.setVisible(k in allowed)
        self.logout_btn.setVisible(True)
        self._who()
        self.show_screen(allowed[0] if allowed else "login")

    def _logged_out(self) -> None:
        for b in self.nav_buttons.values():
            b.setVisible(False)
        self.logout_btn.setVisible(False)
        self._who()
        self.show_screen("login")
        self.screens["login"].reset()

    def _who(self) -> None:
        s = self.session
        self.who.setText(f"{s.user}\n{name(s.role)}" if s.user else "")

    # -- language -----------------------------------------------------------------------------
    def set_language(self, lang: str) -> None:
        """Switch 中文 / English now: install the translator, then every screen retranslates."""
        self.language.apply(lang)
        self.retranslate()

    def retranslate(self) -> None:
        """Every text in the current language."""
        self.setWindowTitle(self.tr("LineStation"))
        texts = {
            "operator": self.tr("Line"),
            "collect": self.tr("Collect"),
            "orders": self.tr("Orders"),
            "qa": self.tr("QA"),
            "it": self.tr("IT"),
        }
        for k, b in self.nav_buttons.items():
            b.setText(texts[k])
        # The button names the other language in that language, as phones do.
        self.lang_btn.setText("English" if self.session.language == "zh" else "中文")
        self.logout_btn.setText(self.tr("Log out"))
        self._who()
        self.status_bar.retranslate()
        for w in self.screens.values():
            w.retranslate()

    def closeEvent(self, event) -> None:
        """Ask first while a batch runs, and leave the line safe; then stop listening to it.

        A close by the operator (the window system's, or with ask_on_close) asks; a close by
        the program (demo --quit-after, tests) stops the line the same safe way without asking.
        """
        if self.line.running and not self._may_close:
            if event.spontaneous() or self.ask_on_close:
                event.ignore()
                self._ask_close()
                return
            self.line.safe_stop()
        self.outbox_timer.stop()
        self.bridge.disconnect_all()
        self.tasks.wait(5000)
        self.language.apply("en")  # the translator belongs to the app, which may outlive us
        super().closeEvent(event)
