"""Live camera view: the newest decoded frame, codes outlined (green read and matched, red not)."""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QImage, QPainter, QPen, QPolygonF
from PySide6.QtWidgets import QSizePolicy, QWidget

from station.events import FrameView
from ui import style


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
    """Paints the latest FrameView scaled to fit; the operator screen feeds it on a timer."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.image: QImage | None = None
        self.codes: tuple = ()
        self.frames = 0
        self.placeholder = ""
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.setMinimumSize(320, 200)

    def show_frame(self, view: FrameView) -> None:
        """Take a new frame (UI thread) and repaint."""
        frame = view.frame
        if not isinstance(frame, np.ndarray):
            return
        self.image = to_qimage(frame)
        self.codes = view.codes
        self.frames += 1
        self.update()

    def paintEvent(self, _event) -> None:
        """The frame letterboxed on dark grey, each code's corners as a polygon."""
        p = QPainter(self)
        p.fillRect(self.rect(), QColor("#3A3A3A"))
        if self.image is None:
            p.setPen(QColor("#D0D0D0"))
            p.drawText(self.rect(), Qt.AlignmentFlag.AlignCenter, self.placeholder)
            p.end()
            return
        iw, ih = self.image.width(), self.image.height()
        scale = min(self.width() / iw, self.height() / ih)
        ox, oy = (self.width() - iw * scale) / 2, (self.height() - ih * scale) / 2
        p.drawImage(QRectF(ox, oy, iw * scale, ih * scale), self.image)
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        for _text, corners, good in self.codes:
            if not corners:
                continue
            pen = QPen(QColor(style.GOOD if good else style.ALARM), 4)
            p.setPen(pen)
            poly = QPolygonF([QPointF(ox + x * scale, oy + y * scale) for x, y in corners])
            p.drawPolygon(poly)
        p.end()
