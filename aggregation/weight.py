"""Checkweighing a closed container: measured weight against tare + children × nominal.

Zones follow checkweigher practice (OIML R87 / R51, the T1/T2 setpoints of packers' checkweighers):

```
     reject          warn            accept              reject
 ──────────────┼───────────────┼─────────────────────┼──────────────
   under T2    T2   T2..T1     T1       good         upper   over
            (exp − t2)     (exp − t1)    exp      (exp + upper)
```
- *under T2*: more than ``t2`` below the expected weight (a missing bottle): reject.
- *T2..T1*: between ``t1`` and ``t2`` below (a T1 error, allowed for a small share of a batch):
  warn; the container passes and the station counts it.
- *good*: from ``t1`` below up to ``upper`` above: accept.
- *over*: more than ``upper`` above (an extra item, a foreign object): reject.

A weight exactly on a limit falls in the better zone (OIML: a T1 error is an error *greater*
than T1). Plain data in, a :class:`WeightVerdict` out; no I/O.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from enum import StrEnum

from aggregation.errors import AggregationError

REASON = "weight"
"""The reject reason stored for a container refused by the checkweigher."""

# Scale readings are decimals carried in floats: 38115.0 - 38500.0 must equal -385.0 exactly
# enough that a reading on a limit lands in the better zone.
_SLACK_G = 1e-6


class WeightConfigError(AggregationError, ValueError):
    """Weight check settings or inputs that cannot be used; the message names the fix."""


class Decision(StrEnum):
    """What happens to the container."""

    ACCEPT = "accept"
    WARN = "warn"
    REJECT = "reject"


class Zone(StrEnum):
    """Where the measured weight fell, in checkweigher terms."""

    UNDER_T2 = "under_t2"
    T2_T1 = "t2_t1"
    GOOD = "good"
    OVER = "over"


_DECISION = {
    Zone.UNDER_T2: Decision.REJECT,
    Zone.T2_T1: Decision.WARN,
    Zone.GOOD: Decision.ACCEPT,
    Zone.OVER: Decision.REJECT,
}


@dataclass(frozen=True, slots=True)
class Tolerances:
    """How far below (``t1`` warn, ``t2`` reject) or above (``upper``) expected a weight may be.

    In grams, or in percent of the expected weight with ``percent=True`` (resolved per
    container, so a partial case gets a band to its own size). ``upper`` None means ``t2``.
    """

    t1: float
    t2: float
    upper: float | None = None
    percent: bool = False

    def __post_init__(self) -> None:
        unit = "%" if self.percent else "g"
        for name in ("t1", "t2", "upper"):
            value = getattr(self, name)
            if value is None:
                continue
            if not _finite(value) or value < 0:
                raise WeightConfigError(
                    f"tolerance {name} = {value!r} {unit}: give a number ≥ 0 "
                    f"(t1 ≤ t2; e.g. t1_g = 150, t2_g = 300)"
                )
        if self.t2 < self.t1:
            raise WeightConfigError(
                f"tolerance t2 = {self.t2:g} {unit} is below t1 = {self.t1:g} {unit}: T2 is the "
                "reject limit and must be at least the T1 warning limit; swap them"
            )

    def limits(self, expected_g: float) -> Limits:
        """The absolute weights (grams) of the T2, T1 and upper limits around expected_g."""
        scale = expected_g / 100.0 if self.percent else 1.0
        upper = self.t2 if self.upper is None else self.upper
        return Limits(
            t2_g=expected_g - self.t2 * scale,
            t1_g=expected_g - self.t1 * scale,
            upper_g=expected_g + upper * scale,
        )


@dataclass(frozen=True, slots=True)
class Limits:
    """Zone edges in grams: under ``t2_g`` reject, under ``t1_g`` warn, over ``upper_g`` reject."""

    t2_g: float
    t1_g: float
    upper_g: float


@dataclass(frozen=True, slots=True)
class WeightVerdict:
    """The checkweigher's verdict on one container, with the figures the operator needs."""

    decision: Decision
    zone: Zone
    reason: str
    measured_g: float
    expected_g: float
    deviation_g: float
    limits: Limits

    @property
    def passed(self) -> bool:
        """True when the container goes on (accept or warn)."""
        return self.decision is not Decision.REJECT

    @property
    def deviation_pct(self) -> float:
        """Deviation in percent of the expected weight (0 when nothing was expected)."""
        return 100.0 * self.deviation_g / self.expected_g if self.expected_g else 0.0

    def describe(self) -> str:
        """One line for the operator and the audit log: measured, expected, deviation, zone."""
        edge = {
            Zone.UNDER_T2: f"below T2 {self.limits.t2_g:.1f} g",
            Zone.T2_T1: f"between T2 {self.limits.t2_g:.1f} g and T1 {self.limits.t1_g:.1f} g",
            Zone.GOOD: f"within {self.limits.t1_g:.1f}..{self.limits.upper_g:.1f} g",
            Zone.OVER: f"above the upper limit {self.limits.upper_g:.1f} g",
        }[self.zone]
        return (
            f"{self.decision.value}: weight {self.measured_g:.1f} g, expected "
            f"{self.expected_g:.1f} g ({self.deviation_g:+.1f} g, {self.deviation_pct:+.2f} %), "
            f"{edge}"
        )


