"""Plant link, the running side: a background thread that tops up and reports, never blocking.

`station demo` on a plant-link line calls `prepare` (claimed blocks instead of generated pools,
then the background `PlantLink`) and `after_batch` (a final report that an unreachable plant
turns into a note, not an error).
"""

from __future__ import annotations

import atexit
import logging
import threading
import weakref

from sqlalchemy import Engine

from station.config import Settings
from station.plant import blocks as plant
from station.plant.link import (
    PlantUnreachable,
    block_size,
    local_available,
    top_up,
)
from station.plant.link_report import report

log = logging.getLogger("station.plant.link")
_lock = threading.Lock()


class PlantLink:
    """Background claims and reports of a plant-link line; retries with back-off, never blocks.

    Every `every_s` it tops up the local reserve and reports; while the plant is unreachable it
    waits twice as long each time (up to `max_backoff_s`) and warns when a level runs low.
    """

    def __init__(
        self,
        local: Engine,
        settings: Settings,
        *,
        user: str,
        every_s: float = 2.0,
        max_backoff_s: float = 30.0,
        block: int = plant.BLOCK,
        need: dict[str, int] | None = None,
        generate: bool = False,
    ) -> None:
        self.local, self.settings, self.user = local, settings, user
        self.every_s, self.max_backoff_s, self.block = every_s, max_backoff_s, block
        self.need, self.generate = need or {}, generate
        self.reachable: bool | None = None
        self.last_report: dict | None = None
        self.last_error: str | None = None
        self.warnings: list[str] = []
        self._told: dict[str, str] = {}
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        _known[local.url.render_as_string(hide_password=False)] = self

    def start(self) -> PlantLink:
        """Start the background thread (once)."""
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="plant-link", daemon=True)
            self._thread.start()
        return self

    def stop(self, timeout_s: float = 30.0) -> None:
        """Stop the thread after its current round (a round is one plant transaction)."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout_s)
            self._thread = None

    def __enter__(self) -> PlantLink:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def status(self) -> dict:
        """A snapshot: plant reachable, last report, last error, local codes, warnings."""
        return {
            "reachable": self.reachable,
            "last_report": self.last_report,
            "last_error": self.last_error,
            "local_available": local_available(self.local),
            "warnings": list(self.warnings),
        }

    def round(self) -> None:
        """One top-up and report; PlantUnreachable when the plant does not answer."""
        try:
            top_up(
                self.local,
                self.settings,
                user=self.user,
                need=self.need,
                block=self.block,
                generate=self.generate,
            )
            self.last_report = report(self.local, self.settings)
        except PlantUnreachable as exc:
            self.reachable, self.last_error = False, str(exc)
            raise
        finally:
            self._watch_reserve()
        self.reachable, self.last_error = True, None

    def _run(self) -> None:
        delay = 0.0
        while not self._stop.wait(delay):
            try:
                self.round()
                delay = self.every_s
            except PlantUnreachable as exc:
                delay = min(max(delay * 2, self.every_s), self.max_backoff_s)
                self._tell("plant", "down", log.warning, f"{exc} (next try in {delay:.0f} s)")
            except Exception:  # the line never stops for its reporter; the log says why
                log.exception("plant link round failed")
                delay = self.max_backoff_s

    def _watch_reserve(self) -> None:
        left = local_available(self.local)
        warnings = []
        for level in self.settings.level_names:
            n = left.get(level, 0)
            if self.reachable is not False or n >= block_size(self.settings, level, self.block):
                self._told.pop(level, None)
                continue
            if n == 0:
                msg = shortage(level, left)
                self._tell(level, "empty", log.error, msg)
            else:
                msg = (
                    f"plant database unreachable: only {n} {level} codes left locally; the line "
                    "prints on until they run out"
                )
                self._tell(level, "low", log.warning, msg)
            warnings.append(msg)
        self.warnings = warnings
        if self.reachable is not False:
            self._told.pop("plant", None)

    def _tell(self, key: str, state: str, say, msg: str) -> None:
        if self._told.get(key) != state:  # once per change, not every round
            self._told[key] = state
            say(msg)


def shortage(level: str, left: dict[str, int]) -> str:
    """The words for a plant-link line out of `level` codes while the plant is unreachable
    (for the line's PoolEmpty alarm too)."""
    return (
        f"plant database unreachable and no {level} codes left locally: the line stops on its "
        f"next {level} code until the plant answers; local codes left: "
        + (", ".join(f"{lv} {n}" for lv, n in sorted(left.items())) or "none")
    )


_links: dict[str, PlantLink] = {}
_known: weakref.WeakValueDictionary[str, PlantLink] = weakref.WeakValueDictionary()


def empty_reason(local: Engine, level: str) -> str | None:
    """Why `level` ran out on this local store when its plant is unreachable (else None)."""
    link = _known.get(local.url.render_as_string(hide_password=False))
    if link is None or link.reachable is not False:
        return None
    return shortage(level, local_available(local))


def start_background(local: Engine, settings: Settings, **kw) -> PlantLink:
    """The running PlantLink of this local store, started if none is (used by the demo)."""
    key = local.url.render_as_string(hide_password=False)
    with _lock:
        link = _links.get(key)
        if link is None:
            link = _links[key] = PlantLink(local, settings, **kw).start()
    return link


def stop_all() -> None:
    """Stop every background link (at exit, and in tests)."""
    with _lock:
        links = list(_links.values())
        _links.clear()
    for link in links:
        link.stop()


atexit.register(stop_all)


def prepare(local: Engine, settings: Settings, need: dict[str, int], *, user: str) -> PlantLink:
    """The demo's pools on a plant-link line: claimed blocks (the plant pool filled if short),
    then the background link. An unreachable plant is a warning: the line prints what it holds.
    """
    try:
        top_up(local, settings, user=user, need=need, generate=True)
    except PlantUnreachable as exc:
        have = local_available(local)
        short = {lv: n for lv, n in need.items() if have.get(lv, 0) < n}
        log.warning(
            "%s; local codes %s%s", exc, have, f", short of the plan: {short}" * bool(short)
        )
    return start_background(local, settings, user=user, need=need, generate=True)


def after_batch(local: Engine, settings: Settings) -> dict:
    """The final report at the end of a demo batch; never raises for an unreachable plant."""
    try:
        return {"reported": True, **report(local, settings)}
    except PlantUnreachable as exc:
        log.warning("%s", exc)
        return {"reported": False, "error": str(exc)}
