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
    case_labeler: LabelPrinter | None = None
    pallet_labeler: LabelPrinter | None = None
    pallet_reader: CodeReader | None = None
    checkweigher: Checkweigher | None = None

    @classmethod
    def of(cls, devs: dict[str, Any], verify: FrameSource, case: FrameSource | None) -> LineDevices:
        """From build.open_devices' dict and the two cameras' frame sources."""
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
        )


@dataclass
class Item:
    """One item on the conveyor between trigger and decision."""

    seq: int
    deadline: float
    t0: float
    future: Future | None = None
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
    late: int = 0
    reasons: Counter = field(default_factory=Counter)
    latencies_ms: list[float] = field(default_factory=list)
