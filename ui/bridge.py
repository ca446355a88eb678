"""The ONE bridge from the runner thread to Qt: psygnal events re-emitted as queued Qt signals.

The line and the controller emit psygnal signals on their own threads. This QObject lives on the
UI thread; its slots re-emit each event as a Qt signal, and the view models' handlers are
connected with Qt.QueuedConnection, so they always run on the UI thread. Frames are not queued
at all: the newest one is kept (older ones dropped) and a 100 ms timer paints it.
"""

from __future__ import annotations

from PySide6.QtCore import QObject, Qt, Signal, Slot

from ui.viewmodels.line import LineViewModel

Q = Qt.ConnectionType.QueuedConnection


class LineBridge(QObject):
    """Controller and line events → Qt signals → LineViewModel on the UI thread."""

    status = Signal(object)
    alarm_raised = Signal(object)
    alarm_cleared = Signal(str)
    run_finished = Signal(str)
    batch_finished = Signal(object)
    command_failed = Signal(str, str)
    batches_changed = Signal()
    item_verified = Signal(object, str)
    item_rejected = Signal(object, object, str)
    case_accepted = Signal(object, str)
    case_rejected = Signal(object, object, object)

    def __init__(self, controller, model: LineViewModel, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.controller = controller
        self.model = model
        # The receivers are this QObject's own slots, so Qt runs them on the UI thread.
        self.status.connect(self._ui_status, Q)
        self.alarm_raised.connect(self._ui_alarm_raised, Q)
        self.alarm_cleared.connect(self._ui_alarm_cleared, Q)
        self.run_finished.connect(self._ui_run_finished, Q)
        self.batch_finished.connect(self._ui_batch_finished, Q)
        self.command_failed.connect(self._ui_command_failed, Q)
        self.batches_changed.connect(self._ui_batches_changed, Q)
        self.item_verified.connect(self._ui_item_verified, Q)
        self.item_rejected.connect(self._ui_item_rejected, Q)
        self.case_accepted.connect(self._ui_case_accepted, Q)
        self.case_rejected.connect(self._ui_case_rejected, Q)
        self._links = [
            (controller.line.status_changed, self._status),
            (controller.line.alarm_raised, self._alarm_raised),
            (controller.line.alarm_cleared, self._alarm_cleared),
            (controller.line.run_finished, self._run_finished),
            (controller.line.frame_decoded, model.put_frame),
            (controller.events.batch_finished, self._batch_finished),
            (controller.events.command_failed, self._command_failed),
            (controller.events.batches_changed, self._batches_changed),
            (controller.line.item_verified, self._item_verified),
            (controller.line.item_rejected, self._item_rejected),
            (controller.line.case_accepted, self._case_accepted),
            (controller.line.case_rejected, self._case_rejected),
        ]
        for signal, slot in self._links:
            signal.connect(slot)

    # Called on whatever thread emitted; they only emit Qt signals (queued to the UI thread).
    def _status(self, status) -> None:
        self.status.emit(status)

    def _alarm_raised(self, alarm) -> None:
        self.alarm_raised.emit(alarm)

    def _alarm_cleared(self, code: str) -> None:
        self.alarm_cleared.emit(code)

    def _run_finished(self, reason: str) -> None:
        self.run_finished.emit(reason)

    def _batch_finished(self, summary) -> None:
        self.batch_finished.emit(summary)

    def _command_failed(self, command: str, text: str) -> None:
        self.command_failed.emit(command, text)

    def _batches_changed(self) -> None:
        self.batches_changed.emit()

    def _item_verified(self, seq, code: str) -> None:
        self.item_verified.emit(seq, code)

    def _item_rejected(self, seq, code, reason: str) -> None:
        self.item_rejected.emit(seq, code, reason)

    def _case_accepted(self, slot, code: str) -> None:
        self.case_accepted.emit(slot, code)

    def _case_rejected(self, slot, label, reasons) -> None:
        self.case_rejected.emit(slot, label, reasons)

    # On the UI thread.
    @Slot(object, str)
    def _ui_item_verified(self, seq, code: str) -> None:
        self.model.reads.on_item_verified(seq, code)

    @Slot(object, object, str)
    def _ui_item_rejected(self, seq, code, reason: str) -> None:
        self.model.reads.on_item_rejected(seq, code, reason)

    @Slot(object, str)
    def _ui_case_accepted(self, slot, code: str) -> None:
        self.model.reads.on_case_accepted(slot, code)

    @Slot(object, object, object)
    def _ui_case_rejected(self, slot, label, reasons) -> None:
        self.model.reads.on_case_rejected(slot, label, reasons)

    @Slot(object)
    def _ui_status(self, status) -> None:
        self.model.on_status(status)

    @Slot(object)
    def _ui_alarm_raised(self, alarm) -> None:
        self.model.on_alarm_raised(alarm)

    @Slot(str)
    def _ui_alarm_cleared(self, code: str) -> None:
        self.model.on_alarm_cleared(code)

    @Slot(str)
    def _ui_run_finished(self, reason: str) -> None:
        self.model.on_run_finished(reason)

    @Slot(object)
    def _ui_batch_finished(self, summary) -> None:
        self.model.on_batch_finished(summary)

    @Slot(str, str)
    def _ui_command_failed(self, command: str, text: str) -> None:
        self.model.on_command_failed(command, text)

    @Slot()
    def _ui_batches_changed(self) -> None:
        self.model.refresh_batches()

    def disconnect_all(self) -> None:
        """Stop listening to the controller (window closed)."""
        for signal, slot in self._links:
            signal.disconnect(slot, missing_ok=True)
        self._links = []
