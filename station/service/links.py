"""Build what config.toml asks for beside the line ([opcua], [alerts]); feed it the line's events.

```python
with open_links(settings, engine) as links:     # nothing configured: does nothing
    links.attach(signals)                        # the runner's LineSignals
    ... run batches ...
```
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from sqlalchemy import Engine

from station.config import Settings
from station.events import LineSignals

log = logging.getLogger("station.service.links")


class Links:
    """The OPC UA face and the alerts of one line, whichever are configured."""

    def __init__(
        self,
        settings: Settings,
        engine: Engine,
        *,
        on_start: Callable[[str], str] | None = None,
        on_stop: Callable[[str], str | None] | None = None,
        alerts_poll_s: float = 30.0,
    ) -> None:
        self.settings = settings
        self.opcua = None
        self.alerts = None
        try:
            if settings.alerts is not None and settings.alerts.targets:
                from station.service.alerting import AlertsLink

                self.alerts = AlertsLink(settings, engine, poll_s=alerts_poll_s)
            if settings.opcua.active:
                from station.service.face import OpcUaLink
                from station.service.jobs import BatchJobs

                jobs = BatchJobs(settings, engine, on_start=on_start, on_stop=on_stop)
                self.opcua = OpcUaLink(settings, engine, jobs).start()
        except BaseException:
            self.close()
            raise

    def attach(self, signals: LineSignals) -> None:
        """Feed them this line's signals."""
        for link in (self.opcua, self.alerts):
            if link is not None:
                link.attach(signals)

    def close(self, linger_s: float = 0.0) -> None:
        """Stop the face (after linger_s showing the last batch's end) and flush the alerts."""
        if self.opcua is not None:
            try:
                self.opcua.stop(linger_s)
            except Exception:
                log.warning("OPC UA face did not stop cleanly", exc_info=True)
            self.opcua = None
        if self.alerts is not None:
            self.alerts.close()
            self.alerts = None

    def __enter__(self) -> Links:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close(self.settings.opcua.linger_s if exc[0] is None else 0.0)


def open_links(settings: Settings, engine: Engine, **kw) -> Links:
    """The configured links of a line, started (see Links)."""
    return Links(settings, engine, **kw)
