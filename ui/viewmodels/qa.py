"""QA: the reject queue, a scanned code's history, and decisions signed by PIN re-entry."""

from __future__ import annotations

from collections.abc import Callable

from psygnal import Signal

from station.qa import cascade as qa_cascade
from station.qa import decisions as qa
from station.qa import label as qa_label
from station.qa import recode as qa_recode
from station.qa import rework as qa_rework
from station.store.db import read_engine
from ui.viewmodels import Runner, run_now
from ui.viewmodels.session import SessionModel

# Reason codes offered per decision; the key is what the audit trail stores.
REASONS: dict[str, tuple[str, ...]] = {
    "release": ("rescan ok", "print acceptable", "false reject"),
    "decommission": ("damaged", "misprint", "sample", "lost"),
    "destroy": ("damaged", "contaminated", "misprint"),
    "replace": ("damaged", "misprint"),
    "recode": ("label damaged", "damaged", "misprint"),
    "unpack": ("rework", "wrong product", "customer return"),
    "unpack_tree": ("rework", "wrong product", "customer return"),
    "aggregate": ("rework", "manual packing"),
    "relabel": ("label damaged",),
}
DECISIONS = tuple(REASONS)
SIGNED = frozenset({"decommission", "destroy", "replace", "recode", "unpack_tree"})


class QAViewModel:
    """State of the QA screen; every change goes through station.qa (decisions, rework, label)."""

    rejects_changed = Signal()
    history_changed = Signal(object)  # qa.History | None
    decided = Signal(str, object)  # decision, result (Decision or dict)
    message = Signal(str, str)  # kind (info|error), text

    def __init__(self, engine, settings, session: SessionModel, *, run: Runner = run_now):
        self.engine = engine
        self.settings = settings
        self.session = session
        self.run = run
        self.rejects: list[dict] = []
        self.history: qa.History | None = None
        self.scanned: str | None = None

    # -- reads --------------------------------------------------------------------------------
    def refresh(self, batch_id: str | None = None) -> None:
        """Reload the reject queue (undecided rejects, newest last)."""
        reveal = self.session.reveal

        def work() -> list[dict]:
            with read_engine(self.engine).connect() as conn:
                return qa.reject_queue(conn, batch_id, reveal=reveal)

        self.run(work, self._got_rejects, self._error)

    def _got_rejects(self, rows: list[dict]) -> None:
        self.rejects = rows
        self.rejects_changed.emit()

    def scan(self, code: str) -> None:
        """A code scanned (handheld wedge or typed): show its history."""
        code = code.strip()
        if not code:
            return
        self.scanned = code
        reveal = self.session.reveal

        def work():
            with read_engine(self.engine).connect() as conn:
                return qa.history(conn, code, reveal=reveal)

        self.run(work, self._got_history, self._no_history)

    def _got_history(self, h) -> None:
        self.history = h
        self.history_changed.emit(h)

    def _no_history(self, exc: Exception) -> None:
        self.history = None
        self.history_changed.emit(None)
        self.message.emit("error", str(exc))

    def _error(self, exc: Exception) -> None:
        self.message.emit("error", str(exc))

    # -- decisions ----------------------------------------------------------------------------
    def allowed(self, decision: str) -> bool:
        """May the logged-in role take this decision?"""
        return self.session.can("qa.decide") and (
            decision not in SIGNED or self.session.can("qa.sign")
        )

    def preview_tree(self, code: str, done: Callable[[dict], None]) -> None:
        """What unpacking `code` top-down would take apart (counts per level); changes nothing."""
        reveal = self.session.reveal

        def work() -> dict:
            with read_engine(self.engine).connect() as conn:
                return qa_cascade.preview(conn, code, reveal=reveal)

        self.run(work, done, self._error)

    def decide(
        self,
        decision: str,
        pin: str,
        *,
        code: str,
        reason: str,
        other: str = "",
        children: tuple[str, ...] = (),
        reuse: bool = False,
        partial: bool = False,
        done: Callable[[object], None] | None = None,
    ) -> None:
        """Sign with the PIN, then carry out `decision` on `code`, all off the UI thread."""
        if decision not in DECISIONS:
            raise ValueError(f"unknown decision {decision!r}")
        if not self.allowed(decision):
            self.message.emit("error", f"role {self.session.role} may not {decision}")
            return
        from station import users

        s, e, user, reveal = self.settings, self.engine, self.session.user, self.session.reveal
        cap = qa_rework.capacities(s)

        def work():
            users.login(e, s, user, pin)  # the e-signature: the same user, the PIN again
            if decision == "release":
                return qa.release(e, code, user=user, reason=reason, capacity=cap, reveal=reveal)
            if decision in ("decommission", "destroy"):
                return qa.retire(
                    e,
                    code,
                    user=user,
                    reason=reason,
                    destroy=decision == "destroy",
                    capacity=cap,
                    reveal=reveal,
                )
            if decision == "replace":
                return qa_rework.replace_child(
                    e, s, code, other, user=user, reason=reason, reveal=reveal
                )
            if decision == "unpack":
                return qa_rework.unpack(
                    e, s, code, user=user, reuse=reuse, reason=reason, reveal=reveal
                )
            if decision == "unpack_tree":
                return qa_cascade.unpack_tree(
                    e, s, code, user=user, reuse=reuse, reason=reason, reveal=reveal
                )
            if decision == "recode":
                return qa_recode.recode(e, s, code, other, user=user, reason=reason, reveal=reveal)
            if decision == "aggregate":
                return qa_rework.aggregate(
                    e,
                    s,
                    code,
                    list(children),
                    user=user,
                    partial=partial,
                    reason=reason,
                    reveal=reveal,
                )
            return qa_label.relabel(e, s, code, user=user, reveal=reveal)

        def ok(result) -> None:
            self.decided.emit(decision, result)
            if done:
                done(result)
            self.refresh()
            if self.scanned:
                self.scan(self.scanned)

        self.run(work, ok, self._error)
