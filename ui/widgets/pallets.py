"""The operator screen's pallet panel: the open pallet and the held ones, and the operations
强制满垛 close now, 暂存 hold, 提取未成垛 resume (scan a case), 清空垛 clear and 合垛 merge.

Close and hold ask for a confirmation; resume and merge take scanned (or tapped) codes; clear and
merge are signed with the PIN. Every button is at least 15 mm square on the screen it shows on.
"""

from __future__ import annotations

import math
import time

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QDialog,
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QLineEdit,
    QVBoxLayout,
    QWidget,
)

from ui.viewmodels.line import LineViewModel
from ui.viewmodels.pallets import PalletViewModel
from ui.viewmodels.session import SessionModel
from ui.widgets.common import MessageLine, button, label
from ui.widgets.dialogs import ConfirmDialog, PinDialog

TOUCH_MM = 15.0
REFRESH_S = 1.0  # while the line runs, the panel reloads its pallets at most this often


def mm_px(widget: QWidget, mm: float) -> int:
    """Pixels of `mm` millimetres on the widget's screen (96 dpi when the screen does not say)."""
    screen = widget.screen()
    dpi = screen.physicalDotsPerInch() if screen is not None else 96.0
    if not 50 <= dpi <= 400:  # a panel reporting no (or a nonsense) physical size
        dpi = 96.0
    return math.ceil(mm / 25.4 * dpi)


