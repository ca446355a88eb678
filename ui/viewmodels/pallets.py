"""The operator's pallets: the open and held pallets of the batch, and the pallet operations
(强制满垛 close now, 暂存 hold, 提取未成垛 resume, 清空垛 clear, 合垛 merge) through the controller.

Clear and merge take cases off pallets: they need a role allowed `pallet.rework` and are signed
by entering the PIN again (as QA's signed decisions are).
"""

from __future__ import annotations

from collections.abc import Callable

from psygnal import Signal

from station.qa.pallets import HELD, OPEN, SIGNED, PalletView
from ui.viewmodels import Runner, run_now
from ui.viewmodels.session import SessionModel

OPS = ("close", "hold", "resume", "clear", "merge")


class PalletViewModel:
    """State of the operator screen's pallet panel; every operation goes to the controller."""

    changed = Signal()  # the pallets were reloaded
    done = Signal(str, object)  # operation, result dict
    message = Signal(str, str)  # kind (info|error), text

    def __init__(self, controller, session: SessionModel, *, run: Runner = run_now) -> None:
        self.controller = controller
        self.session = session
        self.run = run
        self.batch_id: str | None = None
        self.pallets: list[PalletView] = []
        self.busy = False

    # -- reads --------------------------------------------------------------------------------
    def refresh(self, batch_id: str | None) -> None:
        """Reload the open and held pallets of `batch_id` off the UI thread."""
        self.batch_id = batch_id
        self.run(lambda: self.controller.pallets(batch_id), self._got, self._error)

    def _got(self, rows: list[PalletView]) -> None:
        self.pallets = list(rows)
        self.changed.emit()

    @property
    def open(self) -> PalletView | None:
        """The pallet being stacked, if any."""
        return next((p for p in self.pallets if p.status == OPEN), None)

    @property
    def held(self) -> list[PalletView]:
        """Pallets parked aside (暂存), oldest first."""
        return [p for p in self.pallets if p.status == HELD]

    # -- operations ---------------------------------------------------------------------------
    def allowed(self, op: str) -> bool:
        """May the logged-in role do `op`?"""
        return self.session.can("pallet.rework" if op in SIGNED else "line.run")

    def enabled(self, op: str) -> bool:
        """Is there something for `op` to act on (and may this user do it)?"""
        if self.busy or not self.allowed(op):
            return False
        if op in ("close", "hold", "clear"):
            return self.open is not None
        if op == "resume":
            return bool(self.held)
        return self.batch_id is not None

    def do(
        self,
        op: str,
        *,
        pin: str = "",
        code: str = "",
        a: str = "",
        b: str = "",
        done: Callable[[dict], None] | None = None,
    ) -> None:
        """Carry out `op` (signed with `pin` when it takes cases apart), off the UI thread."""
        if op not in OPS:
            raise ValueError(f"unknown pallet operation {op!r}")
        user = self.session.user
        if user is None or not self.allowed(op):
            self.message.emit("error", f"role {self.session.role} may not {op} pallets")
            return
        args = {k: v.strip() for k, v in (("code", code), ("a", a), ("b", b)) if v.strip()}
        if self.batch_id is not None:
            args["batch"] = self.batch_id
        ctl = self.controller

        def work() -> dict:
            if op in SIGNED:
                from station import users

                users.login(ctl.engine, ctl.settings, user, pin)  # the e-signature
            return ctl.pallet(op, args, user)

        def ok(result: dict) -> None:
            self.busy = False
            self.done.emit(op, result)
            if done is not None:
                done(result)
            self.refresh(self.batch_id)

        def failed(exc: Exception) -> None:
            self.busy = False
            self._error(exc)
            self.changed.emit()

        self.busy = True
        self.changed.emit()
        self.run(work, ok, failed)

    def _error(self, exc: Exception) -> None:
        self.message.emit("error", str(exc))
