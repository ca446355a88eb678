"""The line's shape: its ordered list of stations, each at one level (config `[[stations]]`).

A station is *mark* (print with the inkjet, then verify with cameras), *read* (verify codes that
arrive pre-printed, against the level's imported packs) or *aggregate* (N children into a parent
whose code is printed on a label or read pre-printed). Any chain of the five levels works:
1:N, 1:M:N, 1:M:N:G, with or without the inner ↔ outer pair, with or without the box level.

A config without `[[stations]]` gets today's line, derived from `[line]` and `[devices]`: the
item level marked (or read when `line.preprinted_caps`), cases aggregated under printed labels
(pre-printed when there is no case labeler), pallets stacked from the reader.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from pydantic import Field

from station.device_models import FrozenSettings

StationKind = Literal["mark", "read", "aggregate"]
CONTAINER_LEVELS = ("box", "case")
"""Levels a camera-checked aggregate station closes (the pallet is stacked from a reader)."""


class LineStationSettings(FrozenSettings):
    """One station on the conveyor (a `[[stations]]` table)."""

    level: Literal["outer", "box", "case", "pallet"] = Field(
        description="The level this station marks, reads or closes (the parent, when aggregating)"
    )
    kind: StationKind
    cameras: tuple[str, ...] = Field(
        (),
        description="Device roles whose frames this station decodes; an item station may merge "
        "two or more (reads merged by item, de-duplicated)",
    )
    labeler: str | None = Field(
        None,
        description="aggregate: the label printer of the parent code; none = parent pre-printed",
    )
    separator: str | None = Field(
        None, description="Splits a multi-code read (`码1//码2`) into codes; none = no splitting"
    )


@dataclass(frozen=True)
class ItemStep:
    """The item station: its level, mark or read, the cameras, the inner ↔ outer pair."""

    level: str
    kind: str
    cameras: tuple[str, ...]
    pair_level: str | None
    separator: str | None


@dataclass(frozen=True)
class ContainerStep:
    """A camera-checked aggregate station: children of `child` into a `level` container."""

    level: str
    child: str
    capacity: int
    camera: str
    labeler: str | None

    @property
    def preprinted(self) -> bool:
        """The parent code arrives printed (its pack imported), no label is printed here."""
        return self.labeler is None


@dataclass(frozen=True)
class Shape:
    """The line as the runner builds it."""

    item: ItemStep
    containers: tuple[ContainerStep, ...]
    pallet_level: str | None
    pallet_capacity: int = 0

    def ratio(self) -> str:
        """The packing ratio as the line lead says it, e.g. `6 → box 4 → case 70 → pallet`."""
        parts = [self.item.level]
        for c in self.containers:
            parts.append(f"{c.capacity} → {c.level}")
        if self.pallet_level:
            parts.append(f"{self.pallet_capacity} → {self.pallet_level}")
        return " ".join(parts)

    @property
    def cameras(self) -> tuple[str, ...]:
        """Every camera role the shape decodes from, item cameras first."""
        return self.item.cameras + tuple(c.camera for c in self.containers)


def shape_of(settings: Any) -> Shape:
    """The configured stations, or today's line derived from `[line]`; ValueError if unusable.

    `settings` is station.config.Settings (which imports this module: typed Any, no cycle).
    """
    names = settings.level_names
    pair = "inner" if "inner" in names else None
    if settings.stations:
        return _configured(settings, pair)
    d = settings.devices
    kind = "read" if settings.line.preprinted_caps else "mark"
    item = ItemStep(settings.line.printed_level, kind, ("verify_camera",), pair, None)
    containers: list[ContainerStep] = []
    child = item.level
    for lv in ("box", "case"):
        if lv in names:
            cam = f"{lv}_camera"
            labeler = f"{lv}_labeler" if getattr(d, f"{lv}_labeler", None) is not None else None
            containers.append(ContainerStep(lv, child, settings.level(lv).capacity, cam, labeler))
            child = lv
    pallet = "pallet" if "pallet" in names else None
    return Shape(
        item, tuple(containers), pallet, settings.level("pallet").capacity if pallet else 0
    )


def _configured(settings: Any, pair: str | None) -> Shape:
    names = settings.level_names
    steps = settings.stations
    items = [s for s in steps if s.kind in ("mark", "read")]
    if len(items) != 1 or steps[0] is not items[0]:
        raise ValueError(
            "stations: the first station must be the item station (kind mark or read), and "
            "there must be exactly one"
        )
    it = items[0]
    if it.level != "outer":
        raise ValueError("stations: the item station marks or reads the level 'outer'")
    if not it.cameras:
        raise ValueError('stations: the item station needs cameras = ["verify_camera", …]')
    item = ItemStep(it.level, it.kind, it.cameras, pair, it.separator)
    containers: list[ContainerStep] = []
    pallet = None
    child = "outer"
    for st in steps[1:]:
        if st.kind != "aggregate":
            raise ValueError(f"stations: {st.level} station: after the item station, only "
                             "aggregate stations")  # fmt: skip
        if st.level not in names:
            raise ValueError(f"stations: level {st.level!r} is not in [[levels]]; add it there")
        if names.index(st.level) <= names.index(child):
            raise ValueError(f"stations: list the stations child first ({st.level} after {child})")
        skipped = names[names.index(child) + 1 : names.index(st.level)]
        if skipped:
            raise ValueError(f"stations: no station closes level {skipped[0]!r} between {child} "
                             f"and {st.level}; add one or remove the level")  # fmt: skip
        if st.level == "pallet":
            pallet = "pallet"
        else:
            if len(st.cameras) != 1:
                raise ValueError(f"stations: the {st.level} station needs one camera")
            cap = settings.level(st.level).capacity
            containers.append(ContainerStep(st.level, child, cap, st.cameras[0], st.labeler))
        child = st.level
    if names[-1] != child:
        raise ValueError(f"stations: no station closes level {names[-1]!r}; add one")
    return Shape(item, tuple(containers), pallet, settings.level(pallet).capacity if pallet else 0)