@dataclass(frozen=True, slots=True)
class WeightSpec:
    """One level's checkweighing settings: the empty container, one child's nominal, the band."""

    tare_g: float
    nominal_g: float
    tolerances: Tolerances

    def __post_init__(self) -> None:
        expected_weight(self.tare_g, 0, self.nominal_g)  # checks tare_g and nominal_g

    def check(self, measured_g: float, children: int) -> WeightVerdict:
        """Grade a container holding ``children`` children (fewer in a partial case)."""
        return check_weight(
            measured_g,
            tare_g=self.tare_g,
            children=children,
            nominal_g=self.nominal_g,
            tolerances=self.tolerances,
        )

    def problems(self, capacity: int) -> list[str]:
        """Why this band would miss one missing or extra child in a full container."""
        return band_problems(
            tare_g=self.tare_g,
            capacity=capacity,
            nominal_g=self.nominal_g,
            tolerances=self.tolerances,
        )


def expected_weight(tare_g: float, children: int, nominal_g: float) -> float:
    """Tare plus children × nominal child weight, after checking the inputs."""
    if not _finite(tare_g) or tare_g < 0:
        raise WeightConfigError(f"tare_g = {tare_g!r}: give the empty container's weight in g ≥ 0")
    if isinstance(children, bool) or not isinstance(children, int) or children < 0:
        raise WeightConfigError(f"children = {children!r}: give the count of children, an int ≥ 0")
    if not _finite(nominal_g) or nominal_g <= 0:
        raise WeightConfigError(
            f"nominal_g = {nominal_g!r}: give one child's nominal weight in g > 0"
        )
    return tare_g + children * nominal_g


def check_weight(
    measured_g: float,
    *,
    tare_g: float,
    children: int,
    nominal_g: float,
    tolerances: Tolerances,
) -> WeightVerdict:
    """Grade one container's measured weight against tare + children × nominal."""
    if not _finite(measured_g):
        raise WeightConfigError(
            f"measured_g = {measured_g!r}: the scale gave no number; weigh again"
        )
    expected = expected_weight(tare_g, children, nominal_g)
    limits = tolerances.limits(expected)
    if measured_g < limits.t2_g - _SLACK_G:
        zone = Zone.UNDER_T2
    elif measured_g < limits.t1_g - _SLACK_G:
        zone = Zone.T2_T1
    elif measured_g <= limits.upper_g + _SLACK_G:
        zone = Zone.GOOD
    else:
        zone = Zone.OVER
    decision = _DECISION[zone]
    return WeightVerdict(
        decision=decision,
        zone=zone,
        reason="" if decision is Decision.ACCEPT else REASON,
        measured_g=measured_g,
        expected_g=expected,
        deviation_g=measured_g - expected,
        limits=limits,
    )


def band_problems(
    *, tare_g: float, capacity: int, nominal_g: float, tolerances: Tolerances
) -> list[str]:
    """What makes a band unable to catch one missing or one extra child (empty when sound).

    Checked at the largest (full) container and, for percent bands, where the band is widest.
    The config layer shows these at start so a band too wide to see a missing bottle is fixed
    before the line runs.
    """
    problems: list[str] = []
    expected = expected_weight(tare_g, capacity, nominal_g)
    limits = tolerances.limits(expected)
    below = expected - limits.t2_g
    above = limits.upper_g - expected
    if below + _SLACK_G >= nominal_g:
        problems.append(
            f"T2 band {below:.1f} g below a full container ({capacity} × {nominal_g:g} g + "
            f"{tare_g:g} g) is not less than one child ({nominal_g:g} g): a missing child "
            f"would pass; make t2 smaller than {nominal_g:g} g"
            + (f" ({100 * nominal_g / expected:.2f} %)" if tolerances.percent else "")
        )
    if above + _SLACK_G >= nominal_g:
        problems.append(
            f"upper band {above:.1f} g above a full container is not less than one child "
            f"({nominal_g:g} g): an extra child would pass; make upper smaller"
        )
    return problems


def _finite(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)
