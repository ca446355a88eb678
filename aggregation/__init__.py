"""LineStation aggregation: the packaging hierarchy as pure logic (no database, no I/O)."""

from __future__ import annotations

from aggregation.errors import AggregationError, HierarchyError, PackerError, ReworkRefused
from aggregation.layer import LayerResult, check_layer
from aggregation.levels import LEVEL_NAMES, Hierarchy, Level
from aggregation.packer import ContainerClosed, Linked, Packer, PackEvent
from aggregation.reasons import REASON_TEXT, RejectReason, Violation, reason_text
from aggregation.rework import (
    Link,
    Op,
    SetFlags,
    SetState,
    Unlink,
    plan_aggregate,
    plan_replace,
    plan_unpack,
)
from aggregation.rules import CodeInfo, check_link, check_link_codes

__all__ = [
    "LEVEL_NAMES",
    "REASON_TEXT",
    "AggregationError",
    "CodeInfo",
    "ContainerClosed",
    "Hierarchy",
    "HierarchyError",
    "LayerResult",
    "Level",
    "Link",
    "Linked",
    "Op",
    "PackEvent",
    "Packer",
    "PackerError",
    "RejectReason",
    "ReworkRefused",
    "SetFlags",
    "SetState",
    "Unlink",
    "Violation",
    "check_layer",
    "check_link",
    "check_link_codes",
    "plan_aggregate",
    "plan_replace",
    "plan_unpack",
    "reason_text",
]
