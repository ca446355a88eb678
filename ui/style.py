"""ISA-101 high-performance HMI look: neutral greys, colour only when abnormal, big targets."""

from __future__ import annotations

from PySide6.QtWidgets import QWidget

BG = "#D4D4D4"
PANEL = "#E4E4E4"
TEXT = "#1A1A1A"
MUTED = "#555555"
BORDER = "#9E9E9E"
BUTTON = "#C4C4C4"
PRESSED = "#A6A6A6"
ALARM = "#D00000"
WARNING = "#F0B400"
GOOD = "#00A000"  # only the camera's "read and matched" outline uses it
TOUCH_PX = 56  # every touch target at least this tall (ISA-101 / touch guidance: >= 48 px)

QSS = f"""
QWidget {{ background: {BG}; color: {TEXT}; }}
QFrame#panel, QFrame#counter {{ background: {PANEL}; border: 1px solid {BORDER}; }}
QFrame#statusbar {{ background: {PANEL}; border-bottom: 2px solid {BORDER}; }}
QFrame#statusbar QWidget {{ background: transparent; }}
QFrame#nav {{ background: {PANEL}; border-right: 2px solid {BORDER}; }}
QLabel {{ background: transparent; }}
QLabel#caption {{ color: {MUTED}; font-size: 15px; }}
QLabel#tiny {{ color: {MUTED}; font-size: 12px; }}
QLabel#station {{ font-size: 17px; font-weight: 600; }}
QLabel#title {{ font-size: 22px; font-weight: 600; }}
QLabel#numeral {{ font-size: 44px; font-weight: 700; }}
QLabel#rate {{ font-size: 44px; font-weight: 700; }}
QLabel#sbvalue {{ font-size: 19px; font-weight: 600; }}
QLabel#message {{ font-size: 16px; }}
QLabel#prompt {{ font-size: 26px; font-weight: 600; }}
QLabel#message[severity="alarm"] {{ color: {ALARM}; font-weight: 700; }}
QLabel#state[severity="alarm"] {{ background: {ALARM}; color: white; padding: 0 6px; }}
QLabel#state[severity="warning"] {{ background: {WARNING}; color: black; padding: 0 6px; }}
QLabel#flash {{ font-size: 17px; font-weight: 600; padding: 0 8px; }}
QLabel#flash[severity="warning"] {{ background: {WARNING}; color: black; }}
QFrame#banner {{ border: 2px solid {TEXT}; }}
QFrame#banner[severity="alarm"] {{ background: {ALARM}; }}
QFrame#banner[severity="alarm"] QLabel {{ color: white; font-size: 18px; font-weight: 600; }}
QFrame#banner[severity="warning"] {{ background: {WARNING}; }}
QFrame#banner[severity="warning"] QLabel {{ color: black; font-size: 18px; font-weight: 600; }}
QPushButton {{
    background: {BUTTON}; border: 2px solid {BORDER}; border-radius: 4px;
    min-height: {TOUCH_PX}px; min-width: 96px; padding: 0 14px; font-size: 19px;
}}
QPushButton:pressed, QPushButton:checked {{ background: {PRESSED}; border-color: {TEXT}; }}
QPushButton:disabled {{ color: #8A8A8A; border-color: #B8B8B8; background: #CCCCCC; }}
QPushButton#nav {{ text-align: left; font-size: 20px; min-height: 64px; }}
QPushButton#nav:checked {{ background: {BG}; border: 2px solid {TEXT}; font-weight: 700; }}
QPushButton#key {{ font-size: 26px; min-width: 80px; min-height: 64px; }}
QPushButton#pallet {{ font-size: 18px; min-width: 48px; padding: 0 8px; }}
QLineEdit, QComboBox, QPlainTextEdit, QDateEdit {{
    background: white; border: 2px solid {BORDER}; min-height: 48px; font-size: 19px;
    padding: 0 8px;
}}
QLineEdit:focus {{ border-color: {TEXT}; }}
QComboBox QAbstractItemView {{ background: white; font-size: 19px; }}
QComboBox::drop-down, QDateEdit::drop-down {{ width: 48px; }}
QTableWidget {{
    background: white; gridline-color: #C8C8C8; font-size: 16px; border: 1px solid {BORDER};
}}
QHeaderView::section {{
    background: {PANEL}; border: 0; border-bottom: 1px solid {BORDER}; padding: 6px;
    font-size: 15px; color: {MUTED};
}}
QTableWidget::item:selected {{ background: #B0B0B0; color: {TEXT}; }}
QScrollBar:vertical {{ width: 28px; }}
QCheckBox {{ font-size: 18px; min-height: 48px; }}
QCheckBox::indicator {{ width: 32px; height: 32px; }}
QDialog {{ background: {BG}; }}
QTabWidget::pane {{ border: 1px solid {BORDER}; }}
QTabBar::tab {{
    background: {BUTTON}; border: 1px solid {BORDER}; min-height: {TOUCH_PX}px; min-width: 160px;
    padding: 0 16px; font-size: 17px;
}}
QTabBar::tab:selected {{ background: {PANEL}; border-color: {TEXT}; font-weight: 700; }}
"""


def set_severity(widget: QWidget, severity: str) -> None:
    """Set the `severity` property ('' | 'warning' | 'alarm') and re-apply the style sheet."""
    if widget.property("severity") == severity:
        return
    widget.setProperty("severity", severity)
    widget.style().unpolish(widget)
    widget.style().polish(widget)
    for child in widget.findChildren(QWidget):
        child.style().unpolish(child)
        child.style().polish(child)
