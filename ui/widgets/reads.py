"""The operator's list of the latest reads: time, code (masked), level, result, reason."""

from __future__ import annotations

from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import QHeaderView, QTableWidget, QTableWidgetItem

from aggregation.reasons import reason_text
from ui.names import level_name
from ui.viewmodels.line import LineViewModel
from ui.viewmodels.reads import Read
from ui.viewmodels.session import SessionModel

SHOWN = 30  # rows on screen (the view model keeps more)
REASON_COLUMN = 4
PAINT_MS = 250  # repainted at most 4 times a second, whatever the line's rate


class ReadsTable(QTableWidget):
    """Newest read first; repainted on a timer when reads arrived, never per read."""

    def __init__(self, line: LineViewModel, session: SessionModel, parent=None) -> None:
        super().__init__(0, 5, parent)
        self.line, self.session = line, session
        self.settings = line.controller.settings
        self.verticalHeader().hide()
        self.verticalHeader().setDefaultSectionSize(32)
        hh = self.horizontalHeader()
        for col in range(4):
            hh.setSectionResizeMode(col, QHeaderView.ResizeMode.ResizeToContents)
        hh.setSectionResizeMode(4, QHeaderView.ResizeMode.Stretch)
        self.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.setSelectionMode(QTableWidget.SelectionMode.NoSelection)
        self.setWordWrap(False)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.dirty = True
        self.painted = 0
        line.reads.changed.connect(self._changed)
        self.timer = QTimer(self)
        self.timer.setInterval(PAINT_MS)
        self.timer.timeout.connect(self.paint)
        self.timer.start()

    def retranslate(self) -> None:
        """Texts in the current language."""
        self.setHorizontalHeaderLabels(
            [
                self.tr("Time"),
                self.tr("Code"),
                self.tr("Level"),
                self.tr("Result"),
                self.tr("Reason"),
            ]
        )
        self.dirty = True
        self.paint()

    def _changed(self) -> None:
        self.dirty = True

    def paint(self) -> None:
        """Show the newest reads if any arrived since the last paint."""
        if not self.dirty:
            return
        self.dirty = False
        self.painted += 1
        lang = self.session.language
        rows = list(self.line.reads.reads)[:SHOWN]
        self.setRowCount(len(rows))
        for i, r in enumerate(rows):
            texts = (
                f"{r.time:%H:%M:%S}",
                r.code or self.tr("(no code read)"),
                level_name(self.settings, r.level, lang),
                self.tr("OK") if r.ok else self.tr("NG"),  # the line's words: OK / NG
                reason_text(r.reason, lang) if r.reason else "",
            )
            for j, text in enumerate(texts):
                item = self.item(i, j)
                if item is None:
                    item = QTableWidgetItem(text)
                    self.setItem(i, j, item)
                elif item.text() != text:
                    item.setText(text)
                if j == REASON_COLUMN:
                    item.setToolTip(text)  # a long reason may end in "…"; the alarm line names it

    def text_of(self, read: Read) -> str:
        """A reject as one sentence naming the code: '<level> <code>: <reason>'."""
        lang = self.session.language
        level = level_name(self.settings, read.level, lang)
        why = reason_text(read.reason, lang)
        if not read.code:
            return self.tr("%1 without a readable code: %2").replace("%1", level).replace("%2", why)
        return f"{level} {read.code}: {why}"
