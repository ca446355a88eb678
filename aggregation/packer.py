"""Fill and close containers in line order, for every container level at once.

Items arrive one at a time (`add`) or a whole case layer at once (`pack_layer`, a case station
with a camera over the open case). A full container closes and becomes the next child of the
container one level up, which is opened on demand with `next_container_code(level_name)`. At batch
end `close_partial` closes whatever is open (零箱, partial=True).

State is one open container (code + children) per level, so `add` is O(1) amortised and a resumed
run continues exactly where it stopped from `open_containers()` → `restore()`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from aggregation.errors import PackerError
from aggregation.levels import Hierarchy


@dataclass(frozen=True, slots=True)
class Linked:
    """parent ← child was linked."""

    parent: str
    child: str
    parent_level: str
    child_level: str


@dataclass(frozen=True, slots=True)
class ContainerClosed:
    """A container closed with these children; partial = fewer than its capacity (零箱)."""

    code: str
    level: str
    children: tuple[str, ...]
    partial: bool


PackEvent = Linked | ContainerClosed
OpenContainers = Mapping[str, tuple[str, Sequence[str]]]


class Packer:
    """Packs items of one batch into the container levels of a hierarchy, in line order."""

    def __init__(
        self,
        hierarchy: Hierarchy,
        next_container_code: Callable[[str], str],
        batch_id: str | None = None,
        product: str | None = None,
    ) -> None:
        levels = hierarchy.container_levels
        if not levels:
            raise PackerError(f"{hierarchy!r} has no container level above the item level")
        self.hierarchy = hierarchy
        self.batch_id = batch_id
        self.product = product
        self.item_level: str = hierarchy.item_level.name
        self._next = next_container_code
        self._names: tuple[str, ...] = tuple(lv.name for lv in levels)
        self._caps: tuple[int, ...] = tuple(lv.capacity for lv in levels)
        self._index = {name: i for i, name in enumerate(self._names)}
        self._top = len(levels) - 1
        self._codes: list[str | None] = [None] * len(levels)
        self._children: list[list[str]] = [[] for _ in levels]
        # Every code now inside an open container: a cheap guard against packing one twice.
        # Batch-wide duplicates are the station's job (the database knows every linked code).
        self._inside: set[str] = set()

    # -- line mode -------------------------------------------------------------------------
    def add(self, item_code: str) -> list[PackEvent]:
        """Put one item into the open lowest container; returns the links and closures it caused."""
        if item_code in self._inside or item_code in self._codes:
            raise PackerError(f"item {item_code} is already packed in an open container")
        events: list[PackEvent] = []
        self._put(0, item_code, self.item_level, events)
        return events

    def close_partial(self) -> list[PackEvent]:
        """Batch end: close every open container, lowest first, each going into its parent."""
        events: list[PackEvent] = []
        for i in range(len(self._names)):
            code = self._codes[i]
            if code is None:
                continue
            self._close(i, events)
            if i < self._top:
                self._put(i + 1, code, self._names[i], events)
        return events

    # -- camera mode (case station) --------------------------------------------------------
    def pack_layer(
        self, case_code: str, children: Sequence[str], *, level: str = "case"
    ) -> list[PackEvent]:
        """Pack a whole case read at once (label + N codes): link, close, cascade upwards.

        Call check_layer first; this only guards the packer's own invariants.
        """
        i = self._index.get(level)
        if i is None:
            raise PackerError(f"level {level!r} is not a container level of {self.hierarchy!r}")
        if self._codes[i] is not None:
            raise PackerError(f"{level} {self._codes[i]} is open in line mode; close it first")
        kids = tuple(children)
        if not kids:
            raise PackerError(f"{level} {case_code}: no children")
        if len(kids) > self._caps[i]:
            raise PackerError(f"{level} {case_code}: {len(kids)} children > {self._caps[i]}")
        if len(set(kids)) != len(kids):
            raise PackerError(f"{level} {case_code}: a child is listed twice")
        if case_code in kids or case_code in self._inside or case_code in self._codes:
            raise PackerError(f"{level} code {case_code} is already in use")
        busy = self._inside.intersection(kids)
        if busy:
            raise PackerError(f"{level} {case_code}: already packed: {sorted(busy)[:3]}")
        child_level = self._names[i - 1] if i else self.item_level
        events: list[PackEvent] = []
        self._codes[i] = case_code
        for kid in kids:
            self._link(i, case_code, kid, child_level, events)
        self._close(i, events)
        if i < self._top:
            self._put(i + 1, case_code, level, events)
        return events

    # -- resume ----------------------------------------------------------------------------
    def open_containers(self) -> dict[str, tuple[str, tuple[str, ...]]]:
        """Snapshot {level: (code, children)} of the open containers, for restore()."""
        return {
            name: (code, tuple(kids))
            for name, code, kids in zip(self._names, self._codes, self._children, strict=True)
            if code is not None
        }

    def restore(self, open_containers: OpenContainers) -> list[PackEvent]:
        """Resume from a snapshot of open containers (e.g. rebuilt from the database).

        Returns the events that finish a cascade a crash interrupted: a container already full
        is closed and put into its parent (unless the parent already lists it).
        """
        if any(c is not None for c in self._codes):
            raise PackerError("restore() needs a packer with no open container")
        seen: set[str] = set()
        plan: list[tuple[int, str, list[str]]] = []
        for name, (code, kids) in open_containers.items():
            i = self._index.get(name)
            if i is None:
                raise PackerError(f"restore: {name!r} is not a container level of this line")
            kids = list(kids)
            if not kids:
                raise PackerError(f"restore: open {name} {code} has no children")
            if len(kids) > self._caps[i]:
                raise PackerError(f"restore: {name} {code} holds {len(kids)} > {self._caps[i]}")
            if code in kids or len(set(kids)) != len(kids) or seen.intersection(kids):
                raise PackerError(f"restore: {name} {code}: a code appears twice")
            seen.update(kids)
            plan.append((i, code, kids))
        for i, code, kids in plan:
            self._codes[i] = code
            self._children[i] = kids
            self._inside.update(kids)
        events: list[PackEvent] = []
        for i in range(len(self._names)):
            current = self._codes[i]
            if current is None or len(self._children[i]) < self._caps[i]:
                continue
            self._close(i, events)
            if i < self._top and current not in self._children[i + 1]:
                self._put(i + 1, current, self._names[i], events)
        return events

    # -- internals -------------------------------------------------------------------------
    def _put(self, i: int, child: str, child_level: str, events: list[PackEvent]) -> None:
        """Link child into the open container of level i; close and cascade while full."""
        while True:
            code = self._codes[i]
            if code is None:
                code = self._open(i, child)
            if self._link(i, code, child, child_level, events) < self._caps[i]:
                return
            self._close(i, events)
            if i == self._top:
                return
            child, child_level, i = code, self._names[i], i + 1

    def _link(
        self, i: int, code: str, child: str, child_level: str, events: list[PackEvent]
    ) -> int:
        kids = self._children[i]
        kids.append(child)
        self._inside.add(child)
        events.append(Linked(code, child, self._names[i], child_level))
        return len(kids)

    def _open(self, i: int, first_child: str) -> str:
        name = self._names[i]
        code = self._next(name)
        if not code or code == first_child or code in self._inside or code in self._codes:
            raise PackerError(f"next_container_code({name!r}) gave {code!r}, already in use")
        self._codes[i] = code
        return code

    def _close(self, i: int, events: list[PackEvent]) -> None:
        code = self._codes[i]
        assert code is not None
        kids = tuple(self._children[i])
        events.append(ContainerClosed(code, self._names[i], kids, len(kids) < self._caps[i]))
        self._codes[i] = None
        self._children[i] = []
        self._inside.difference_update(kids)