class ScanDialog(QDialog):
    """Codes from the handheld (it types them and ends with Enter) or tapped from a list."""

    scanned = Signal(list)

    def __init__(
        self,
        parent: QWidget,
        title: str,
        text: str,
        prompts: list[str],
        picks: list[tuple[str, str]],
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle(title)
        self.setMinimumWidth(640)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(24, 24, 24, 24)
        lay.setSpacing(12)
        lay.addWidget(label(title, "title"))
        lay.addWidget(label(text, "message", wrap=True))
        self.fields: list[QLineEdit] = []
        for prompt in prompts:
            f = QLineEdit()
            f.setPlaceholderText(prompt)
            f.returnPressed.connect(self._next)
            lay.addWidget(f)
            self.fields.append(f)
        self.picks = []
        row = QHBoxLayout()
        for shown, code in picks[:4]:
            b = button(shown)
            b.clicked.connect(lambda _=False, c=code: self.pick(c))
            row.addWidget(b)
            self.picks.append(b)
        lay.addLayout(row)
        row = QHBoxLayout()
        self.cancel = button(self.tr("Cancel"))
        self.ok = button(self.tr("Confirm"))
        self.cancel.clicked.connect(self.reject)
        self.ok.clicked.connect(self._ok)
        row.addWidget(self.cancel)
        row.addStretch(1)
        row.addWidget(self.ok)
        lay.addLayout(row)
        self.fields[0].setFocus()

    def pick(self, code: str) -> None:
        """A tapped pallet fills the first empty field."""
        for f in self.fields:
            if not f.text().strip():
                f.setText(code)
                break
        self._next()

    def _next(self) -> None:
        for f in self.fields:
            if not f.text().strip():
                f.setFocus()
                return
        self._ok()

    def _ok(self) -> None:
        codes = [f.text().strip() for f in self.fields]
        if all(codes):
            self.scanned.emit(codes)
            self.accept()


class PalletPanel(QFrame):
    """The open pallet, the held ones, and the five pallet operations."""

    def __init__(
        self, model: PalletViewModel, session: SessionModel, line: LineViewModel, parent=None
    ) -> None:
        super().__init__(parent)
        self.setObjectName("panel")
        self.model, self.session, self.line = model, session, line
        self.dialog: QDialog | None = None
        self._asked = 0.0
        lay = QVBoxLayout(self)
        lay.setContentsMargins(12, 8, 12, 8)
        lay.setSpacing(6)
        self.info = label("", "message", wrap=True)
        lay.addWidget(self.info)
        self.grid = QGridLayout()
        self.grid.setSpacing(8)
        ops = ("close", "hold", "resume", "clear", "merge")
        self.buttons = {op: button(name="pallet") for op in ops}
        self.per_row = 0
        self.buttons["close"].clicked.connect(self.confirm_close)
        self.buttons["hold"].clicked.connect(self.confirm_hold)
        self.buttons["resume"].clicked.connect(self.ask_resume)
        self.buttons["clear"].clicked.connect(self.sign_clear)
        self.buttons["merge"].clicked.connect(self.ask_merge)
        lay.addLayout(self.grid)
        self.message = MessageLine()
        self.message.hide()  # shown with the first outcome: the height goes to the reads till then
        lay.addWidget(self.message)
        model.changed.connect(self._show)
        model.done.connect(self._done)
        model.message.connect(self._message)
        line.selection_changed.connect(lambda b: model.refresh(b.id if b else None))
        line.status_changed.connect(self._status)
        line.batch_closed.connect(lambda _s: model.refresh(model.batch_id))
        session.logged_in.connect(lambda *_: self._show())
        session.logged_out.connect(self._show)
        self.retranslate()

    def showEvent(self, event) -> None:
        """Size the buttons for the screen the panel is on (≥ 15 mm), and lay them out."""
        side = mm_px(self, TOUCH_MM)
        for b in self.buttons.values():
            b.setMinimumSize(side, side)
        self._arrange()
        super().showEvent(event)

    def resizeEvent(self, event) -> None:
        """One row of buttons when they fit, else two."""
        super().resizeEvent(event)
        self._arrange()

    def _arrange(self) -> None:
        spacing = self.grid.spacing()
        need = sum(max(b.minimumWidth(), b.sizeHint().width()) for b in self.buttons.values())
        room = self.contentsRect().width() - 24
        per_row = 5 if need + 4 * spacing <= room else 3
        if per_row == self.per_row:
            return
        self.per_row = per_row
        for i, b in enumerate(self.buttons.values()):
            self.grid.addWidget(b, i // per_row, i % per_row)

    # -- texts --------------------------------------------------------------------------------
    def retranslate(self) -> None:
        """Texts in the current language."""
        for op, text in (
            ("close", self.tr("Close now")),
            ("hold", self.tr("Hold")),
            ("resume", self.tr("Resume")),
            ("clear", self.tr("Clear")),
            ("merge", self.tr("Merge")),
        ):
            self.buttons[op].setText(text)
        self.message.retranslate()
        self.per_row = 0  # the texts' widths changed
        if self.isVisible():
            self._arrange()
        self._show()

    def _show(self) -> None:
        m = self.model
        p = m.open
        if p is None:
            text = self.tr("No pallet open")
        else:
            text = (
                self.tr("Open pallet %1: %2 of %3 cases")
                .replace("%1", p.code)
                .replace("%2", str(p.cases))
                .replace("%3", str(p.capacity))
            )
        if m.held:
            held = ", ".join(f"{h.code} ({h.cases})" for h in m.held)
            text += " · " + self.tr("Held: %1").replace("%1", held)
        self.info.setText(text)
        for op, b in self.buttons.items():
            b.setEnabled(m.enabled(op))

    def _status(self, _status) -> None:
        """While the line runs, reload the pallets about once a second."""
        if self.line.running and time.monotonic() - self._asked > REFRESH_S:
            self._asked = time.monotonic()
            self.model.refresh(self.model.batch_id)

    # -- the operations -----------------------------------------------------------------------
    def confirm_close(self) -> None:
        """强制满垛: confirm, then close the open pallet as it is."""
        p = self.model.open
        if p is None:
            return
        text = (
            self.tr(
                "Close pallet %1 now with %2 of %3 cases? It closes short and its label prints."
            )
            .replace("%1", p.code)
            .replace("%2", str(p.cases))
            .replace("%3", str(p.capacity))
        )
        self._confirm(self.tr("Close pallet now"), text, self.tr("Close now"), "close")

    def confirm_hold(self) -> None:
        """暂存: confirm, then park the open pallet."""
        p = self.model.open
        if p is None:
            return
        text = (
            self.tr(
                "Park pallet %1 with %2 cases? The line starts a new pallet; scan a case on it "
                "to resume it."
            )
            .replace("%1", p.code)
            .replace("%2", str(p.cases))
        )
        self._confirm(self.tr("Hold pallet"), text, self.tr("Hold"), "hold")

    def _confirm(self, title: str, text: str, ok: str, op: str) -> None:
        self.dialog = ConfirmDialog(self, title, text, [])
        self.dialog.ok.setText(ok)
        self.dialog.accepted.connect(lambda: self.model.do(op))
        self.dialog.open()

    def ask_resume(self) -> None:
        """提取未成垛: scan any case on the held pallet (or tap it)."""
        shown = self.tr("%1 · %2 cases")
        picks = [
            (shown.replace("%1", h.code).replace("%2", str(h.cases)), h.code)
            for h in self.model.held
        ]
        self.dialog = ScanDialog(
            self,
            self.tr("Resume a held pallet"),
            self.tr("Scan any case on the held pallet (or its label), or tap the pallet below."),
            [self.tr("Case or pallet code")],
            picks,
        )
        self.dialog.scanned.connect(lambda codes: self.model.do("resume", code=codes[0]))
        self.dialog.open()

    def sign_clear(self) -> None:
        """清空垛: sign with the PIN, then take every case off the open pallet."""
        p = self.model.open
        if p is None:
            return
        meaning = (
            self.tr(
                "Clear pallet %1: its %2 cases come off and the pallet code is retired. Enter "
                "your PIN to sign."
            )
            .replace("%1", p.code)
            .replace("%2", str(p.cases))
        )
        code = p.code
        self._sign(
            self.tr("Clear pallet"), meaning, lambda pin: self.model.do("clear", pin=pin, code=code)
        )

    def ask_merge(self) -> None:
        """合垛: scan (or tap) the pallet that takes the cases, then the one to empty; sign."""
        picks = [(f"{p.code} ({p.cases})", p.code) for p in self.model.pallets]
        cap = self.model.pallets[0].capacity if self.model.pallets else 0
        self.dialog = ScanDialog(
            self,
            self.tr("Merge pallets"),
            self.tr(
                "Scan a case (or the label) of the pallet that takes the cases, then one of the "
                "pallet to empty. At most %1 cases fit on a pallet."
            ).replace("%1", str(cap or "–")),
            [self.tr("Pallet that takes the cases (A)"), self.tr("Pallet to empty (B)")],
            picks,
        )
        self.dialog.scanned.connect(self._sign_merge)
        self.dialog.open()

    def _sign_merge(self, codes: list[str]) -> None:
        a, b = codes
        meaning = (
            self.tr("Merge pallet %1 onto %2; %1 is retired. Enter your PIN to sign.")
            .replace("%1", b)
            .replace("%2", a)
        )
        self._sign(
            self.tr("Merge pallets"), meaning, lambda pin: self.model.do("merge", pin=pin, a=a, b=b)
        )

    def _sign(self, title: str, meaning: str, then) -> None:
        self.dialog = PinDialog(self, title, meaning)
        self.dialog.pin_entered.connect(then)
        self.dialog.open()

    # -- outcomes -----------------------------------------------------------------------------
    def _done(self, op: str, r: dict) -> None:
        def render() -> str:  # again after a language switch
            if op == "close":
                text = self.tr("Pallet %1 closed with %2 cases.").replace("%1", r["pallet"])
                text = text.replace("%2", str(r["cases"]))
            elif op == "hold":
                text = self.tr("Pallet %1 held.").replace("%1", r["pallet"])
            elif op == "resume":
                text = self.tr("Pallet %1 is open again (%2 cases).").replace("%1", r["pallet"])
                text = text.replace("%2", str(r["cases"]))
            elif op == "clear":
                text = self.tr("Pallet %1 cleared: %2 cases off.").replace("%1", r["pallet"])
                text = text.replace("%2", str(len(r["cases"])))
            else:
                text = (
                    self.tr("%1 cases moved onto pallet %2; pallet %3 retired.")
                    .replace("%1", str(len(r["moved"])))
                    .replace("%2", r["into"])
                    .replace("%3", r["from"])
                )
            if r.get("printed") is False:
                text += " " + self.tr("Its label did not print: reprint it (QA, Relabel).")
            return text

        self.message.say("error" if r.get("printed") is False else "info", render)
        self.message.show()

    def _message(self, kind: str, text: str) -> None:
        if "wrong PIN" in text:
            self.message.say(kind, lambda: self.tr("Wrong PIN: nothing was changed."))
        else:
            self.message.say(kind, lambda: text)
        self.message.show()
