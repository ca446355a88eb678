"""An in-memory code store for the aggregation tests: applies packer events and rework ops."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace

from aggregation.levels import Hierarchy
from aggregation.packer import ContainerClosed, Linked, PackEvent
from aggregation.rework import Link, Op, SetFlags, SetState, Unlink
from aggregation.rules import CodeInfo


class CodeStore:
    """Codes by value plus parent → children lists, the way the station's tables hold them."""

    def __init__(self) -> None:
        self.codes: dict[str, CodeInfo] = {}
        self.kids: dict[str, list[str]] = {}
        self.closed: list[ContainerClosed] = []
        self.partial: set[str] = set()

    def add(
        self,
        code: str,
        level: str,
        state: str = "verified",
        batch: str | None = "B1",
        product: str | None = "P1",
        parent: str | None = None,
        mixed: bool = False,
    ) -> CodeInfo:
        info = CodeInfo(code, level, state, batch, product, parent, mixed)
        self.codes[code] = info
        if parent is not None:
            self.kids.setdefault(parent, []).append(code)
        return info

    def lookup(self, code: str) -> CodeInfo | None:
        return self.codes.get(code)

    def children_of(self, code: str) -> list[str]:
        return list(self.kids.get(code, ()))

    def _set(self, code: str, **changes: object) -> None:
        self.codes[code] = replace(self.codes[code], **changes)

    def apply_events(self, events: Iterable[PackEvent]) -> None:
        """Apply packer events; container codes unknown to the store appear as printed labels."""
        for ev in events:
            if isinstance(ev, Linked):
                if ev.parent not in self.codes:
                    self.add(ev.parent, ev.parent_level, "printed")
                assert self.codes[ev.child].parent is None, f"{ev.child} linked twice"
                self._set(ev.child, parent=ev.parent, state="linked")
                self.kids.setdefault(ev.parent, []).append(ev.child)
            else:
                assert tuple(self.kids.get(ev.code, ())) == ev.children, ev
                self.closed.append(ev)

    def apply_ops(self, ops: Iterable[Op]) -> None:
        for op in ops:
            if isinstance(op, Link):
                assert self.codes[op.child].parent is None
                self._set(op.child, parent=op.parent)
                self.kids.setdefault(op.parent, []).append(op.child)
            elif isinstance(op, Unlink):
                assert self.codes[op.child].parent == op.parent
                self._set(op.child, parent=None)
                self.kids[op.parent].remove(op.child)
            elif isinstance(op, SetState):
                self._set(op.code, state=op.state)
            elif isinstance(op, SetFlags):
                self._set(op.code, mixed=op.mixed)
                if op.partial:
                    self.partial.add(op.code)
            else:  # pragma: no cover
                raise AssertionError(op)

    def problems(self, hierarchy: Hierarchy) -> list[str]:
        """Every broken invariant of the stored hierarchy (empty when sound)."""
        out: list[str] = []
        owners: dict[str, str] = {}
        for parent, kids in self.kids.items():
            for kid in kids:
                if kid in owners:
                    out.append(f"{kid} in {owners[kid]} and {parent}")
                owners[kid] = parent
                if self.codes[kid].parent != parent:
                    out.append(f"{kid} listed in {parent} but points to {self.codes[kid].parent}")
            if kids:
                level = self.codes[parent].level
                if len(kids) > hierarchy.capacity(level):
                    out.append(f"{parent} holds {len(kids)} > {hierarchy.capacity(level)}")
        for code, info in self.codes.items():
            if info.parent is not None:
                above = hierarchy.parent_of(info.level)
                if above is None or self.codes[info.parent].level != above.name:
                    out.append(f"{code} ({info.level}) in a {self.codes[info.parent].level}")
                if owners.get(code) != info.parent:
                    out.append(f"{code} points to {info.parent} which does not list it")
            if (info.state == "linked") != (info.parent is not None):
                out.append(f"{code}: state {info.state} but parent {info.parent}")
            seen = {code}
            up = info.parent
            while up is not None:
                if up in seen:
                    out.append(f"cycle through {code}")
                    break
                seen.add(up)
                up = self.codes[up].parent
        return out
