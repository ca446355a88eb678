"""GenICam (GigE Vision / USB3 Vision) cameras through ``harvesters``, an optional extra.

Install with ``pip install linestation[genicam]`` plus the camera vendor's GenTL producer (.cti).
"""

from __future__ import annotations

import numpy

from drivers.errors import DriverConnectionError, DriverTimeout


class HarvesterCamera:
    """One GenICam camera picked by serial number (or the first found) via a GenTL producer."""

    def __init__(self, cti: str, serial: str | None = None, name: str = "genicam") -> None:
        self.cti = cti
        self.serial = serial
        self.name = name
        self.url = f"genicam:{serial or 'first'}@{cti}"
        self._harvester: object | None = None
        self._acquirer: object | None = None

    def open(self) -> None:
        """Load the producer and start acquisition; clear error if harvesters is not installed."""
        try:
            from harvesters.core import Harvester
        except ImportError as exc:
            raise DriverConnectionError(
                self.name,
                self.url,
                "the harvesters package is not installed",
                "pip install 'linestation[genicam]' and the vendor's GenTL producer",
            ) from exc
        harvester = Harvester()
        harvester.add_file(self.cti)
        harvester.update()
        if not harvester.device_info_list:
            harvester.reset()
            raise DriverConnectionError(self.name, self.url, "no GenICam camera found")
        query = {"serial_number": self.serial} if self.serial else 0
        try:
            acquirer = harvester.create(query)
        except (ValueError, IndexError) as exc:
            harvester.reset()
            raise DriverConnectionError(self.name, self.url, f"camera not found: {exc}") from exc
        acquirer.start()
        self._harvester, self._acquirer = harvester, acquirer

    def grab(self, timeout_s: float = 1.0) -> numpy.ndarray:
        """Next frame as a copy of the camera buffer (mono: 2-D uint8)."""
        if self._acquirer is None:
            raise DriverConnectionError(self.name, self.url, "grab() before open()")
        try:
            with self._acquirer.fetch(timeout=timeout_s) as buffer:  # type: ignore[attr-defined]
                part = buffer.payload.components[0]
                frame: numpy.ndarray = part.data.reshape(part.height, part.width, -1).copy()
        except Exception as exc:  # harvesters raises genicam TimeoutException, not a builtin
            if "timeout" in type(exc).__name__.lower():
                raise DriverTimeout(self.name, self.url, f"no frame within {timeout_s} s") from exc
            raise
        return frame[:, :, 0] if frame.shape[2] == 1 else frame

    def close(self) -> None:
        """Stop acquisition and release the producer; safe to call twice."""
        acquirer, self._acquirer = self._acquirer, None
        harvester, self._harvester = self._harvester, None
        if acquirer is not None:
            acquirer.stop()  # type: ignore[attr-defined]
            acquirer.destroy()  # type: ignore[attr-defined]
        if harvester is not None:
            harvester.reset()  # type: ignore[attr-defined]
