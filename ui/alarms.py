"""Alarm texts in the operator's language: Alarm.key → what happened and what to do.

The runner writes its alarms in English for the log, the CLI and the plant status, and names each
message with a stable `key`. Screens show the templates below instead, translated by Qt (context
"Alarms"), with {name} placeholders filled from Alarm.args. What a driver said (`detail`: the
device's address and its error) stays as it is, after the sentence, for the technician. An alarm
whose key is unknown here shows the runner's English.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from PySide6.QtCore import QT_TRANSLATE_NOOP, QCoreApplication

from aggregation.reasons import reason_text
from station.events import Alarm
from ui.i18n import Language
from ui.names import alarm_title, name

CONTEXT = "Alarms"

# key → (message, action); keys are the ones the runner (station/line/) raises.
TEMPLATES: dict[str, tuple[str, str]] = {
    "late_decision": (
        QT_TRANSLATE_NOOP("Alarms", "Item {seq} was not decided before its deadline: rejected"),
        QT_TRANSLATE_NOOP("Alarms", "Slow the line or check the camera"),
    ),
    "printer_starved": (
        QT_TRANSLATE_NOOP("Alarms", "An item passed the printer with no code queued"),
        QT_TRANSLATE_NOOP("Alarms", "Codes reached the printer too late: slow the line"),
    ),
    "printer_fault": (
        QT_TRANSLATE_NOOP(
            "Alarms", "The inkjet printer stopped or reported a fault; its queued codes are void"
        ),
        QT_TRANSLATE_NOOP("Alarms", "Check the printer (ink, head, cable), then clear the fault"),
    ),
    "printer_reconnect_failed": (
        QT_TRANSLATE_NOOP("Alarms", "The inkjet printer could not be reconnected"),
        QT_TRANSLATE_NOOP("Alarms", "Check the printer and its cable, then clear the fault"),
    ),
    "camera_fault": (
        QT_TRANSLATE_NOOP("Alarms", "The verify camera failed"),
        QT_TRANSLATE_NOOP("Alarms", "Check the camera, its cable and its light"),
    ),
    "plc_fault": (
        QT_TRANSLATE_NOOP("Alarms", "Lost contact with the PLC"),
        QT_TRANSLATE_NOOP("Alarms", "Check the PLC and its network cable"),
    ),
    "triggers_lost": (
        QT_TRANSLATE_NOOP("Alarms", "Triggers from the PLC were lost: items passed unseen"),
        QT_TRANSLATE_NOOP("Alarms", "Clear the line up to the camera"),
    ),
    "reject_not_delivered": (
        QT_TRANSLATE_NOOP("Alarms", "The reject of item {seq} did not reach the PLC"),
        QT_TRANSLATE_NOOP("Alarms", "Pull the item off by hand and check the PLC"),
    ),
    "line_failed": (
        QT_TRANSLATE_NOOP("Alarms", "The line stopped on an internal error"),
        QT_TRANSLATE_NOOP("Alarms", "See the log, then restart the run"),
    ),
    "store_full": (
        QT_TRANSLATE_NOOP(
            "Alarms", "The disk holding the station's store is full ({where}): line stopped"
        ),
        QT_TRANSLATE_NOOP(
            "Alarms",
            "Have IT free space on that disk, then start the batch again: it resumes where it "
            "stopped",
        ),
    ),
    "store_read_only": (
        QT_TRANSLATE_NOOP("Alarms", "The station's store is read-only ({where}): line stopped"),
        QT_TRANSLATE_NOOP("Alarms", "Have IT make the store writable, then start the batch again"),
    ),
    "store_io": (
        QT_TRANSLATE_NOOP(
            "Alarms", "The station's store could not be written ({where}): line stopped"
        ),
        QT_TRANSLATE_NOOP("Alarms", "Have IT check the disk, then start the batch again"),
    ),
    "case_camera_fault": (
        QT_TRANSLATE_NOOP("Alarms", "The case camera failed"),
        QT_TRANSLATE_NOOP("Alarms", "Check the case camera and its light"),
    ),
    "box_camera_fault": (
        QT_TRANSLATE_NOOP("Alarms", "The box camera failed"),
        QT_TRANSLATE_NOOP("Alarms", "Check the box camera and its light"),
    ),
    "box_labeler_fault": (
        QT_TRANSLATE_NOOP(
            "Alarms", "The box label printer failed; the label it was printing is void"
        ),
        QT_TRANSLATE_NOOP("Alarms", "Check labels and ribbon, then clear the fault"),
    ),
    "checkweigher_fault": (
        QT_TRANSLATE_NOOP("Alarms", "The checkweigher did not weigh the case: it goes to rework"),
        QT_TRANSLATE_NOOP("Alarms", "Check the checkweigher (power, cable, platform), then clear"),
    ),
    "case_labeler_fault": (
        QT_TRANSLATE_NOOP(
            "Alarms", "The case label printer failed; the label it was printing is void"
        ),
        QT_TRANSLATE_NOOP("Alarms", "Check labels and ribbon, then clear the fault"),
    ),
    "case_verdict_not_delivered": (
        QT_TRANSLATE_NOOP("Alarms", "The verdict for case {case} did not reach the PLC"),
        QT_TRANSLATE_NOOP("Alarms", "Check the PLC"),
    ),
    "case_placement_not_signalled": (
        QT_TRANSLATE_NOOP("Alarms", "The palletizer was not told to place the case"),
        QT_TRANSLATE_NOOP("Alarms", "Check the PLC"),
    ),
    "not_a_case_code": (
        QT_TRANSLATE_NOOP("Alarms", "Not a case code: {code}"),
        QT_TRANSLATE_NOOP("Alarms", "Take the case off and check its label"),
    ),
    "case_in_wrong_state": (
        QT_TRANSLATE_NOOP("Alarms", "Case {code} is {state}: not ready for the pallet"),
        QT_TRANSLATE_NOOP("Alarms", "Take the case off for QA"),
    ),
    "case_on_a_pallet": (
        QT_TRANSLATE_NOOP("Alarms", "Case {code} already belongs to {pallet}"),
        QT_TRANSLATE_NOOP("Alarms", "Take the case off for QA"),
    ),
    "case_on_held_pallet": (
        QT_TRANSLATE_NOOP("Alarms", "Case {code} belongs to held pallet {pallet}"),
        QT_TRANSLATE_NOOP(
            "Alarms", "Take the case off, or resume that pallet and read the case again"
        ),
    ),
    "repeated_reject": (  # raised by the operator screen (ui.viewmodels.reads), not the runner
        QT_TRANSLATE_NOOP("Alarms", "{count} rejects in a row: {reason}; the last code {code}"),
        QT_TRANSLATE_NOOP(
            "Alarms", "Stop the infeed, look for codes printed or fed twice, then acknowledge"
        ),
    ),
    "pallet_label_not_printed": (
        QT_TRANSLATE_NOOP("Alarms", "The label of pallet {pallet} was not printed"),
        QT_TRANSLATE_NOOP("Alarms", "Reprint it with `station qa relabel`"),
    ),
}

NAMED_ARGS = frozenset({"state"})  # stored values shown by their display name (ui.names)
REASON_ARGS = frozenset({"reason"})  # reject reasons, shown by aggregation.reasons.reason_text
PLACEHOLDER = re.compile(r"\{(\w+)\}")


@dataclass(frozen=True)
class AlarmText:
    """An alarm as the operator reads it: title, what happened, what to do, technical detail."""

    title: str
    message: str
    action: str
    detail: str = ""

    def line(self) -> str:
        """One line for the banner: title — message → action — device said: detail."""
        text = f"{self.title} — {self.message} → {self.action}"
        if not self.detail:
            return text
        said = QCoreApplication.translate(CONTEXT, DEVICE_SAID)
        return f"{text} — {said}: {self.detail}"


def fill(template: str, values: dict[str, str]) -> str:
    """Replace {name} with its value; a placeholder with no value stays visible, never raises."""
    return PLACEHOLDER.sub(lambda m: values.get(m[1], m[0]), template)


DEVICE_SAID = QT_TRANSLATE_NOOP("Alarms", "device said")
"""Labels the driver's own words (English, verbatim) after the translated sentence."""


def _device_words(detail: str, device: str) -> str:
    """The driver's text without its leading "<device id> at " (the title names the device)."""
    prefix = f"{device} at "
    return detail[len(prefix) :] if detail.startswith(prefix) else detail


def alarm_text(alarm: Alarm) -> AlarmText:
    """The alarm in the current language; unknown keys fall back to the runner's English."""
    title = alarm_title(alarm.code, alarm.device)
    pair = TEMPLATES.get(alarm.key)
    if pair is None:
        return AlarmText(title, alarm.message, alarm.action)
    lang = Language().current
    values = {
        k: name(v) if k in NAMED_ARGS else reason_text(v, lang) if k in REASON_ARGS else v
        for k, v in alarm.args
    }
    message, action = (QCoreApplication.translate(CONTEXT, t) for t in pair)
    used = set(PLACEHOLDER.findall(message + action))
    detail = "" if "detail" in used else _device_words(values.get("detail", ""), alarm.device)
    return AlarmText(title, fill(message, values), fill(action, values), detail)
