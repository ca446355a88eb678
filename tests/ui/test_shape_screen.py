"""The operator screen follows the line's shape: a pre-printed liquor line counts boxes."""

from __future__ import annotations

from pathlib import Path

import pytest

pytest.importorskip("PySide6")


@pytest.fixture
def liquor(station_dir: Path):
    """The pre-printed liquor example in this test's folder, an admin, a released batch."""
    from example_configs import example_text

    from station.config import load_settings
    from station.line.controller import LineController
    from station.sim import demo
    from station.store import batches
    from station.store.db import make_engine

    (station_dir / "config.toml").write_text(example_text("preprinted-liquor.toml"), "utf-8")
    settings = load_settings(station_dir / "config.toml")
    engine = make_engine(settings.database_url)
    plan = demo.DemoPlan(96, 1, 1200, 0.0, 1, "BAIJIU-500")
    demo.ensure_pools(engine, settings, plan, "ada")
    b = batches.create(engine, settings, product="BAIJIU-500", lot="L1", quantity=96, user="ada")
    ctl = LineController(settings, engine, "ada", rate_per_min=1200, defects=0.0)
    yield settings, engine, ctl, b.id
    if ctl.running:
        ctl.stop()
        ctl.wait(30)
    engine.dispose()


def test_liquor_line_counts_boxes_and_no_prints(qtbot, liquor) -> None:
    from PySide6.QtWidgets import QLabel

    from ui.app import make_app, make_window

    _settings, _engine, ctl, batch = liquor
    make_app()
    w = make_window(ctl, language="zh", size=(1280, 800))
    qtbot.addWidget(w)
    w.session.start_as("ada", "admin")
    w.show_screen("operator")
    op = w.screens["operator"]
    # A read line prints nothing: no "printed" tile; a line with boxes counts them.
    assert list(op.counters) == ["planned", "verified", "rejected", "boxes", "cases", "pallets"]
    assert op.counters["boxes"].caption.text() == "盒"
    captions = [c.text() for c in w.status_bar.findChildren(QLabel)]
    assert {"相机2", "盒相机", "箱相机"} <= set(captions), captions  # every device, in Chinese
    w.session.set_language("en")
    assert op.counters["boxes"].caption.text() == "Boxes"
    w.line.refresh_batches()
    qtbot.waitUntil(lambda: batch in [b.id for b in w.line.batches], timeout=5000)
    w.line.select(batch)
    ctl.start(batch)
    qtbot.waitUntil(lambda: w.line.status.boxes >= 2, timeout=60000)
    qtbot.waitUntil(lambda: op.counters["boxes"].value.text() not in ("", "0"), timeout=5000)
    assert int(op.counters["boxes"].value.text()) >= 2
    shots = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
    for lang in ("zh", "en"):  # the running line, both languages
        w.session.set_language(lang)
        assert w.grab().save(str(shots / f"operator_liquor_{lang}.png"))
