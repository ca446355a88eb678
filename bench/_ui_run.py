"""`station run --batch B` with the touchscreen open, B started at once, the window closed when B
ends; the summary as one JSON line. For soak.py's touchscreen batches.

`station run --batch B` with a display opens the touchscreen and waits for an operator to log in
and start a batch (the --batch given is not started), which no soak can do. This starts it the
way the operator's Start button does (LineController.start), under the same run lock and user,
and clears a fault after a second as an operator would (a headless run ends on it instead); the
faults cleared are in the summary.

    python bench/_ui_run.py CONFIG BATCH
"""

from __future__ import annotations

import json
import sys
import time

from _common import ROOT  # noqa: F401  (this checkout on sys.path)


def main(cfg: str, batch: str) -> int:
    """Open the window on the line, run `batch`, close when it ends; exit 1 when it failed."""
    from PySide6.QtCore import QTimer

    from station.cli.app import App
    from station.events import RunState
    from station.line.controller import LineController
    from station.line.runlock import RunLock
    from ui.app import make_app, make_window

    app = App(cfg, None)
    user = app.require("line.run")
    lock = RunLock(app.engine, app.settings.station.id)
    lock.acquire()
    got: dict = {}
    cleared: list[str] = []
    try:
        ctl = LineController(app.settings, app.engine, user, simulate=False)
        ctl.events.batch_finished.connect(lambda summary: got.update(summary))
        ctl.events.command_failed.connect(lambda what, why: got.update(failed=f"{what}: {why}"))
        qt = make_app()
        window = make_window(ctl, size=(1280, 800))
        window.show()
        ctl.start(batch)
        faulted: list[float] = []

        def operator() -> None:
            st = ctl.status()
            if st.state == RunState.FAULTED:
                faulted.append(time.monotonic())
                if faulted[-1] - faulted[0] > 1.0:
                    cleared.append("; ".join(a.message for a in st.alarms))
                    faulted.clear()
                    ctl.resume()
            else:
                faulted.clear()
            if got and not ctl.running:
                qt.quit()

        timer = QTimer()
        timer.timeout.connect(operator)
        timer.start(200)
        qt.exec()
        window.close()
    finally:
        lock.release()
    got["faults_cleared"] = cleared
    print(json.dumps(got, ensure_ascii=False, default=str), flush=True)
    return 0 if got.get("closed") else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], sys.argv[2]))
