"""Live camera view: the newest decoded frame, codes outlined (green read and matched, red not)."""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QPointF, Qt
from PySide6.QtGui import QColor, QImage, QPainter, QPen, QPolygonF
from PySide6.QtWidgets import QSizePolicy, QWidget

from station.events import FrameView
from ui import style

BACKGROUND = QColor("#3A3A3A")


def to_qimage(frame: np.ndarray) -> QImage:
    """A numpy gray (H, W) uint8 or BGR (H, W, 3) frame as a QImage that owns its pixels."""
    a = np.ascontiguousarray(frame)
    if a.dtype != np.uint8:
        a = np.clip(a, 0, 255).astype(np.uint8)
    h, w = a.shape[:2]
    if a.ndim == 2:
        img = QImage(a.data, w, h, a.strides[0], QImage.Format.Format_Grayscale8)
    else:
        img = QImage(a.data, w, h, a.strides[0], QImage.Format.Format_BGR888)
    return img.copy()  # detach from the numpy buffer


class CameraView(QWidget):
    """Paints the latest FrameView scaled to fit; the operator screen feeds it on a timer.

    The picture (frame scaled to the widget, codes outlined) is composed once per new frame, at
    most 10 times a second; paintEvent only blits it. PySide holds the GIL through every QPainter
    call made from Python, so scaling inside paintEvent (which Qt calls again for every expose,
    resize or overlapping repaint) took the line's threads off the GIL for no new picture.
    """

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.image: QImage | None = None
        self.codes: tuple = ()
        self.frames = 0
        self.placeholder = ""
        self._picture: QImage | None = None
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.setMinimumSize(320, 200)
        self.setAttribute(Qt.WidgetAttribute.WA_OpaquePaintEvent)  # we fill every pixel

    def show_frame(self, view: FrameView) -> None:
        """Take a new frame (UI thread) and repaint."""
        frame = view.frame
        if not isinstance(frame, np.ndarray):
            return
        self.image = to_qimage(frame)
        self.codes = view.codes
        self.frames += 1
        self._picture = None
        self.update()

    def resizeEvent(self, event) -> None:
        """The picture is composed for one size; a new size composes it again."""
        self._picture = None
        super().resizeEvent(event)

    def _compose(self) -> QImage:
        """The frame letterboxed on dark grey, each code's corners as a polygon."""
        pic = QImage(self.width(), self.height(), QImage.Format.Format_RGB32)
        pic.fill(BACKGROUND)
        img = self.image
        iw, ih = img.width(), img.height()
        scale = min(self.width() / iw, self.height() / ih)
        sw, sh = max(1, round(iw * scale)), max(1, round(ih * scale))
        ox, oy = (self.width() - sw) / 2, (self.height() - sh) / 2
        p = QPainter(pic)
        p.drawImage(QPointF(ox, oy), img.scaled(sw, sh))
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        for _text, corners, good in self.codes:
            if not corners:
                continue
            p.setPen(QPen(QColor(style.GOOD if good else style.ALARM), 4))
            p.drawPolygon(QPolygonF([QPointF(ox + x * scale, oy + y * scale) for x, y in corners]))
        p.end()
        return pic

    def paintEvent(self, _event) -> None:
        """Blit the composed picture (or the placeholder text while there is no frame)."""
        p = QPainter(self)
        if self.image is None:
            p.fillRect(self.rect(), BACKGROUND)
            p.setPen(QColor("#D0D0D0"))
            p.drawText(self.rect(), Qt.AlignmentFlag.AlignCenter, self.placeholder)
        else:
            if self._picture is None:
                self._picture = self._compose()
            p.drawImage(0, 0, self._picture)
        p.end()
