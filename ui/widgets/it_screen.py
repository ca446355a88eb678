"""IT screen: the outbox with push and retry, batch export to a folder, device checks."""

from __future__ import annotations

from PySide6.QtCore import QCoreApplication, Qt, QTimer
from PySide6.QtGui import QColor, QPixmap
from PySide6.QtWidgets import (
    QComboBox,
    QGridLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QSizePolicy,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from ui import style
from ui.alarms import CONTEXT as ALARMS
from ui.alarms import DEVICE_SAID
from ui.names import name
from ui.style import set_severity
from ui.viewmodels.it import ITViewModel
from ui.widgets.camera import to_qimage
from ui.widgets.common import Counter, MessageLine, button, label

OUTBOX_STATES = ("pending", "sending", "acknowledged", "parked")


def _table(cols: int) -> QTableWidget:
    t = QTableWidget(0, cols)
    t.verticalHeader().hide()
    t.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
    t.setSelectionBehavior(QTableWidget.SelectionBehavior.SelectRows)
    t.setSelectionMode(QTableWidget.SelectionMode.SingleSelection)
    t.verticalHeader().setDefaultSectionSize(40)
    t.setWordWrap(False)
    return t


class ITScreen(QWidget):
    """Binds to ITViewModel."""

    def __init__(self, it: ITViewModel, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.it = it
        root = QHBoxLayout(self)
        root.setContentsMargins(16, 12, 16, 12)
        root.setSpacing(16)

        left = QVBoxLayout()
        root.addLayout(left, 13)
        head = QHBoxLayout()
        self.outbox_caption = label("", "title")
        self.upstream = label("", "caption", wrap=True)
        head.addWidget(self.outbox_caption)
        head.addWidget(self.upstream, 1)
        left.addLayout(head)
        counts = QGridLayout()
        counts.setSpacing(8)
        self.counts = {s: Counter(px=36) for s in OUTBOX_STATES}
        for i, s in enumerate(OUTBOX_STATES):
            counts.addWidget(self.counts[s], 0, i)
        left.addLayout(counts)
        # One row per unit: a pallet, a batch's close, a correction, QA's verdict, a shipment.
        self.outbox = _table(5)
        hh = self.outbox.horizontalHeader()
        for col in range(4):
            hh.setSectionResizeMode(col, QHeaderView.ResizeMode.ResizeToContents)
        hh.setSectionResizeMode(4, QHeaderView.ResizeMode.Stretch)
        left.addWidget(self.outbox, 1)
        row = QHBoxLayout()
        self.push_btn, self.retry_btn, self.refresh_btn = button(), button(), button()
        self.backup_btn = button()
        row.addWidget(self.push_btn)
        row.addWidget(self.retry_btn)
        row.addStretch(1)
        row.addWidget(self.backup_btn)
        row.addWidget(self.refresh_btn)
        left.addLayout(row)
        self.push_btn.clicked.connect(lambda: it.push())
        self.retry_btn.clicked.connect(self._retry)
        self.refresh_btn.clicked.connect(self.refresh)
        self.last_backup = label("", "caption")
        left.addWidget(self.last_backup)
        # The daily backup: checked hourly while the touchscreen is open (and at start).
        self.backup_timer = QTimer(self)
        self.backup_timer.setInterval(3600 * 1000)
        self.backup_timer.timeout.connect(self._auto_backup)
        self.backup_timer.start()
        # The first check a minute after start; owned by this screen, so it dies with it.
        self.first_backup = QTimer(self)
        self.first_backup.setSingleShot(True)
        self.first_backup.setInterval(60_000)
        self.first_backup.timeout.connect(self._auto_backup)
        self.first_backup.start()
        self.export_caption = label("", "caption")
        left.addWidget(self.export_caption)
        row = QHBoxLayout()
        self.export_batch = QComboBox()
        self.export_batch.setMinimumWidth(320)
        self.folder = QLineEdit(str(it.settings.data_dir / "export"))
        self.export_btn = button()
        row.addWidget(self.export_batch)
        row.addWidget(self.folder, 1)
        row.addWidget(self.export_btn)
        left.addLayout(row)
        self.export_btn.clicked.connect(self._export)
        self.backup_btn.clicked.connect(self._backup)
        self.message = MessageLine()
        left.addWidget(self.message)

        right = QVBoxLayout()
        root.addLayout(right, 8)
        self.devices_caption = label("", "title")
        right.addWidget(self.devices_caption)
        self.devices = _table(3)
        dh = self.devices.horizontalHeader()
        dh.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        dh.setSectionResizeMode(1, QHeaderView.ResizeMode.ResizeToContents)
        dh.setSectionResizeMode(2, QHeaderView.ResizeMode.ResizeToContents)
        self.devices.verticalHeader().setDefaultSectionSize(60)
        self.device_names = list(it.devices)
        self.devices.setRowCount(len(self.device_names))
        self.test_btns = {}
        for i, d in enumerate(self.device_names):
            b = button()
            b.setMinimumWidth(90)
            b.clicked.connect(lambda _=False, d=d: it.test_device(d))
            self.test_btns[d] = b
            self.devices.setCellWidget(i, 2, b)
        self.devices.setSelectionMode(QTableWidget.SelectionMode.NoSelection)
        right.addWidget(self.devices, 1)
        # What the last device test did, readable on a touchscreen (a tooltip needs a mouse),
        # and the frame a camera test grabbed: focus and light at a glance (the line above
        # says how many codes were read in it). Under the
        # export (the outbox table gives way), so the device table keeps every row in view.
        self.test_result = label("")
        self.test_result.setWordWrap(True)
        self.test_result.hide()
        left.addWidget(self.test_result)
        self.grab_view = QLabel()
        self.grab_view.setFixedHeight(180)
        # Never wider than the column: the picture fits the label, not the label the picture.
        self.grab_view.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Fixed)
        self.test_result.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.grab_view.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.grab_view.hide()
        left.addWidget(self.grab_view)
        it.frame_grabbed.connect(self._grabbed)

        it.outbox_changed.connect(self._outbox)
        it.devices_changed.connect(self._devices)
        it.message.connect(self._message)
        it.exported.connect(self._exported)
        it.backed_up.connect(self._backed_up)
        self.retranslate()

    def retranslate(self) -> None:
        """Texts in the current language."""
        self.outbox_caption.setText(self.tr("Outbox"))
        for s, c in self.counts.items():
            c.caption.setText(name(s))
        self.outbox.setHorizontalHeaderLabels(
            [self.tr("Unit"), self.tr("What"), self.tr("State"), self.tr("Tries"),
             self.tr("Upstream's answer")]
        )  # fmt: skip
        self.push_btn.setText(self.tr("Push now"))
        self.retry_btn.setText(self.tr("Retry parked"))
        self.refresh_btn.setText(self.tr("Refresh"))
        self.backup_btn.setText(self.tr("Back up store"))
        self._show_last_backup()
        self.export_caption.setText(self.tr("Export a closed batch (EPCIS, CSV) to a folder"))
        self.export_btn.setText(self.tr("Export"))
        self.devices_caption.setText(self.tr("Devices"))
        self.devices.setHorizontalHeaderLabels([self.tr("Device"), self.tr("Status"), ""])
        for b in self.test_btns.values():
            b.setText(self.tr("Test"))
        self._outbox()
        self._devices()
        self.message.retranslate()

    def refresh(self) -> None:
        """Reload the outbox and the list of closed batches."""
        self.it.refresh()
        self._fill_batches()
        self._devices()

    def _fill_batches(self) -> None:
        current = self.export_batch.currentText()
        self.export_batch.clear()
        if self.it.available:
            self.export_batch.addItems(self.it.closed_batches())
        i = self.export_batch.findText(current)
        if i >= 0:
            self.export_batch.setCurrentIndex(i)

    def _outbox(self) -> None:
        it = self.it
        if not it.available:
            self.upstream.setText(self.tr("The outbox is not part of this build."))
        elif it.upstream is None:
            self.upstream.setText(self.tr("No upstream configured ([upstream] in config.toml)."))
        else:
            self.upstream.setText(self.tr("Sends to: %1").replace("%1", it.upstream))
        for s, c in self.counts.items():
            c.set(it.counts.get(s, 0))
        set_severity(self.counts["parked"], "alarm" if it.counts.get("parked") else "")
        self.outbox.setRowCount(len(it.entries))
        for i, e in enumerate(it.entries):
            unit = it.units.get(e["batch_id"], {})
            cells = (e["batch_id"], self._what(e, unit), name(e["state"]), str(e["attempts"]),
                     self._answer(e, unit))  # fmt: skip
            for j, text in enumerate(cells):
                item = QTableWidgetItem(text)
                item.setToolTip(text)
                if j == 2 and e["state"] == "parked":
                    item.setBackground(QColor(style.ALARM))
                    item.setForeground(QColor("white"))
                self.outbox.setItem(i, j, item)
        may = it.available and it.session.can("sync")
        self.push_btn.setEnabled(may and it.upstream is not None)
        self.retry_btn.setEnabled(may and bool(it.counts.get("parked")))
        self.export_btn.setEnabled(it.available and it.session.can("export"))
        self.backup_btn.setEnabled(it.session.can("store.backup") and not it.busy)

    def _what(self, entry: dict, unit: dict) -> str:
        """What a row carries: a pallet (its code), a batch's close, a correction, a verdict."""
        kind = unit.get("kind")
        if kind == "pallet":
            return self.tr("Pallet %1").replace("%1", unit.get("pallet") or "")
        texts = {
            "close": self.tr("Batch close"),
            "correction": self.tr("Correction"),
            "release": self.tr("QA release"),
            "reject": self.tr("QA rejection"),
        }
        if kind in texts:
            return texts[kind]
        if entry["batch_id"].startswith("SHIP-"):
            return self.tr("Shipment")
        return self.tr("Whole batch")

    def _answer(self, entry: dict, unit: dict) -> str:
        """Upstream's answer, its reason for refusing, or what the unit waits for."""
        if entry["state"] == "acknowledged":
            return entry.get("answer") or ""
        if entry["state"] == "parked":
            return entry.get("last_error") or ""
        if unit.get("waiting_behind"):
            return self.tr("waits for %1").replace("%1", unit["waiting_behind"])
        if entry.get("last_error"):
            return self.tr("upstream said: %1").replace("%1", entry["last_error"])
        return ""

    def _retry(self) -> None:
        for e in self.it.entries:
            if e["state"] == "parked":
                self.it.retry(e["batch_id"])

    def _export(self) -> None:
        batch = self.export_batch.currentText()
        if batch:
            self.it.export(batch, self.folder.text().strip())

    def _exported(self, folder: str) -> None:
        self.message.say("info", lambda: self.tr("Exported to %1").replace("%1", folder))

    def _backup(self) -> None:
        self.backup_btn.setEnabled(False)  # one copy at a time; back on when it is done
        self.message.clear()
        self.it.backup()

    def _auto_backup(self) -> None:
        # A closed window keeps its widgets until Qt deletes them, but not its task pool.
        if self.window().isVisible():
            self.it.auto_backup()

    def _show_last_backup(self) -> None:
        last = self.it.last_backup()
        if last is None:
            self.last_backup.setText(self.tr("No backup of the store yet"))
        else:
            text = self.tr("Last backup: %1, %2")
            self.last_backup.setText(text.replace("%1", last["at"]).replace("%2", last["backup"]))

    def _backed_up(self, got: dict) -> None:
        self._show_last_backup()
        self.backup_btn.setEnabled(self.it.session.can("store.backup"))
        self.message.say(
            "info",
            lambda: (
                self.tr("Store backed up to %1 (%2 codes, checked)")
                .replace("%1", got["backup"])
                .replace("%2", f"{got['codes']:,}")
            ),
        )

    def _devices(self) -> None:
        for i, d in enumerate(self.device_names):
            url, state, detail = self.it.devices[d]
            short = url.split("://", 1)[-1]
            item = QTableWidgetItem(f"{name(d)}\n{short}")
            item.setToolTip(url)
            self.devices.setItem(i, 0, item)
            st = QTableWidgetItem(name(state))
            st.setToolTip(detail)
            if state == "fault":
                st.setBackground(QColor(style.ALARM))
                st.setForeground(QColor("white"))
            self.devices.setItem(i, 1, st)
            self.test_btns[d].setEnabled(self.it.session.can("devices") and state != "testing")
        last = self.it.last_tested
        if last is not None and self.it.devices[last][1] in ("ok", "fault"):
            _, state, detail = self.it.devices[last]
            # The station's own words from the device test stay as they are (like a driver's
            # on the alarm banner), labelled as such after the translated name and state.
            said = QCoreApplication.translate(ALARMS, DEVICE_SAID)
            self.test_result.setText(f"{name(last)} — {name(state)} — {said}: {detail}")
            set_severity(self.test_result, "alarm" if state == "fault" else "")
            self.test_result.show()

    def _grabbed(self) -> None:
        g = self.it.grab
        if g is None:
            return
        pix = QPixmap.fromImage(to_qimage(g.frame))
        self.grab_view.setPixmap(
            pix.scaled(
                self.grab_view.width() or 320,
                self.grab_view.height(),
                Qt.AspectRatioMode.KeepAspectRatio,
                Qt.TransformationMode.SmoothTransformation,
            )
        )
        self.grab_view.show()

    def _message(self, kind: str, text: str) -> None:
        self.backup_btn.setEnabled(self.it.session.can("store.backup") and not self.it.busy)
        if text == "pushed":
            self.message.say(kind, lambda: self.tr("Push finished."))
        elif text == "unavailable":
            self.message.say(kind, lambda: self.tr("The outbox is not part of this build."))
        else:
            self.message.say(kind, lambda: text)
