"""Work orders (生产工单) on the touchscreen: a production manager creates a batch.

Product from the configured list, lot, planned quantity, production and expiry dates; the order
number is suggested (station id, date and sequence, as station.store.batches names them) and may
be edited; the packing capacities per level are shown, read-only (they come from config.toml).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from itertools import pairwise

from psygnal import Signal
from sqlalchemy import func, select

from station.store import batches
from station.store.db import read_engine
from station.store.models import Batch
from ui.viewmodels import Runner, run_now
from ui.viewmodels.session import SessionModel

_batches = Batch.__table__
NEED_QUANTITY = "need_quantity"  # message texts the screen shows in its language
NEED_LOT = "need_lot"


@dataclass(frozen=True)
class Ratio:
    """One packing step: `capacity` codes of `child` go into one `parent`."""

    child: str
    parent: str
    capacity: int


def ratios(settings) -> list[Ratio]:
    """The line's packing ratios, lowest level first (the inner/outer pair is 1:1, left out)."""
    levels = [lv for lv in settings.levels if lv.name != "inner"]
    return [Ratio(a.name, b.name, b.capacity) for a, b in pairwise(levels)]


def ratio_text(settings) -> str:
    """'1 : 24 : 20' — how many of each level go into one of the next."""
    return " : ".join(["1", *(f"{r.capacity:,}" for r in ratios(settings))])


class OrdersViewModel:
    """State of the work-order screen; batches are created through station.store.batches."""

    suggested = Signal(str)  # the next order number
    created = Signal(object)  # BatchView
    message = Signal(str, str)  # kind (info|error), text

    def __init__(self, engine, settings, session: SessionModel, *, run: Runner = run_now):
        self.engine, self.settings, self.session, self.run = engine, settings, session, run
        self.products = [(p.sku, p.name) for p in settings.products]
        self.ratios = ratios(settings)
        self.order_number = ""

    def suggest(self, today: date | None = None) -> None:
        """Suggest the next order number: <station>-<yyyymmdd>-<sequence> (editable)."""
        day = today or date.today()
        station = self.settings.station.id

        def work() -> str:
            with read_engine(self.engine).connect() as conn:
                n = conn.execute(select(func.count()).select_from(_batches)).scalar_one() + 1
                while True:
                    order = f"{station}-{day:%Y%m%d}-{n:04d}"
                    if not conn.execute(
                        select(_batches.c.id).where(_batches.c.id == order)
                    ).first():
                        return order
                    n += 1

        self.run(work, self._suggested, self._error)

    def _suggested(self, order: str) -> None:
        self.order_number = order
        self.suggested.emit(order)

    def create(
        self,
        *,
        product: str,
        lot: str,
        quantity: str | int,
        produced: date | None,
        expires: date | None,
        order: str,
    ) -> None:
        """Create the batch (released, ready to start); errors come back as messages."""
        if not self.session.can("batch.manage"):
            self.message.emit("error", f"role {self.session.role} may not create batches")
            return
        try:
            qty = int(str(quantity).replace(",", "").strip())
        except ValueError:
            self.message.emit("error", NEED_QUANTITY)
            return
        if not lot.strip():
            self.message.emit("error", NEED_LOT)
            return
        e, s, user = self.engine, self.settings, self.session.user or ""
        order = order.strip() or None

        def work():
            return batches.create(
                e,
                s,
                product=product,
                lot=lot.strip(),
                quantity=qty,
                produced=produced,
                expires=expires,
                batch_id=order,
                user=user,
            )

        self.run(work, self._created, self._error)

    def _created(self, batch) -> None:
        self.created.emit(batch)
        self.suggest()

    def _error(self, exc: Exception) -> None:
        self.message.emit("error", str(exc))
