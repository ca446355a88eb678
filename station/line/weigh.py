"""The checkweigher at the case station: each closed case weighed against tare + n × nominal.

`case_refused` is called from the case station (ContainerStation._check) once a case's layer is
good and before its links are stored. A case outside the band of `[devices.checkweigher.levels.
<case level>]` (aggregation/weight.py: under T2 or over the upper limit) is rejected with reason
`weight` and the case gate sends it to rework, as a layer that fails (its label stays on it); a
T1 warning passes and is logged. A scale that does not answer is a device fault (line stop) and
the case goes to rework: an unweighed case never passes.

The scale is read on the runner's thread; on a line whose PLC holds the case on the scale until
the gate verdict, a settled scale answers in a few ms (`stable_timeout_ms` bounds a swinging one).
`case_weight_g` is what the simulated world puts on SimScale for a case of n bottles.
"""

from __future__ import annotations

import logging
from typing import Any

from aggregation.reasons import RejectReason as R
from drivers.errors import DriverError
from drivers.plc.base import CASE_REJECTED

log = logging.getLogger("station.line.weigh")


def case_weight_g(settings: Any, level: str, children: int) -> float | None:
    """tare + children × nominal of `level` from config (None when that level is not weighed)."""
    cfg = settings.devices.checkweigher
    lv = cfg.levels.get(level) if cfg is not None else None
    return None if lv is None else lv.tare_g + children * lv.nominal_g


def case_refused(station: Any, slot: Any, label: str, items: list[str]) -> bool:
    """Weigh the case on the scale; True when it was refused (reject stored, gate told)."""
    runner = station.r
    scale = getattr(runner.dev, "checkweigher", None)
    cfg = runner.s.devices.checkweigher
    lv = cfg.levels.get(station.level) if cfg is not None else None
    if scale is None or lv is None:
        return False
    try:
        weight = scale.weigh()  # connected with the line's devices; the driver reconnects itself
    except DriverError as exc:
        runner._fault(
            "checkweigher", str(exc), "check the checkweigher (power, cable, platform), then clear",
            "checkweigher_fault", (("detail", str(exc)),),
        )  # fmt: skip
        return _refuse(station, slot, label, f"not weighed: {exc}")
    verdict = lv.spec().check(weight.grams, len(items))
    if verdict.passed:
        if verdict.decision.value == "warn":
            log.warning("case %s: %s", label, verdict.describe())
        return False
    return _refuse(station, slot, label, verdict.describe())


def _refuse(station: Any, slot: Any, label: str, detail: str) -> bool:
    runner = station.r
    runner.store.reject(R.WEIGHT.value, row=None, read=label, seq=None,
                        detail=f"case {label}: {detail}")  # fmt: skip
    runner.stats.reasons[R.WEIGHT.value] += 1
    station._gate(slot, CASE_REJECTED)
    runner.signals.case_rejected.emit(station.told(slot), label, ((R.WEIGHT.value, label),))
    return True
