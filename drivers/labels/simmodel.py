"""The simulated ZPL printer's world: fault flags, received and printed labels, the ~HS answer.

Thread-safe: the transport threads feed it, tests and the simulated line read it.
"""

from __future__ import annotations

import re
import threading
from collections import deque
from dataclasses import dataclass

import numpy as np

from drivers.labels.zplrender import render as render_zpl

_PQ = re.compile(r"\^PQ(\d+)")


@dataclass
class SimBehavior:
    """How the simulated printer misbehaves when asked for ~HS."""

    silent: bool = False
    garbage: bool = False
    drop_mid_answer: bool = False
    answer_delay_s: float = 0.0
    silent_on_fault: bool = False


def format_host_status(
    *,
    paper_out: bool,
    paused: bool,
    head_open: bool,
    ribbon_out: bool,
    formats_in_buffer: int = 0,
    labels_remaining: int = 0,
    label_length_dots: int = 1200,
) -> bytes:
    """The three STX…ETX CR LF strings a Zebra answers to ~HS."""
    one = (
        f"030,{int(paper_out)},{int(paused)},{label_length_dots:04d},"
        f"{min(formats_in_buffer, 999):03d},0,0,0,000,0,0,0"
    )
    two = f"001,0,{int(head_open)},{int(ribbon_out)},1,2,6,0,{labels_remaining:08d},1,000"
    three = "1234,0"
    return b"".join(b"\x02" + s.encode("ascii") + b"\x03\r\n" for s in (one, two, three))


class ZplStream:
    """Splits one connection's bytes into ~HS queries and complete ^XA…^XZ formats."""

    def __init__(self) -> None:
        self._buf = b""

    def feed(self, data: bytes) -> tuple[int, list[str]]:
        """Return (number of ~HS queries, complete labels) found so far."""
        self._buf += data
        # Tilde commands act at once on a real printer, even in the middle of a format.
        queries = self._buf.count(b"~HS")
        self._buf = self._buf.replace(b"~HS", b"")
        labels: list[str] = []
        while True:
            start = self._buf.find(b"^XA")
            if start < 0:
                # Keep a possible split "~H" or "^X" for the next chunk; the rest is noise.
                self._buf = self._buf[-2:]
                break
            end = self._buf.find(b"^XZ", start)
            if end < 0:
                self._buf = self._buf[start:]
                break
            labels.append(self._buf[start : end + 3].decode("utf-8", errors="replace"))
            self._buf = self._buf[end + 3 :]
        return queries, labels


class ZplPrinterModel:
    """State of one simulated printer; labels wait while a fault or pause holds them."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._received: list[str] = []
        self._settings: list[str] = []
        self._pending: deque[str] = deque()
        self._printed: deque[str] = deque()
        self._faults = {
            "paper_out": False,
            "ribbon_out": False,
            "head_open": False,
            "paused": False,
        }
        self.behavior = SimBehavior()

    def set_fault(self, **flags: bool) -> None:
        """Raise or clear faults: paper_out, ribbon_out, head_open, paused; clearing prints."""
        with self._lock:
            for key, value in flags.items():
                if key not in self._faults:
                    raise KeyError(f"unknown fault {key!r}; known: {sorted(self._faults)}")
                self._faults[key] = bool(value)
            self._flush_locked()

    def set_behavior(self, **changes: object) -> None:
        """Change how ~HS is answered (silent, garbage, drop_mid_answer, answer_delay_s, …)."""
        with self._lock:
            for key, value in changes.items():
                if not hasattr(self.behavior, key):
                    raise KeyError(f"unknown behavior {key!r}")
                setattr(self.behavior, key, value)

    def accept(self, zpl: str) -> None:
        """Take one format from the wire; ^PQn prints n copies; no field at all means settings."""
        with self._lock:
            if "^FS" not in zpl:
                # Designer exports lead with a settings-only format (~TA ~JS ^MN ^PR ...): no label.
                self._settings.append(zpl)
                return
            self._received.append(zpl)
            copies = _PQ.search(zpl)
            self._pending.extend([zpl] * max(1, int(copies.group(1)) if copies else 1))
            self._flush_locked()

    def settings(self) -> list[str]:
        """Formats received that print nothing (printer settings)."""
        with self._lock:
            return list(self._settings)

    def host_status(self) -> bytes | None:
        """The ~HS answer, or None when this printer would stay silent."""
        with self._lock:
            faulted = any(self._faults[k] for k in ("paper_out", "ribbon_out", "head_open"))
            if self.behavior.silent or (self.behavior.silent_on_fault and faulted):
                return None
            return format_host_status(
                **self._faults,
                formats_in_buffer=len(self._pending),
                labels_remaining=len(self._pending),
            )

    def received(self) -> list[str]:
        """Every label received, in order, printed or not."""
        with self._lock:
            return list(self._received)

    def pop_label(self) -> str | None:
        """The next label that came out of the printer (for the simulated labeler), or None."""
        with self._lock:
            return self._printed.popleft() if self._printed else None

    @staticmethod
    def render(zpl: str) -> np.ndarray:
        """Render a label as the printer would print it (grayscale, white background)."""
        return render_zpl(zpl)

    def _flush_locked(self) -> None:
        if any(self._faults.values()):
            return
        while self._pending:
            self._printed.append(self._pending.popleft())
