"""A device fault stops the line safely (line stop, red light, alarm naming the device); clearing
the fault resumes the batch, and the store still matches the world."""

from __future__ import annotations

import threading
import time


def test_ink_out_stops_the_line_and_clearing_resumes(demo_batch) -> None:
    batch = demo_batch(items=400, rate=1200, defects=0.0, seed=5, lot="F1")
    seen: dict = {}
    alarms: list = []

    def inject(sims, runner, world) -> None:
        runner.signals.alarm_raised.connect(alarms.append)

        def fault() -> None:
            time.sleep(2.0)
            sims.inkjet.set_fault("ink_out")
            deadline = time.monotonic() + 10
            while time.monotonic() < deadline and not sims.plc.line_stop:
                time.sleep(0.02)
            seen["line_stop"] = sims.plc.line_stop
            seen["light"] = str(sims.plc.stack_light)
            seen["state"] = runner.state.value
            time.sleep(0.5)
            sims.inkjet.clear_fault("ink_out")

        threading.Thread(target=fault, daemon=True).start()

    summary = batch.run(on_start=inject)
    assert seen["line_stop"] is True
    assert seen["light"].endswith("red")
    assert seen["state"] == "faulted"
    assert any(a.device == "inkjet" and "ink" in a.message.lower() for a in alarms), alarms
    assert summary["faults_cleared"] >= 1
    assert summary["items"] == 400
    assert summary["world_mismatches"] == 0 and summary["duplicates"] == 0
