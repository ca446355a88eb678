"""The Qt binding keeps Python's reference counts: a touchscreen runs for weeks.

PySide6 6.12.0 on Python 3.11 returns None from every void method (setText, setVisible, …)
and True from Signal.emit without taking a reference. On 3.12+ those objects are immortal and
nothing happens; on 3.11 each call takes one reference from None (or True) for good, and the
process aborts when the count reaches zero ("Fatal Python error: none_dealloc" / "bool_dealloc").
The touchscreen calls a few such methods per item: `station run` with the screen open crashed
after about 9,000 items at 6,000/min (bench/soak.py, issue 20), `station demo --ui` likewise.
"""

from __future__ import annotations

import sys

import pytest

pytest.importorskip("PySide6")

import ctypes

import PySide6

CALLS = 300
BROKEN = PySide6.__version__ == "6.12.0" and sys.version_info < (3, 12)
known = pytest.mark.xfail(
    BROKEN,
    strict=True,
    reason="PySide6 6.12.0 on Python < 3.12 drops a reference to None / True per call: pin "
    "PySide6 to a release without it, or run on Python 3.12+ (see the module docstring)",
)


@pytest.fixture
def given_back():
    """References the binding took from None and True are given back after the test, so the
    test process (a few thousand references on each) lives on."""
    before = {id(o): (o, sys.getrefcount(o)) for o in (None, True, False)}
    yield
    for obj, count in before.values():
        for _ in range(max(0, count - sys.getrefcount(obj))):
            ctypes.pythonapi.Py_IncRef(ctypes.py_object(obj))


@known
def test_void_qt_methods_keep_nones_reference_count(given_back) -> None:
    from PySide6.QtCore import QObject

    obj = QObject()
    before = sys.getrefcount(None)
    for _ in range(CALLS):
        obj.setObjectName("line")  # returns None
    assert sys.getrefcount(None) >= before - 50  # a few references elsewhere may come and go


@known
def test_signal_emit_keeps_trues_reference_count(given_back) -> None:
    from PySide6.QtCore import QObject, Signal

    class Line(QObject):
        item_verified = Signal(object, str)

    line = Line()
    seen = []
    line.item_verified.connect(lambda seq, code: seen.append(seq))
    before = sys.getrefcount(True)
    for seq in range(CALLS):
        line.item_verified.emit(seq, "CODE")  # returns True
    assert len(seen) == CALLS
    assert sys.getrefcount(True) >= before - 50
