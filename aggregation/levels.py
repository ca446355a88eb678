"""Packaging levels and the hierarchy they form, ordered child → parent.

The canonical order is inner 盖内码 → outer 盖外码 → box 盒码 → case 箱码 → pallet 垛码. A line uses
a subset in that order (e.g. outer → case → pallet). `inner` ↔ `outer` is a 1:1 pair: the outer
code is the parent of its inner code with capacity 1, and the outer is the sellable item that the
containers above it hold.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from aggregation.errors import HierarchyError

LEVEL_NAMES: tuple[str, ...] = ("inner", "outer", "box", "case", "pallet")
_RANK = {name: i for i, name in enumerate(LEVEL_NAMES)}


@dataclass(frozen=True, slots=True)
class Level:
    """One packaging level; capacity = children per container (1 for inner and outer)."""

    name: str
    capacity: int = 1
    label_zh: str = ""
    label_en: str = ""


LevelRef = Level | str


class Hierarchy:
    """The levels a line uses, child first, with lookups that cost a dict access."""

    __slots__ = ("_by_name", "_index", "levels")

    def __init__(self, levels: Sequence[Level]) -> None:
        levels = tuple(levels)
        _validate(levels)
        self.levels: tuple[Level, ...] = levels
        self._by_name: dict[str, Level] = {lv.name: lv for lv in levels}
        self._index: dict[str, int] = {lv.name: i for i, lv in enumerate(levels)}

    @classmethod
    def from_settings(cls, items: Iterable[Any]) -> Hierarchy:
        """Build from config records (anything with name, capacity, label_zh, label_en)."""
        return cls(
            [
                Level(
                    name=item.name,
                    capacity=getattr(item, "capacity", 1),
                    label_zh=getattr(item, "label_zh", ""),
                    label_en=getattr(item, "label_en", ""),
                )
                for item in items
            ]
        )

    @classmethod
    def of(cls, *spec: tuple[str, int] | str) -> Hierarchy:
        """Shorthand: `Hierarchy.of("outer", ("case", 24), ("pallet", 20))`."""
        out = []
        for s in spec:
            name, cap = (s, 1) if isinstance(s, str) else s
            out.append(Level(name, cap))
        return cls(out)

    def __repr__(self) -> str:
        inner = ", ".join(f"{lv.name}:{lv.capacity}" for lv in self.levels)
        return f"Hierarchy({inner})"

    def __contains__(self, level: object) -> bool:
        name = level.name if isinstance(level, Level) else level
        return name in self._by_name

    def __getitem__(self, name: str) -> Level:
        return self._by_name[name]

    @property
    def names(self) -> tuple[str, ...]:
        """Level names, child first."""
        return tuple(self._by_name)

    def get(self, level: LevelRef) -> Level:
        """The Level for a name or Level; HierarchyError if this line does not use it."""
        name = level.name if isinstance(level, Level) else level
        try:
            return self._by_name[name]
        except KeyError:
            raise HierarchyError(
                f"level {name!r} is not used on this line (levels: {', '.join(self.names)})"
            ) from None

    def index(self, level: LevelRef) -> int:
        """Position of a level, 0 = the lowest."""
        return self._index[self.get(level).name]

    def parent_of(self, level: LevelRef) -> Level | None:
        """The level directly above, or None for the top level."""
        i = self.index(level) + 1
        return self.levels[i] if i < len(self.levels) else None

    def child_of(self, level: LevelRef) -> Level | None:
        """The level directly below, or None for the lowest level."""
        i = self.index(level) - 1
        return self.levels[i] if i >= 0 else None

    def capacity(self, level: LevelRef) -> int:
        """Children per container at this level."""
        return self.get(level).capacity

    @property
    def pair_levels(self) -> tuple[Level, Level] | None:
        """(inner, outer) when the line uses both, else None."""
        if "inner" in self._by_name and "outer" in self._by_name:
            return self._by_name["inner"], self._by_name["outer"]
        return None

    @property
    def item_level(self) -> Level:
        """The sellable item the containers hold: outer when paired, else the lowest level."""
        return self._by_name["outer"] if self.pair_levels else self.levels[0]

    @property
    def container_levels(self) -> tuple[Level, ...]:
        """Levels above the item level, child first (what the packer fills)."""
        return self.levels[self.index(self.item_level) + 1 :]


def _validate(levels: tuple[Level, ...]) -> None:
    if not levels:
        raise HierarchyError("no levels configured: add at least one [[levels]] entry")
    seen: set[str] = set()
    for lv in levels:
        if lv.name not in _RANK:
            raise HierarchyError(f"unknown level {lv.name!r}: use one of {', '.join(LEVEL_NAMES)}")
        if lv.name in seen:
            raise HierarchyError(f"level {lv.name!r} is listed twice")
        seen.add(lv.name)
        if not isinstance(lv.capacity, int) or isinstance(lv.capacity, bool) or lv.capacity < 1:
            raise HierarchyError(f"level {lv.name!r}: capacity must be an integer ≥ 1")
    ranks = [_RANK[lv.name] for lv in levels]
    if ranks != sorted(ranks):
        raise HierarchyError(
            "levels must be listed child first in the order "
            f"{' → '.join(LEVEL_NAMES)}; got {' → '.join(lv.name for lv in levels)}"
        )
    names = [lv.name for lv in levels]
    if "inner" in names:
        if "outer" not in names:
            raise HierarchyError("level 'inner' needs 'outer': they form a 1:1 pair")
        if levels[names.index("outer")].capacity != 1:
            raise HierarchyError("level 'outer' pairs 1:1 with 'inner': its capacity must be 1")
