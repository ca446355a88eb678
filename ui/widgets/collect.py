"""Manual collection screen (手工采集): scan the children, then the container, with a handheld."""

from __future__ import annotations

from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QHBoxLayout,
    QHeaderView,
    QLineEdit,
    QListWidget,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from ui.names import level_name
from ui.viewmodels.collect import CollectViewModel
from ui.widgets.common import MessageLine, button, label


class CollectScreen(QWidget):
    """Binds to CollectViewModel; the scan field keeps the focus for the wedge scanner."""

    def __init__(self, collect: CollectViewModel, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.collect = collect
        self.settings = collect.settings
        root = QHBoxLayout(self)
        root.setContentsMargins(16, 12, 16, 12)
        root.setSpacing(16)

        left = QVBoxLayout()
        left.setSpacing(10)
        root.addLayout(left, 11)
        self.title = label("", "title")
        left.addWidget(self.title)
        row = QHBoxLayout()
        self.level = QComboBox()
        self.level.setMinimumWidth(220)
        self.partial = QCheckBox()
        self.restart_btn = button()
        row.addWidget(self.level)
        row.addWidget(self.partial)
        row.addStretch(1)
        row.addWidget(self.restart_btn)
        left.addLayout(row)
        self.prompt = label("", "prompt", wrap=True)
        left.addWidget(self.prompt)
        self.scan_field = QLineEdit()
        left.addWidget(self.scan_field)
        self.scanned_caption = label("", "caption")
        left.addWidget(self.scanned_caption)
        self.scanned = QListWidget()
        left.addWidget(self.scanned, 1)
        self.message = MessageLine()
        left.addWidget(self.message)

        right = QVBoxLayout()
        root.addLayout(right, 10)
        self.done_caption = label("", "caption")
        right.addWidget(self.done_caption)
        self.done = QTableWidget(0, 3)
        self.done.verticalHeader().hide()
        self.done.verticalHeader().setDefaultSectionSize(34)
        hh = self.done.horizontalHeader()
        hh.setSectionResizeMode(0, QHeaderView.ResizeMode.ResizeToContents)
        hh.setSectionResizeMode(1, QHeaderView.ResizeMode.ResizeToContents)
        hh.setSectionResizeMode(2, QHeaderView.ResizeMode.Stretch)
        self.done.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.done.setSelectionMode(QTableWidget.SelectionMode.NoSelection)
        self.done.setWordWrap(False)
        right.addWidget(self.done, 1)

        self.level.currentIndexChanged.connect(self._chosen)
        self.partial.toggled.connect(lambda _on: self._chosen())
        self.restart_btn.clicked.connect(collect.start_over)
        self.scan_field.returnPressed.connect(self._scanned)
        collect.changed.connect(self._show)
        collect.finished.connect(self._finished)
        collect.message.connect(lambda kind, text: self.message.say(kind, lambda: text))
        self.retranslate()

    def retranslate(self) -> None:
        """Texts in the current language."""
        lang = self.collect.session.language
        self.title.setText(self.tr("Manual collection"))
        self.level.blockSignals(True)
        current = self.collect.level
        self.level.clear()
        for lv in self.collect.levels:
            self.level.addItem(level_name(self.settings, lv, lang), lv)
        self.level.setCurrentIndex(max(0, self.level.findData(current)))
        self.level.blockSignals(False)
        self.partial.setText(self.tr("May close short (partial)"))
        self.restart_btn.setText(self.tr("Start over"))
        self.scan_field.setPlaceholderText(self.tr("Scan with the hand scanner"))
        self.scanned_caption.setText(self.tr("Scanned for this container"))
        self.done_caption.setText(self.tr("Containers"))
        self.done.setHorizontalHeaderLabels([self.tr("Container"), self.tr("Result"), ""])
        self.message.retranslate()
        self._show()
        self._fill_done()

    def refresh(self) -> None:
        """Shown: the scanner types into the scan field."""
        self.scan_field.setFocus()
        self._show()

    def _chosen(self, *_args) -> None:
        self.collect.choose(self.level.currentData() or "", self.partial.isChecked())
        self.scan_field.setFocus()

    def _scanned(self) -> None:
        self.message.clear()
        self.collect.scan(self.scan_field.text())
        self.scan_field.clear()

    def _show(self) -> None:
        if not self.collect.levels:
            self.prompt.setText(self.tr("No container level on this line holds codes."))
            return
        lang = self.collect.session.language
        what, lv, n, cap = self.collect.prompt()
        name = level_name(self.settings, lv, lang)
        if what == "parent":
            text = self.tr("Scan the %1 (%2 scanned)").replace("%1", name)
        else:
            text = self.tr("Scan %3 × %1, then the container (%2 scanned)").replace("%1", name)
        self.prompt.setText(text.replace("%2", f"{n} / {cap}").replace("%3", str(cap)))
        self.scanned.clear()
        self.scanned.addItems(self.collect.pending)

    def _finished(self, out) -> None:
        lang = self.collect.session.language
        name = level_name(self.settings, out.level, lang)
        if out.ok:
            text = self.tr("%1 %2: %3 linked").replace("%1", name).replace("%2", out.parent)
            self.message.say("info", lambda: text.replace("%3", str(len(out.children))))
        else:
            self.message.say("error", lambda: self.tr("Refused, nothing linked: %1").replace(
                "%1", out.reason))  # fmt: skip
        self._fill_done()

    def _fill_done(self) -> None:
        rows = self.collect.outcomes
        self.done.setRowCount(len(rows))
        for i, out in enumerate(rows):
            result = self.tr("%n linked", "", len(out.children)) if out.ok else self.tr("Refused")
            for j, text in enumerate((out.parent or "–", result, out.reason)):
                item = QTableWidgetItem(text)
                item.setToolTip(text)
                self.done.setItem(i, j, item)
