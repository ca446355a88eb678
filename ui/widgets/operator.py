"""Operator screen: choose a batch, start/pause/stop/close, counters, camera, alarms, rejects."""

from __future__ import annotations

from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import (
    QComboBox,
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QHeaderView,
    QSizePolicy,
    QTableWidget,
    QTableWidgetItem,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from aggregation.reasons import reason_text
from station.events import RunState
from ui.alarms import alarm_text
from ui.names import level_name, name
from ui.style import set_severity
from ui.viewmodels.line import LineViewModel
from ui.viewmodels.orders import ratio_text, ratios
from ui.viewmodels.pallets import PalletViewModel
from ui.viewmodels.session import SessionModel
from ui.widgets.camera import CameraView
from ui.widgets.common import Counter, MessageLine, button, label
from ui.widgets.dialogs import ConfirmDialog
from ui.widgets.pallets import PalletPanel
from ui.widgets.reads import ReadsTable

FRAME_MS = 100  # the camera view repaints at most 10 times a second, whatever the line's rate
FLASH_MS = 4000  # a reject's short alarm stays this long (a repeated one latches in the banner)
COUNTERS = ("planned", "printed", "verified", "rejected", "boxes", "cases", "pallets")


def counters_for(settings) -> tuple[str, ...]:
    """The counters the line's shape has: nothing printed on a read line, boxes where packed."""
    shape, names = settings.shape, settings.level_names
    skip = {"printed"} if shape.item.kind == "read" else set()
    for key, level in (("boxes", "box"), ("cases", "case"), ("pallets", "pallet")):
        if level not in names:
            skip.add(key)
    return tuple(k for k in COUNTERS if k not in skip)


class AlarmBanner(QFrame):
    """The most severe open alarm with what to do, and an Acknowledge button."""

    def __init__(self, line: LineViewModel, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("banner")
        self.line = line
        lay = QHBoxLayout(self)
        lay.setContentsMargins(16, 4, 8, 4)
        self.text = label("", wrap=True)
        self.more = label("")
        self.ack = button("")
        lay.addWidget(self.text, 1)
        lay.addWidget(self.more)
        lay.addWidget(self.ack)
        self.ack.clicked.connect(self.acknowledge)
        line.alarms_changed.connect(self.refresh)
        line.status_changed.connect(self.refresh)
        self.current: str | None = None

    def retranslate(self) -> None:
        """Texts in the current language."""
        self.ack.setText(self.tr("Acknowledge"))
        self.refresh()

    def refresh(self, *_args) -> None:
        """Show the first open alarm, or hide."""
        alarms = self.line.sorted_alarms()
        self.setVisible(bool(alarms))
        if not alarms:
            self.current = None
            return
        a = alarms[0]
        self.current = a.code
        self.text.setText(alarm_text(a).line())
        self.more.setText(self.tr("+%n more", "", len(alarms) - 1) if len(alarms) > 1 else "")
        set_severity(self, "alarm" if a.severity == "alarm" else "warning")

    def acknowledge(self) -> None:
        """Acknowledge the alarm shown."""
        if self.current:
            self.line.acknowledge(self.current)


class OperatorScreen(QWidget):
    """Binds to LineViewModel; commands go to the controller through it."""

    def __init__(self, line: LineViewModel, session: SessionModel, parent=None) -> None:
        super().__init__(parent)
        self.line, self.session = line, session
        self.dialog: ConfirmDialog | None = None
        root = QVBoxLayout(self)
        root.setContentsMargins(16, 12, 16, 12)
        root.setSpacing(12)
        self.banner = AlarmBanner(line)
        root.addWidget(self.banner)
        body = QHBoxLayout()
        body.setSpacing(16)
        root.addLayout(body, 1)

        left = QVBoxLayout()
        left.setSpacing(10)
        body.addLayout(left, 11)
        self.batch_caption = label("", "caption")
        self.batches = QComboBox()
        self.batches.currentIndexChanged.connect(self._picked)
        self.batch_info = label("", "message", wrap=True)
        left.addWidget(self.batch_caption)
        left.addWidget(self.batches)
        left.addWidget(self.batch_info)
        buttons = QHBoxLayout()
        self.start_btn, self.pause_btn = button(), button()
        self.stop_btn, self.close_btn = button(), button()
        for b in (self.start_btn, self.pause_btn, self.stop_btn, self.close_btn):
            b.setMinimumHeight(72)
            buttons.addWidget(b)
        left.addLayout(buttons)
        self.start_btn.clicked.connect(self.confirm_start)
        self.pause_btn.clicked.connect(line.pause)
        self.stop_btn.clicked.connect(line.stop)
        self.close_btn.clicked.connect(line.plan_close)
        grid = QGridLayout()
        grid.setSpacing(8)
        shown = counters_for(line.controller.settings)
        self.counters = {k: Counter(px=56) for k in shown}
        self.rate = Counter(px=56)
        for i, k in enumerate(shown):
            grid.addWidget(self.counters[k], i // 3, i % 3)
        grid.addWidget(self.rate, (len(shown) + 2) // 3, 0, 1, 2)
        self.reset_btn = button()
        self.reset_btn.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Expanding)
        self.reset_btn.clicked.connect(self._reset_rejects)
        grid.addWidget(self.reset_btn, (len(shown) + 2) // 3, 2)
        left.addLayout(grid)
        self.message = MessageLine()
        left.addWidget(self.message)
        left.addStretch(1)

        right = QVBoxLayout()
        right.setSpacing(8)
        body.addLayout(right, 10)
        self.camera_caption = label("", "caption")
        self.camera = CameraView()
        right.addWidget(self.camera_caption)
        right.addWidget(self.camera, 3)
        self.flash = label("", "flash", wrap=True)
        self.flash.setFixedHeight(56)  # two lines; always there, so nothing jumps when it shows
        right.addWidget(self.flash)
        # The open and held pallets, and the pallet operations (issue 16): the camera and the
        # reads give up the height it takes (the left column has none to spare at 1280×800).
        model = PalletViewModel(line.controller, session, run=line.run)
        self.pallets = PalletPanel(model, session, line)
        right.addWidget(self.pallets)
        self.tabs = QTabWidget()
        self.reads = ReadsTable(line, session)
        self.rejects = QTableWidget(0, 2)
        self.rejects.verticalHeader().hide()
        self.rejects.horizontalHeader().setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        self.rejects.horizontalHeader().setSectionResizeMode(
            1, QHeaderView.ResizeMode.ResizeToContents
        )
        self.rejects.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.rejects.setSelectionMode(QTableWidget.SelectionMode.NoSelection)
        self.rejects.verticalHeader().setDefaultSectionSize(34)
        self.tabs.addTab(self.reads, "")
        self.tabs.addTab(self.rejects, "")
        right.addWidget(self.tabs, 3)
        self.flash_timer = QTimer(self)
        self.flash_timer.setSingleShot(True)
        self.flash_timer.setInterval(FLASH_MS)
        self.flash_timer.timeout.connect(self._unflash)
        line.reads.flashed.connect(self._flash)

        self._shown_rejects: tuple = ()
        self.timer = QTimer(self)
        self.timer.setInterval(FRAME_MS)
        self.timer.timeout.connect(self._paint_frame)
        self.timer.start()
        line.status_changed.connect(self._status)
        line.batches_changed.connect(self._batches)
        line.selection_changed.connect(self._selected)
        line.message.connect(self._message)
        line.close_planned.connect(self._confirm_close)
        line.batch_closed.connect(self._closed)
        session.logged_in.connect(lambda *_: self._buttons())
        session.logged_out.connect(self._buttons)
        self.retranslate()

    # -- texts --------------------------------------------------------------------------------
    def retranslate(self) -> None:
        """Texts in the current language."""
        self.batch_caption.setText(self.tr("Released batch"))
        self.start_btn.setText(self.tr("Start"))
        self.stop_btn.setText(self.tr("Stop"))
        self.close_btn.setText(self.tr("Close batch"))
        captions = {
            "planned": self.tr("Planned"),
            "printed": self.tr("Printed"),
            "verified": self.tr("Verified"),
            "rejected": self.tr("Rejected"),
            "boxes": self.tr("Boxes"),
            "cases": self.tr("Cases"),
            "pallets": self.tr("Pallets"),
        }
        for k, c in self.counters.items():
            c.caption.setText(captions[k])
        self.rate.caption.setText(self.tr("Rate (items/min)"))
        self.camera_caption.setText(self.tr("Verify camera"))
        self.camera.placeholder = self.tr("No picture: the line is not running")
        self.tabs.setTabText(0, self.tr("Latest reads"))
        self.tabs.setTabText(1, self.tr("Rejects by reason"))
        self.reset_btn.setText(self.tr("Reset rejects"))
        self.reads.retranslate()
        if self.flash_timer.isActive() and self.line.reads.last is not None:
            self._flash(self.line.reads.last)
        self.rejects.setHorizontalHeaderLabels([self.tr("Reason"), self.tr("Count")])
        self.banner.retranslate()
        self.pallets.retranslate()
        self.message.retranslate()
        self._batches()
        self._status(self.line.status)

    # -- bindings -----------------------------------------------------------------------------
    def _batches(self) -> None:
        self.batches.blockSignals(True)
        self.batches.clear()
        for b in self.line.batches:
            self.batches.addItem(f"{b.id} · {name(b.state)}", b.id)
        sel = self.line.selected
        if sel is not None:
            self.batches.setCurrentIndex(self.batches.findData(sel.id))
        self.batches.blockSignals(False)
        self._selected(sel)

    def _picked(self, index: int) -> None:
        self.line.select(self.batches.itemData(index))

    def _selected(self, b) -> None:
        if b is None:
            self.batch_info.setText(self.tr("No released batch. Release one first."))
        else:
            self.batch_info.setText(
                self.tr("%1 · lot %2 · %3 items").replace("%1", f"{b.product_sku} {b.product_name}")
                .replace("%2", b.lot).replace("%3", f"{b.quantity:,}")
            )  # fmt: skip
            idx = self.batches.findData(b.id)
            if idx >= 0 and idx != self.batches.currentIndex():
                self.batches.blockSignals(True)
                self.batches.setCurrentIndex(idx)
                self.batches.blockSignals(False)
        self._buttons()

    def _status(self, s) -> None:
        rejected, by_reason = self.line.shown_rejects()
        for k, c in self.counters.items():
            c.set(rejected if k == "rejected" else getattr(s, k))
        self.rate.set(round(s.rate_per_min))
        set_severity(self.counters["rejected"], "")
        rows = sorted(by_reason.items(), key=lambda kv: -kv[1])
        lang = self.session.language
        if (rows, lang) == self._shown_rejects:  # twice a second while the line runs
            self._buttons()
            return
        self._shown_rejects = (rows, lang)
        self.rejects.setRowCount(len(rows))
        for i, (reason, n) in enumerate(rows):
            self.rejects.setItem(i, 0, QTableWidgetItem(reason_text(reason, lang)))
            item = QTableWidgetItem(f"{n:,}")
            item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            self.rejects.setItem(i, 1, item)
        self._buttons()

    def _buttons(self) -> None:
        st = self.line.status.state
        on_line = self.line.running
        may = self.session.can("line.run")
        paused = st in (RunState.PAUSED, RunState.FAULTED)
        self.start_btn.setText(self.tr("Resume") if paused else self.tr("Start"))
        self.start_btn.setEnabled(
            may and (paused or (not on_line and self.line.selected is not None))
        )
        self.pause_btn.setText(self.tr("Pause"))
        self.pause_btn.setEnabled(may and st == RunState.RUNNING)
        self.stop_btn.setEnabled(may and on_line)
        self.close_btn.setEnabled(
            self.session.can("batch.run") and not on_line and self.line.selected is not None
        )
        self.batches.setEnabled(not on_line)
        self.reset_btn.setEnabled(may and self.line.shown_rejects()[0] > 0)

    def _reset_rejects(self) -> None:
        if self.session.user:
            self.line.reset_rejects(self.session.user)

    def _flash(self, read) -> None:
        """A reject's short alarm: what was read, where, and why (amber, for FLASH_MS)."""
        self.flash.setText(self.reads.text_of(read))
        set_severity(self.flash, "warning")
        self.flash_timer.start()

    def _unflash(self) -> None:
        self.flash.setText("")
        set_severity(self.flash, "")

    def _paint_frame(self) -> None:
        view = self.line.take_frame()  # taken even when hidden: the newest frame is all we keep
        if view is not None and self.camera.isVisible():
            self.camera.show_frame(view)

    def _message(self, kind: str, text: str) -> None:
        if kind == "info" and text == "stopped":
            self.message.say(kind, lambda: self.tr("Line stopped; the batch stays open."))
        elif kind == "info" and text.startswith("batch "):
            batch = text[6:]
            self.message.say(
                kind, lambda: self.tr("Batch %1 finished and closed.").replace("%1", batch)
            )
        else:
            self.message.say(kind, lambda: text)

    # -- start: a confirmation with the packing ratios ----------------------------------------
    def confirm_start(self) -> None:
        """Resume at once; a new start first shows the batch and its packing ratios."""
        b = self.line.selected
        if self.line.status.state in (RunState.PAUSED, RunState.FAULTED) or b is None:
            self.line.start()
            return
        settings, lang = self.line.controller.settings, self.session.language
        items = [
            self.tr("1 %1 = %2 × %3")
            .replace("%1", level_name(settings, r.parent, lang))
            .replace("%2", f"{r.capacity:,}")
            .replace("%3", level_name(settings, r.child, lang))
            for r in ratios(settings)
        ]
        text = (
            self.tr("Start batch %1: %2, lot %3, %4 items. Packing %5:")
            .replace("%1", b.id)
            .replace("%2", f"{b.product_sku} {b.product_name}")
            .replace("%3", b.lot)
            .replace("%4", f"{b.quantity:,}")
            .replace("%5", ratio_text(settings))
        )
        self.dialog = ConfirmDialog(self, self.tr("Start batch"), text, items)
        self.dialog.ok.setText(self.tr("Start"))
        self.dialog.accepted.connect(self.line.start)
        self.dialog.open()

    # -- close batch --------------------------------------------------------------------------
    def _confirm_close(self, batch_id: str, open_containers: list) -> None:
        items = [
            self.tr("%1 %2: %3 inside (partial)")
            .replace(
                "%1", level_name(self.line.controller.settings, c.level, self.session.language)
            )
            .replace("%2", c.code)
            .replace("%3", str(c.children))
            for c in open_containers
        ]
        text = self.tr(
            "Close batch %1? Partial containers listed below are closed as they are; unused "
            "codes are voided. A closed batch cannot run again."
        ).replace("%1", batch_id)
        if not items:
            text = self.tr(
                "Close batch %1? No container is open. Unused codes are voided. A closed batch "
                "cannot run again."
            ).replace("%1", batch_id)
        self.dialog = ConfirmDialog(self, self.tr("Close batch"), text, items)
        self.dialog.ok.setText(self.tr("Close batch"))
        self.dialog.accepted.connect(lambda: self.line.close_batch(batch_id))
        self.dialog.open()

    def _closed(self, summary: dict) -> None:
        self.message.say("info", lambda: self.tr("Batch closed."))
