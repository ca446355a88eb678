"""Pause is a controlled stop: the infeed stops (PLC line stop), items already on the conveyor are
decided as usual, and resume carries on; nothing good is kicked because the operator paused."""

from __future__ import annotations

import threading
import time


def test_pause_stops_the_infeed_and_rejects_nothing_good(demo_batch) -> None:
    batch = demo_batch(items=300, rate=2400, defects=0.0, seed=3, lot="P1")
    seen: dict = {}

    def operator(sims, runner, world) -> None:
        def run() -> None:
            time.sleep(1.5)  # mid-batch: items between printer, camera and kicker
            runner.pause()
            deadline = time.monotonic() + 5
            while time.monotonic() < deadline and not sims.plc.line_stop:
                time.sleep(0.01)
            seen["line_stop"] = sims.plc.line_stop
            seen["light"] = str(sims.plc.stack_light)
            produced = world.produced
            time.sleep(1.0)  # longer than any item's way from photocell to kicker
            seen["state"] = runner.state.value
            seen["items_while_paused"] = world.produced - produced
            seen["rejected_while_paused"] = runner.stats.rejected
            runner.resume()

        threading.Thread(target=run, daemon=True).start()

    summary = batch.run(on_start=operator)
    assert seen["line_stop"] is True and seen["light"].endswith("amber"), seen
    assert seen["state"] == "paused"
    assert seen["items_while_paused"] == 0  # the infeed stood still
    assert seen["rejected_while_paused"] == 0  # what was on the conveyor was decided, not kicked
    assert summary["items"] == 300 and summary["verified"] == 300, summary["rejected_by_reason"]
    assert summary["rejected"] == 0 and summary["late"] == 0
    assert summary["world_mismatches"] == 0 and summary["duplicates"] == 0
