"""Display names for values the station stores in English (states, devices, decisions, reasons).

Marked with QT_TRANSLATE_NOOP so pyside6-lupdate collects them; shown through `name()`.
Reject reasons are not here: aggregation.reasons.reason_text has both languages.
"""

from __future__ import annotations

from PySide6.QtCore import QT_TRANSLATE_NOOP, QCoreApplication

from station.devices import ROLE_BY_NAME

NAMES: dict[str, str] = {
    # run states
    "idle": QT_TRANSLATE_NOOP("Names", "Idle"),
    "starting": QT_TRANSLATE_NOOP("Names", "Starting"),
    "running": QT_TRANSLATE_NOOP("Names", "Running"),
    "paused": QT_TRANSLATE_NOOP("Names", "Paused"),
    "stopping": QT_TRANSLATE_NOOP("Names", "Stopping"),
    "faulted": QT_TRANSLATE_NOOP("Names", "Faulted"),
    # batch states (Open-SCS)
    "waiting": QT_TRANSLATE_NOOP("Names", "Waiting"),
    "ready": QT_TRANSLATE_NOOP("Names", "Released"),
    "held": QT_TRANSLATE_NOOP("Names", "Held"),
    "completed": QT_TRANSLATE_NOOP("Names", "Completed"),
    "aborted": QT_TRANSLATE_NOOP("Names", "Aborted"),
    # code states
    "available": QT_TRANSLATE_NOOP("Names", "Available"),
    "reserved": QT_TRANSLATE_NOOP("Names", "Reserved"),
    "printed": QT_TRANSLATE_NOOP("Names", "Printed"),
    "verified": QT_TRANSLATE_NOOP("Names", "Verified"),
    "linked": QT_TRANSLATE_NOOP("Names", "Linked"),
    "rejected": QT_TRANSLATE_NOOP("Names", "Rejected"),
    "decommissioned": QT_TRANSLATE_NOOP("Names", "Decommissioned"),
    "void": QT_TRANSLATE_NOOP("Names", "Void"),
    "open": QT_TRANSLATE_NOOP("Names", "Open"),
    "closed": QT_TRANSLATE_NOOP("Names", "Closed"),
    "partial": QT_TRANSLATE_NOOP("Names", "Partial"),
    # outbox states
    "pending": QT_TRANSLATE_NOOP("Names", "Pending"),
    "sending": QT_TRANSLATE_NOOP("Names", "Sending"),
    "acknowledged": QT_TRANSLATE_NOOP("Names", "Acknowledged"),
    "parked": QT_TRANSLATE_NOOP("Names", "Parked"),
    "untested": QT_TRANSLATE_NOOP("Names", "Not tested"),
    "testing": QT_TRANSLATE_NOOP("Names", "Testing…"),
    "ok": QT_TRANSLATE_NOOP("Names", "OK"),
    "fault": QT_TRANSLATE_NOOP("Names", "Fault"),
    # places that are not devices (devices are named in station.devices)
    "line": QT_TRANSLATE_NOOP("Names", "Line"),
    "store": QT_TRANSLATE_NOOP("Names", "Station store"),
    # decisions
    "release": QT_TRANSLATE_NOOP("Names", "Release"),
    "decommission": QT_TRANSLATE_NOOP("Names", "Decommission"),
    "destroy": QT_TRANSLATE_NOOP("Names", "Destroy"),
    "replace": QT_TRANSLATE_NOOP("Names", "Replace"),
    "unpack": QT_TRANSLATE_NOOP("Names", "Unpack"),
    "unpack_tree": QT_TRANSLATE_NOOP("Names", "Unpack all"),
    "recode": QT_TRANSLATE_NOOP("Names", "Recode"),
    "aggregate": QT_TRANSLATE_NOOP("Names", "Re-aggregate"),
    "relabel": QT_TRANSLATE_NOOP("Names", "Relabel"),
    "released": QT_TRANSLATE_NOOP("Names", "Released by QA"),
    "destroyed": QT_TRANSLATE_NOOP("Names", "Destroyed"),
    # decision reason codes (ui.viewmodels.qa.REASONS)
    "rescan ok": QT_TRANSLATE_NOOP("Names", "Rescan OK"),
    "print acceptable": QT_TRANSLATE_NOOP("Names", "Print acceptable"),
    "false reject": QT_TRANSLATE_NOOP("Names", "False reject"),
    "damaged": QT_TRANSLATE_NOOP("Names", "Damaged"),
    "misprint": QT_TRANSLATE_NOOP("Names", "Misprint"),
    "sample": QT_TRANSLATE_NOOP("Names", "Sample taken"),
    "lost": QT_TRANSLATE_NOOP("Names", "Lost"),
    "contaminated": QT_TRANSLATE_NOOP("Names", "Contaminated"),
    "rework": QT_TRANSLATE_NOOP("Names", "Rework"),
    "wrong product": QT_TRANSLATE_NOOP("Names", "Wrong product"),
    "customer return": QT_TRANSLATE_NOOP("Names", "Customer return"),
    "manual packing": QT_TRANSLATE_NOOP("Names", "Packed by hand"),
    "label damaged": QT_TRANSLATE_NOOP("Names", "Label damaged"),
    # alarms raised by the line (Alarm.code; fault:<device> uses the device name)
    "late": QT_TRANSLATE_NOOP("Names", "Decision too late"),
    "pallet_read": QT_TRANSLATE_NOOP("Names", "Not a case code on the pallet"),
    "pallet_case": QT_TRANSLATE_NOOP("Names", "Case not ready for the pallet"),
    # link actions
    "add": QT_TRANSLATE_NOOP("Names", "added to"),
    "delete": QT_TRANSLATE_NOOP("Names", "removed from"),
    # audit actions shown in a code's history
    "esign": QT_TRANSLATE_NOOP("Names", "E-signature"),
    "label.reprint": QT_TRANSLATE_NOOP("Names", "Label reprinted"),
    "container.closed": QT_TRANSLATE_NOOP("Names", "Container closed"),
    "container.partial": QT_TRANSLATE_NOOP("Names", "Closed as partial"),
    # roles
    "operator": QT_TRANSLATE_NOOP("Names", "Operator"),
    "qa": QT_TRANSLATE_NOOP("Names", "QA"),
    "it": QT_TRANSLATE_NOOP("Names", "IT"),
    "admin": QT_TRANSLATE_NOOP("Names", "Administrator"),
}


