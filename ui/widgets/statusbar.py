"""The always-visible status bar: batch, line state, rate, device lights, upstream."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QFrame, QHBoxLayout, QVBoxLayout, QWidget

from station.events import RunState
from ui.names import name, short_name
from ui.style import set_severity
from ui.viewmodels.it import ITViewModel
from ui.viewmodels.line import DEVICE_KEYS, LineViewModel
from ui.widgets.common import Light, label

SEVERITY = {RunState.FAULTED: "alarm", RunState.PAUSED: "warning"}


def _field() -> tuple[QWidget, object, object]:
    box = QWidget()
    lay = QVBoxLayout(box)
    lay.setContentsMargins(0, 0, 0, 0)
    lay.setSpacing(0)
    cap, val = label("", "caption"), label("–", "sbvalue")
    lay.addWidget(cap)
    lay.addWidget(val)
    return box, cap, val


class StatusBar(QFrame):
    """Top bar of every screen; repaints when the line's snapshot or the outbox changes."""

    def __init__(self, settings, line: LineViewModel, it: ITViewModel, parent=None) -> None:
        super().__init__(parent)
        self.setObjectName("statusbar")
        self.setFixedHeight(72)
        self.line, self.it = line, it
        self.devices = [d for d in DEVICE_KEYS if getattr(settings.devices, d, None) is not None]
        lay = QHBoxLayout(self)
        lay.setContentsMargins(16, 6, 16, 6)
        lay.setSpacing(28)
        box, self.batch_cap, self.batch = _field()
        box.setMinimumWidth(250)  # fixed slots: values change, the bar does not jump
        lay.addWidget(box)
        box, self.state_cap, self.state = _field()
        self.state.setObjectName("state")
        box.setMinimumWidth(90)
        lay.addWidget(box)
        box, self.rate_cap, self.rate = _field()
        box.setMinimumWidth(110)
        lay.addWidget(box)
        lay.addStretch(1)
        self.lights: dict[str, Light] = {}
        self.light_box = QWidget()
        lights = QHBoxLayout(self.light_box)
        lights.setContentsMargins(0, 0, 0, 0)
        lights.setSpacing(6)
        self.light_caps: dict[str, object] = {}
        for d in self.devices:
            cell = QVBoxLayout()
            cell.setSpacing(2)
            light = Light()
            cap = label("", "tiny")
            cap.setAlignment(Qt.AlignmentFlag.AlignHCenter)
            cell.addWidget(light, 0, Qt.AlignmentFlag.AlignHCenter)
            cell.addWidget(cap)
            self.lights[d] = light
            self.light_caps[d] = cap
            lights.addLayout(cell)
        lay.addWidget(self.light_box)
        box, self.up_cap, self.upstream = _field()
        self.upstream.setObjectName("state")
        box.setMinimumWidth(130)
        lay.addWidget(box)
        line.status_changed.connect(self.refresh)
        line.alarms_changed.connect(self.refresh)
        it.outbox_changed.connect(self.refresh)
        self.retranslate()

    def retranslate(self) -> None:
        """Captions in the current language."""
        self.batch_cap.setText(self.tr("Batch"))
        self.state_cap.setText(self.tr("Line"))
        self.rate_cap.setText(self.tr("Rate"))
        for d, cap in self.light_caps.items():
            cap.setText(short_name(d))
        self.up_cap.setText(self.tr("Upstream"))
        self.refresh()

    def refresh(self, *_args) -> None:
        """Show the latest snapshot."""
        s = self.line.status
        self.batch.setText(s.batch_id or self.tr("none"))
        self.state.setText(name(str(s.state)))
        set_severity(self.state, SEVERITY.get(s.state, ""))
        rate = round(s.rate_per_min) if s.state != RunState.IDLE else 0
        self.rate.setText(self.tr("%n/min", "", rate))
        lights = self.line.device_lights(self.devices)
        tips = []
        for d, light in self.lights.items():
            light.set_state(lights[d])
            light.setToolTip(name(d))
            tips.append(f"{name(d)}: {name(lights[d]) if lights[d] != 'off' else '–'}")
        self.light_box.setToolTip("\n".join(tips))
        up = self.it.upstream_state()
        texts = {
            "none": self.tr("not configured"),
            "parked": self.tr("parked: %n", "", self.it.counts.get("parked", 0)),
            "waiting": self.tr("waiting: %n", "", self.it.counts.get("pending", 0)
                               + self.it.counts.get("sending", 0)),
            "ok": self.tr("up to date"),
        }  # fmt: skip
        self.upstream.setText(texts[up])
        set_severity(self.upstream, {"parked": "alarm"}.get(up, ""))
