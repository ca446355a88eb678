"""QA screen: the reject queue, a rescanned code's history, decisions signed with the PIN."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QButtonGroup,
    QCheckBox,
    QComboBox,
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QHeaderView,
    QLineEdit,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from aggregation.reasons import reason_text
from ui.names import action_name, level_name, name
from ui.viewmodels.qa import DECISIONS, REASONS, QAViewModel
from ui.widgets.common import MessageLine, button, label
from ui.widgets.dialogs import PinDialog


def _t(value) -> str:
    return f"{value:%H:%M:%S}" if value else "–"


def _td(value) -> str:
    return f"{value:%m-%d %H:%M:%S}" if value else "–"


def _table(headers: int) -> QTableWidget:
    t = QTableWidget(0, headers)
    t.verticalHeader().hide()
    t.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
    t.setSelectionBehavior(QTableWidget.SelectionBehavior.SelectRows)
    t.setSelectionMode(QTableWidget.SelectionMode.SingleSelection)
    t.verticalHeader().setDefaultSectionSize(40)
    t.setWordWrap(False)
    return t


class QAScreen(QWidget):
    """Binds to QAViewModel."""

    def __init__(self, qa: QAViewModel, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.qa = qa
        self.settings = qa.settings
        self.dialog: PinDialog | None = None
        self.preview: dict | None = None
        root = QHBoxLayout(self)
        root.setContentsMargins(16, 12, 16, 12)
        root.setSpacing(16)

        left = QVBoxLayout()
        root.addLayout(left, 10)
        head = QHBoxLayout()
        self.queue_caption = label("", "title")
        self.refresh_btn = button()
        head.addWidget(self.queue_caption, 1)
        head.addWidget(self.refresh_btn)
        left.addLayout(head)
        self.queue = _table(3)
        hh = self.queue.horizontalHeader()
        hh.setSectionResizeMode(0, QHeaderView.ResizeMode.ResizeToContents)
        hh.setSectionResizeMode(1, QHeaderView.ResizeMode.ResizeToContents)  # codes never cut
        hh.setSectionResizeMode(2, QHeaderView.ResizeMode.Stretch)
        self.queue.cellClicked.connect(self._row_clicked)
        left.addWidget(self.queue, 1)
        self.refresh_btn.clicked.connect(lambda: qa.refresh())

        right = QVBoxLayout()
        right.setSpacing(10)
        root.addLayout(right, 10)
        self.scan_field = QLineEdit()
        self.scan_field.returnPressed.connect(self._scanned)
        right.addWidget(self.scan_field)
        panel = QFrame()
        panel.setObjectName("panel")
        grid = QGridLayout(panel)
        grid.setContentsMargins(12, 8, 12, 8)
        grid.setHorizontalSpacing(12)
        grid.setVerticalSpacing(2)
        self.fields: dict[str, tuple] = {}
        for i, key in enumerate(("code", "state", "batch", "parent", "pair", "children")):
            cap, val = label("", "caption"), label("–", "sbvalue")
            val.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
            grid.addWidget(cap, i, 0)
            grid.addWidget(val, i, 1)
            self.fields[key] = (cap, val)
        grid.setColumnStretch(1, 1)
        right.addWidget(panel)
        self.trail = _table(2)
        self.trail.horizontalHeader().setSectionResizeMode(
            0, QHeaderView.ResizeMode.ResizeToContents
        )
        self.trail.horizontalHeader().setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        self.trail.setSelectionMode(QTableWidget.SelectionMode.NoSelection)
        self.trail.verticalHeader().setDefaultSectionSize(30)
        right.addWidget(self.trail, 1)

        self.group = QButtonGroup(self)
        self.group.setExclusive(True)
        self.decision_btns: dict[str, object] = {}
        dgrid = QGridLayout()
        dgrid.setSpacing(8)
        for i, d in enumerate(DECISIONS):
            b = button(checkable=True)
            b.setMinimumWidth(120)
            self.group.addButton(b)
            self.decision_btns[d] = b
            b.clicked.connect(lambda _=False, d=d: self._choose(d))
            dgrid.addWidget(b, i // 3, i % 3)
        right.addLayout(dgrid)
        row = QHBoxLayout()
        self.reason = QComboBox()
        self.reason.setMinimumWidth(160)
        self.other = QLineEdit()
        self.reuse = QCheckBox()
        self.sign_btn = button()
        # Below the decisions, one row: reason, the other code(s) or reuse, and Sign.
        self.reason.setMinimumWidth(230)
        row.addWidget(self.reason)
        row.addWidget(self.other, 1)
        row.addWidget(self.reuse)
        row.addStretch(0)
        row.addWidget(self.sign_btn)
        right.addLayout(row)
        self.message = MessageLine()
        right.addWidget(self.message)
        self.sign_btn.clicked.connect(self.ask_signature)
        self.decision: str | None = None

        qa.rejects_changed.connect(self._rejects)
        qa.history_changed.connect(self._history)
        qa.message.connect(self._message)
        qa.decided.connect(self._decided)
        self.retranslate()

    # -- texts --------------------------------------------------------------------------------
    def retranslate(self) -> None:
        """Texts in the current language."""
        self.refresh_btn.setText(self.tr("Refresh"))
        self.scan_field.setPlaceholderText(self.tr("Scan a code with the hand scanner, or type it"))
        caps = {
            "code": self.tr("Code"),
            "state": self.tr("State"),
            "batch": self.tr("Batch"),
            "parent": self.tr("In"),
            "pair": self.tr("Pair"),
            "children": self.tr("Holds"),
        }
        for k, (cap, _val) in self.fields.items():
            cap.setText(caps[k])
        self.queue.setHorizontalHeaderLabels([self.tr("Time"), self.tr("Code"), self.tr("Reason")])
        self.trail.setHorizontalHeaderLabels([self.tr("Time"), self.tr("What happened")])
        for d, b in self.decision_btns.items():
            b.setText(name(d))
        self.reuse.setText(self.tr("Reuse case code"))
        self.sign_btn.setText(self.tr("Sign…"))
        self._rejects()
        self._history(self.qa.history)
        self._choose(self.decision)
        self.message.retranslate()

    # -- queue --------------------------------------------------------------------------------
    def _rejects(self) -> None:
        rows = self.qa.rejects
        self.queue_caption.setText(self.tr("Reject queue (%n)", "", len(rows)))
        self.queue.setRowCount(len(rows))
        lang = self.qa.session.language
        for i, r in enumerate(rows):
            code = r["code"] or self.tr("(no code read)")
            for j, text in enumerate((_t(r["time"]), code, reason_text(r["reason"], lang))):
                self.queue.setItem(i, j, QTableWidgetItem(text))

    def _row_clicked(self, row: int, _col: int) -> None:
        r = self.qa.rejects[row] if row < len(self.qa.rejects) else None
        if r and r["code"] and "*" not in r["code"]:
            self.scan_field.setText(r["code"])
            self.qa.scan(r["code"])

    def _scanned(self) -> None:
        self.message.clear()
        self.qa.scan(self.scan_field.text())
        self.scan_field.selectAll()

    # -- history ------------------------------------------------------------------------------
    def _history(self, h) -> None:
        v = {k: val for k, (_c, val) in self.fields.items()}
        lang = self.qa.session.language
        if h is None:
            for val in v.values():
                val.setText("–")
            self.trail.setRowCount(0)
            self._enable()
            return
        v["code"].setText(f"{level_name(self.settings, h.level, lang)}  {h.code}")
        why = f" · {reason_text(h.reason, lang)}" if h.reason else ""
        v["state"].setText(f"{name(h.state)}{why}")
        v["batch"].setText(h.batch_id or "–")
        parent = (
            f"{level_name(self.settings, h.parent_level, lang)} {h.parent}" if h.parent else "–"
        )
        v["parent"].setText(parent)
        pair = (
            f"{level_name(self.settings, h.pair_level, lang)} {h.pair} · {name(h.pair_state)}"
            if h.pair
            else "–"
        )
        v["pair"].setText(pair)
        holds = self.tr("%n code(s)", "", len(h.children))
        if h.container_status:
            holds += f" · {name(h.container_status)}"
        v["children"].setText(holds if h.children or h.container_status else "–")
        events = [(r["time"], f"{r['user']}: {name(r['action'])} {r['parent']}") for r in h.links]
        for r in h.trail:
            change = f" {name(r['old']) if r['old'] else ''}→{name(r['new'])}" if r["new"] else ""
            events.append((r["time"], f"{r['user']}: {action_name(r['action'])}{change}".strip()))
        events.sort(key=lambda e: e[0])
        self.trail.setRowCount(len(events))
        for i, (when, text) in enumerate(events):
            self.trail.setItem(i, 0, QTableWidgetItem(_td(when)))
            self.trail.setItem(i, 1, QTableWidgetItem(text))
        self.trail.scrollToBottom()
        self._enable()

    # -- decisions ----------------------------------------------------------------------------
    def _choose(self, decision: str | None) -> None:
        self.decision = decision
        self.reason.clear()
        for key in REASONS.get(decision or "", ()):
            self.reason.addItem(name(key), key)
        self.other.setVisible(decision in ("replace", "recode", "aggregate"))
        self.other.setPlaceholderText(
            self.tr("New code (scan)")
            if decision in ("replace", "recode")
            else self.tr("Codes to put in (space between)")
        )
        self.reuse.setVisible(decision in ("unpack", "unpack_tree"))
        self._enable()

    def _enable(self) -> None:
        h = self.qa.history
        for d, b in self.decision_btns.items():
            b.setEnabled(h is not None and self.qa.allowed(d))
        self.sign_btn.setEnabled(
            h is not None and self.decision is not None and self.qa.allowed(self.decision)
        )

    def ask_signature(self) -> None:
        """Open the PIN dialog for the chosen decision on the scanned code."""
        d, code = self.decision, self.qa.scanned
        if d is None or code is None:
            return
        if d == "unpack_tree":  # the count first: the signer sees what comes apart
            self.qa.preview_tree(code, self._sign_tree)
            return
        meaning = self.tr("%1: %2 (%3). Enter your PIN to sign.").replace("%1", name(d))
        meaning = meaning.replace("%2", code).replace("%3", self.reason.currentText())
        self._pin_dialog(meaning)

    def _sign_tree(self, preview: dict) -> None:
        lang = self.qa.session.language
        counts = ", ".join(
            f"{level_name(self.settings, lv, lang)} × {n:,}" for lv, n in preview["counts"].items()
        )
        meaning = (
            self.tr("Unpack all of %1 %2: %3 come apart (%4). Enter your PIN to sign.")
            .replace("%1", level_name(self.settings, preview["level"], lang))
            .replace("%2", preview["container"])
            .replace("%3", counts or "–")
            .replace("%4", self.reason.currentText())
        )
        self.preview = preview
        self._pin_dialog(meaning)

    def _pin_dialog(self, meaning: str) -> None:
        self.dialog = PinDialog(self, self.tr("Signature"), meaning)
        self.dialog.pin_entered.connect(self._signed)
        self.dialog.open()

    def _signed(self, pin: str) -> None:
        d, code = self.decision, self.qa.scanned
        if d is None or code is None:
            return
        other = self.other.text().strip()
        self.qa.decide(
            d,
            pin,
            code=code,
            reason=self.reason.currentData() or d,
            other=other,
            children=tuple(other.split()),
            reuse=self.reuse.isChecked(),
        )

    def _decided(self, decision: str, _result) -> None:
        self.message.say("info", lambda: self.tr("Done: %1.").replace("%1", name(decision)))

    def _message(self, kind: str, text: str) -> None:
        if "wrong PIN" in text:
            self.message.say(kind, lambda: self.tr("Wrong PIN: nothing was changed."))
        else:
            self.message.say(kind, lambda: text)