SHORT: dict[str, str] = {
    "plc": QT_TRANSLATE_NOOP("Short", "PLC"),
    "inkjet": QT_TRANSLATE_NOOP("Short", "Inkjet"),
    "verify_camera": QT_TRANSLATE_NOOP("Short", "Camera"),
    "verify_camera_2": QT_TRANSLATE_NOOP("Short", "Camera 2"),
    "item_reader": QT_TRANSLATE_NOOP("Short", "Item rdr"),
    "box_camera": QT_TRANSLATE_NOOP("Short", "Box cam"),
    "box_labeler": QT_TRANSLATE_NOOP("Short", "Box lbl"),
    "case_camera": QT_TRANSLATE_NOOP("Short", "Case cam"),
    "case_labeler": QT_TRANSLATE_NOOP("Short", "Case lbl"),
    "checkweigher": QT_TRANSLATE_NOOP("Short", "Scale"),
    "pallet_labeler": QT_TRANSLATE_NOOP("Short", "Pallet lbl"),
    "reader": QT_TRANSLATE_NOOP("Short", "Reader"),
}


def short_name(device: str) -> str:
    """A device's name short enough for the caption under its status light."""
    text = SHORT.get(device)
    return QCoreApplication.translate("Short", text) if text else name(device)


def name(value: str | None) -> str:
    """The translated display name of a stored value; unknown values come back as they are."""
    if value is None:
        return "–"
    role = ROLE_BY_NAME.get(value)
    if role is not None:  # devices are named once, in the registry, in both languages
        from ui.i18n import Language

        return role.name(Language().current)
    text = NAMES.get(value)
    return QCoreApplication.translate("Names", text) if text else value


def action_name(action: str) -> str:
    """An audit action for a code's history: `state` says nothing more than old → new."""
    if action == "state":
        return ""
    return name(action[3:] if action.startswith("qa.") else action)


def alarm_title(code: str, device: str) -> str:
    """A short translated title for an alarm: its kind, or 'Fault: <device>'."""
    if code.startswith("fault:"):
        return f"{name('fault')}: {name(device)}"
    return (NAMES.get(code) and name(code)) or f"{name(device)}"


def level_name(settings, level: str | None, lang: str) -> str:
    """A packaging level's name from config.toml (label_zh / label_en)."""
    if level is None:
        return "–"
    try:
        lv = settings.level(level)
    except Exception:
        return level
    return lv.label_zh if lang == "zh" else lv.label_en
