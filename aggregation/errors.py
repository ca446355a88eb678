"""One exception base for the aggregation package, with narrow subclasses carrying data."""

from __future__ import annotations

from collections.abc import Sequence

from aggregation.reasons import Violation


class AggregationError(Exception):
    """Base of every error raised by aggregation/."""


class HierarchyError(AggregationError, ValueError):
    """The configured levels do not form a valid hierarchy; the message names the fix."""


class PackerError(AggregationError):
    """The packer was asked for something that would break the hierarchy (a caller bug)."""


class ReworkRefused(AggregationError):
    """A rework plan was refused; `violations` says why, code by code."""

    def __init__(self, violations: Sequence[Violation]) -> None:
        self.violations: tuple[Violation, ...] = tuple(violations)
        text = "; ".join(f"{v.reason.value} {v.code}: {v.detail}" for v in self.violations[:5])
        more = len(self.violations) - 5
        super().__init__(text + (f" (+{more} more)" if more > 0 else ""))
