"""A station in a temp folder with one user per role, a released batch and the main window."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest

pytest.importorskip("PySide6")

PINS = {"ada": "1234", "olga": "2468", "quinn": "1357", "ivan": "9753"}
BADGE = "BADGE0042"


@dataclass
class Station:
    """What the UI tests need: settings, engine, controller and one released batch."""

    dir: Path
    settings: object
    engine: object
    controller: object
    batch_id: str


@pytest.fixture
def station(station_dir: Path):
    """Users ada (admin), olga (operator, badge), quinn (qa), ivan (it); a 150-item batch."""
    from station import users
    from station.config import load_settings
    from station.line.controller import LineController
    from station.store import batches
    from station.store.db import make_engine

    settings = load_settings(station_dir / "config.toml")
    engine = make_engine(settings.database_url)
    users.add(engine, settings, "ada", "admin", PINS["ada"], by="setup")
    users.add(engine, settings, "olga", "operator", PINS["olga"], by="ada", badge=BADGE)
    users.add(engine, settings, "quinn", "qa", PINS["quinn"], by="ada")
    users.add(engine, settings, "ivan", "it", PINS["ivan"], by="ada")
    b = batches.create(
        engine, settings, product=settings.products[0].sku, lot="L0001", quantity=150, user="ada"
    )
    ctl = LineController(settings, engine, "ada", rate_per_min=2400, defects=0.05)
    yield Station(station_dir, settings, engine, ctl, b.id)
    if ctl.running:
        ctl.stop()
        ctl.wait(30)
    engine.dispose()


@pytest.fixture
def window(qtbot, station: Station):
    """The main window at 1280×800, English, nobody logged in."""
    from ui.app import make_app, make_window

    make_app()
    w = make_window(station.controller, language="en", size=(1280, 800))
    qtbot.addWidget(w)
    w.show()
    qtbot.waitUntil(lambda: w.line.batches != [], timeout=5000)
    yield w
    w.close()
    w.tasks.wait(5000)


def login(qtbot, w, user: str) -> None:
    """Type name and PIN on the login screen and wait for the first screen of the role."""
    scr = w.screens["login"]
    scr.name.setText(user)
    scr.pin.setText(PINS[user])
    scr.go.click()
    qtbot.waitUntil(lambda: w.session.user == user, timeout=5000)
