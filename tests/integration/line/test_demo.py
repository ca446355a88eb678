"""`station demo` end to end on the simulators: reasons, containers, world truth, station check."""

from __future__ import annotations

import json
from pathlib import Path

from station.sim.world import DEFECT_REASONS


def test_demo_rejects_every_defect_with_its_reason_and_matches_the_world(
    cli, station_dir: Path
) -> None:
    r = cli(
        "demo", "--items", "1200", "--defects", "0.06", "--seed", "7", "--rate", "3000", "--json"
    )
    assert r.rc == 0, r.out[-3000:] + r.err[-2000:]
    s = r.json
    assert s["world_mismatches"] == 0, s["mismatch_examples"]
    assert s["duplicates"] == 0
    assert s["items"] == 1200
    reasons = s["rejected_by_reason"]
    injected = s["defects_injected"]
    for kind, reason in DEFECT_REASONS.items():
        if injected.get(kind):
            assert reasons.get(reason, 0) > 0, (kind, reason, reasons)
    assert s["containers"]["case"]["normal"] >= 40
    assert s["containers"]["case"].get("partial", 0) == 1
    assert s["containers"]["pallet"].get("normal", 0) >= 2
    assert s["containers"]["pallet"].get("partial", 0) == 1
    assert s["voids"].get("outer", 0) <= 8
    chk = cli("check", "--json")
    assert chk.rc == 0 and chk.json["ok"], json.dumps(chk.json)[:2000]
