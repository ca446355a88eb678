"""Work-order screen: create a batch (product, lot, planned quantity, dates, order number)."""

from __future__ import annotations

from PySide6.QtCore import QDate
from PySide6.QtGui import QIntValidator
from PySide6.QtWidgets import (
    QComboBox,
    QDateEdit,
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QLineEdit,
    QVBoxLayout,
    QWidget,
)

from station.store.batches import MAX_QUANTITY
from ui.names import level_name
from ui.viewmodels.orders import NEED_LOT, NEED_QUANTITY, OrdersViewModel
from ui.widgets.common import MessageLine, button, label

SHELF_DAYS = 365  # the expiry date offered first: production date plus this


def _date(d: QDate):
    return d.toPython()


class OrdersScreen(QWidget):
    """Binds to OrdersViewModel; the capacities per level are shown, not edited."""

    def __init__(self, orders: OrdersViewModel, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.orders = orders
        self.settings = orders.settings
        root = QHBoxLayout(self)
        root.setContentsMargins(16, 12, 16, 12)
        root.setSpacing(24)

        form = QVBoxLayout()
        form.setSpacing(8)
        root.addLayout(form, 12)
        self.title = label("", "title")
        form.addWidget(self.title)
        grid = QGridLayout()
        grid.setHorizontalSpacing(12)
        grid.setVerticalSpacing(8)
        self.product = QComboBox()
        for sku, name in orders.products:
            self.product.addItem(f"{sku} · {name}", sku)
        self.lot = QLineEdit()
        self.quantity = QLineEdit()
        self.quantity.setValidator(QIntValidator(1, MAX_QUANTITY, self))
        today = QDate.currentDate()
        self.produced = QDateEdit(today)
        self.expires = QDateEdit(today.addDays(SHELF_DAYS))
        for d in (self.produced, self.expires):
            d.setCalendarPopup(True)
            d.setDisplayFormat("yyyy-MM-dd")
        self.order = QLineEdit()
        self.captions: dict[str, object] = {}
        fields = (
            ("product", self.product),
            ("lot", self.lot),
            ("quantity", self.quantity),
            ("produced", self.produced),
            ("expires", self.expires),
            ("order", self.order),
        )
        for i, (key, w) in enumerate(fields):
            cap = label("", "caption")
            self.captions[key] = cap
            grid.addWidget(cap, i, 0)
            grid.addWidget(w, i, 1)
        grid.setColumnStretch(1, 1)
        form.addLayout(grid)
        row = QHBoxLayout()
        self.create_btn = button()
        self.create_btn.setMinimumWidth(240)
        self.create_btn.clicked.connect(self.create)
        row.addStretch(1)
        row.addWidget(self.create_btn)
        form.addLayout(row)
        self.message = MessageLine()
        form.addWidget(self.message)
        form.addStretch(1)

        side = QVBoxLayout()
        side.setSpacing(8)
        root.addLayout(side, 8)
        self.cap_title = label("", "title")
        side.addWidget(self.cap_title)
        panel = QFrame()
        panel.setObjectName("panel")
        self.cap_grid = QGridLayout(panel)
        self.cap_grid.setContentsMargins(12, 8, 12, 8)
        self.cap_rows: list[tuple] = []
        for i, r in enumerate(orders.ratios):
            what, n = label("", "caption", wrap=True), label(f"{r.capacity:,}", "sbvalue")
            self.cap_grid.addWidget(what, i, 0)
            self.cap_grid.addWidget(n, i, 1)
            self.cap_rows.append((r, what))
        self.cap_grid.setColumnStretch(0, 1)
        side.addWidget(panel)
        self.cap_note = label("", "caption", wrap=True)
        side.addWidget(self.cap_note)
        side.addStretch(1)

        orders.suggested.connect(lambda order: self.order.setText(order))
        orders.created.connect(self._created)
        orders.message.connect(self._message)
        self.retranslate()

    def retranslate(self) -> None:
        """Texts in the current language."""
        self.title.setText(self.tr("New work order"))
        caps = {
            "product": self.tr("Product"),
            "lot": self.tr("Lot"),
            "quantity": self.tr("Planned quantity"),
            "produced": self.tr("Production date"),
            "expires": self.tr("Expiry date"),
            "order": self.tr("Order number"),
        }
        for k, c in self.captions.items():
            c.setText(caps[k])
        self.lot.setPlaceholderText(self.tr("e.g. L2026-12-07A"))
        self.quantity.setPlaceholderText(self.tr("items"))
        self.create_btn.setText(self.tr("Create work order"))
        self.cap_title.setText(self.tr("Packing per container"))
        lang = self.orders.session.language
        for r, what in self.cap_rows:
            what.setText(
                self.tr("%1 per %2")
                .replace("%1", level_name(self.settings, r.child, lang))
                .replace("%2", level_name(self.settings, r.parent, lang))
            )
        self.cap_note.setText(self.tr("Set in config.toml; IT changes them."))
        self.message.retranslate()

    def refresh(self) -> None:
        """Shown: suggest the next order number."""
        self.orders.suggest()

    def create(self) -> None:
        """Create the batch from the form."""
        self.message.clear()
        self.orders.create(
            product=self.product.currentData(),
            lot=self.lot.text(),
            quantity=self.quantity.text(),
            produced=_date(self.produced.date()),
            expires=_date(self.expires.date()),
            order=self.order.text(),
        )

    def _message(self, kind: str, text: str) -> None:
        own = {
            NEED_QUANTITY: lambda: self.tr("Enter the planned quantity (a whole number)."),
            NEED_LOT: lambda: self.tr("Enter the lot number."),
        }
        self.message.say(kind, own.get(text, lambda: text))

    def _created(self, batch) -> None:
        self.message.say(
            "info",
            lambda: (
                self.tr("Work order %1 created: %2 items, released to the line.")
                .replace("%1", batch.id)
                .replace("%2", f"{batch.quantity:,}")
            ),
        )
        self.lot.clear()
        self.quantity.clear()
