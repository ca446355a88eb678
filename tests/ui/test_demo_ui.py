"""`station demo --ui` opens the UI on the simulated line and the line moves."""

from __future__ import annotations

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication


def test_demo_ui_runs_the_simulated_line(qapp, station) -> None:
    from ui.app import run_demo
    from ui.main_window import MainWindow

    seen: dict = {}
    poll = QTimer()

    def look() -> None:
        """Every 200 ms: once codes are verified and frames painted, close the window."""
        w = next(x for x in QApplication.topLevelWidgets() if isinstance(x, MainWindow))
        seen.update(
            user=w.session.user,
            screen=w.current,
            verified=w.line.status.verified,
            frames=w.screens["operator"].camera.frames,
            message=w.screens["operator"].message.text(),
        )
        if (seen["verified"] > 0 and seen["frames"] > 0) or seen["message"]:
            poll.stop()
            w.close()

    poll.timeout.connect(look)
    poll.start(200)
    rc = run_demo(
        station.engine,
        station.settings,
        user="olga",
        items=400,
        rate=1200,
        defects=0.02,
        product=station.settings.products[0].sku,
        language="zh",
        quit_after_s=30.0,  # at most; look() closes it as soon as the line moves
    )
    assert rc == 0  # the CLI authenticated olga; the UI opens as her
    assert seen["user"] == "olga" and seen["screen"] == "operator"
    assert seen["verified"] > 0 and seen["frames"] > 0, seen["message"]


def test_demo_ui_without_a_display_runs_headless(cli, monkeypatch) -> None:
    for var in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM"):
        monkeypatch.delenv(var, raising=False)
    r = cli("demo", "--ui", "--items", "30", "--rate", "2400", "--json")
    assert "no display" in r.err
    assert r.json["items"] == 30 or r.json.get("verified", 0) > 0, r.out
