"""What the runner is made of: its devices (typed by their Protocols), items in flight, counters."""

from __future__ import annotations

from collections import Counter
from concurrent.futures import Future
from dataclasses import dataclass, field
from typing import Any, Protocol

from drivers.camera.base import Decoder
from drivers.inkjet.base import InkjetPrinter
from drivers.labels.base import LabelPrinter
from drivers.plc.base import LinePLC
from drivers.reader.base import CodeReader
from drivers.scale.base import Checkweigher


class FrameSource(Protocol):
    """Frames tagged with the item's PLC sequence number (or a case slot id)."""

    def get(self, timeout_s: float) -> tuple[Any, Any] | None: ...


@dataclass
class LineDevices:
    """The concrete devices of one line, chosen by the composition root."""

    plc: LinePLC
    inkjet: InkjetPrinter | None
    decoder: Decoder
    verify_frames: FrameSource
    case_frames: FrameSource | None = None
    frames: dict[str, FrameSource] = field(default_factory=dict)
    """Frames of the shape's other cameras, by role (verify_camera_2, box_camera, …)."""
    labelers: dict[str, LabelPrinter] = field(default_factory=dict)
    """The shape's other label printers, by role (box_labeler)."""
    case_labeler: LabelPrinter | None = None
    pallet_labeler: LabelPrinter | None = None
    pallet_reader: CodeReader | None = None
    checkweigher: Checkweigher | None = None

    def frames_of(self, role: str) -> FrameSource | None:
        """The frame source of a camera role."""
        if role == "verify_camera":
            return self.verify_frames
        if role == "case_camera":
            return self.case_frames
        return self.frames.get(role)

    def labeler_of(self, role: str | None) -> LabelPrinter | None:
        """The label printer of a role (None: none)."""
        if role is None:
            return None
        if role in ("case_labeler", "pallet_labeler"):
            return getattr(self, role)
        return self.labelers.get(role)

    @classmethod
    def of(
        cls,
        devs: dict[str, Any],
        verify: FrameSource,
        case: FrameSource | None,
        frames: dict[str, FrameSource] | None = None,
    ) -> LineDevices:
        """From build.open_devices' dict and the cameras' frame sources (an item reader's messages
        become a ReaderSource)."""
        frames = dict(frames or {})
        if devs.get("item_reader") is not None and "item_reader" not in frames:
            frames["item_reader"] = ReaderSource(devs["item_reader"])
        return cls(
            plc=devs["plc"],
            inkjet=devs.get("inkjet"),
            decoder=devs["decoder"],
            verify_frames=verify,
            case_frames=case,
            case_labeler=devs.get("case_labeler"),
            pallet_labeler=devs.get("pallet_labeler"),
            pallet_reader=devs.get("reader"),
            checkweigher=devs.get("checkweigher"),
            frames=frames,
            labelers={k: devs[k] for k in ("box_labeler",) if devs.get(k) is not None},
        )


@dataclass(frozen=True, slots=True)
class TextRead:
    """A code a smart reader decoded itself: no picture, no grade, no corners."""

    text: str
    grade: str = ""
    corners: tuple = ()


class ReaderSource:
    """A fixed code reader at the item station as a FrameSource: one message per item, in
    trigger order (untagged), each message's codes already decoded (split by the reader's
    separator, `码1//码2`). A thread reads the socket so the line's tick never blocks on it.
    """

    def __init__(self, reader: CodeReader) -> None:
        import queue
        import threading

        self.reader = reader
        self.name = reader.name
        self.url = reader.url
        self._q: queue.Queue = queue.Queue()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._error: Exception | None = None

    def connect(self) -> None:
        """Connect the reader and start taking its messages."""
        import threading

        if self._thread is not None:
            return
        self.reader.connect()
        self._stop.clear()
        self._thread = threading.Thread(target=self._loop, name=f"{self.name}-reads", daemon=True)
        self._thread.start()

    def _loop(self) -> None:
        from drivers.errors import DriverError, DriverTimeout

        while not self._stop.is_set():
            try:
                res = self.reader.read(timeout_s=0.1)
            except DriverTimeout:
                continue
            except DriverError as exc:
                self._error = exc
                self._stop.wait(0.2)
                continue
            self._q.put((None, tuple(TextRead(c) for c in res.codes)))

    def get(self, timeout_s: float) -> tuple[Any, Any] | None:
        """The next message as (None, its reads), or None; a reader fault is raised once."""
        import queue

        if self._error is not None:
            err, self._error = self._error, None
            raise err
        try:
            return self._q.get(timeout=timeout_s) if timeout_s else self._q.get_nowait()
        except queue.Empty:
            return None

    def close(self) -> None:
        """Stop taking messages and close the reader."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(2)
            self._thread = None
        self.reader.close()


@dataclass
class Item:
    """One item on the conveyor between trigger and decision."""

    seq: int
    deadline: float
    t0: float
    futures: dict[int, Future] = field(default_factory=dict)  # by item camera
    frame: Any = None


@dataclass
class RunStats:
    """Counters of the current run."""

    triggered: int = 0
    printed: int = 0
    verified: int = 0
    rejected: int = 0
    cases: int = 0
    pallets: int = 0
    boxes: int = 0
    late: int = 0
    reasons: Counter = field(default_factory=Counter)
    latencies_ms: LatencyHistogram = field(default_factory=lambda: LatencyHistogram())


class LatencyHistogram:
    """Trigger → decision times in fixed memory: 0.1 ms bins up to 2 s, and the exact maximum.

    A list of every item's time grew by ~30 bytes an item: over a week-long batch at 1,200/min
    that is hundreds of MB for three figures. Percentiles read from the bins are exact to 0.1 ms.
    """

    BIN_MS = 0.1
    BINS = 20_000

    def __init__(self) -> None:
        self.counts = [0] * (self.BINS + 1)  # the last bin holds everything at 2 s or more
        self.n = 0
        self.max_ms = 0.0

    def append(self, ms: float) -> None:
        """Count one decision's time."""
        self.counts[min(int(ms / self.BIN_MS), self.BINS)] += 1
        self.n += 1
        self.max_ms = max(self.max_ms, ms)

    def __len__(self) -> int:
        return self.n

    def percentile(self, share: float) -> float:
        """The time (ms, bin floor) under which `share` of the decisions fell."""
        rank, seen = max(1, int(self.n * share)), 0
        for i, c in enumerate(self.counts):
            seen += c
            if seen >= rank:
                return min(i * self.BIN_MS, self.max_ms)
        return self.max_ms

    def summary(self) -> dict:
        """p50, p99 and max in ms, rounded to 0.1 ({} when nothing was decided)."""
        if not self.n:
            return {}
        return {
            "p50": round(self.percentile(0.5), 1),
            "p99": round(self.percentile(0.99), 1),
            "max": round(self.max_ms, 1),
        }
