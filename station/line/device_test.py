"""Test one device the way a technician would at the machine, through its real driver.

`station devices test NAME` and the IT screen's Test buttons: a label printer prints a test label,
the ticket printer a test ticket, a camera grabs a frame and decodes it, the PLC shows each stack
light colour and reads its trigger counter, the inkjet and the code reader report their state.
Nothing here is a TCP probe: each test speaks the device's protocol, so a printer that accepts
connections but is out of ribbon fails its test.

The kicker is fired only where the PLC has a kick-now coil or bit (`register_map.reject_coil`, or
`reject_bit` on S7/MC). In ring mode a kick is a request for an item by its sequence number; a test
request would kick whichever production item next carries that number, behind the station's
back, so it is never sent.
Tests refuse to run while a batch runs: the line owns its devices then.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from drivers.errors import DriverError
from station.build import open_devices, open_frame_source
from station.config import Settings
from station.devices import ROLES
from station.errors import InputError

DEVICES = tuple(r.key for r in ROLES)
"""The testable devices, in the order screens list them (the registry's)."""
LIGHT_S = 0.4  # each colour stays on this long: long enough to see from the machine


@dataclass(frozen=True)
class DeviceTest:
    """What a test did: ok, one line of what happened, and a grabbed frame with its codes."""

    device: str
    url: str
    ok: bool
    text: str
    frame: Any = None
    codes: tuple[str, ...] = field(default=())

    def as_dict(self) -> dict:
        """For --json (the frame as its size, not its pixels)."""
        size = None if self.frame is None else list(self.frame.shape[:2][::-1])
        return {"device": self.device, "url": self.url, "ok": self.ok, "status": self.text,
                "frame": size, "codes": list(self.codes)}  # fmt: skip


def configured(settings: Settings) -> list[str]:
    """The configured devices that can be tested, in line order."""
    return [n for n in DEVICES if getattr(settings.devices, n, None) is not None]


def running_batches(engine) -> list[str]:
    """Batches the store says are running on this line (the line owns its devices then)."""
    from station.store import batches

    return [b.id for b in batches.list_all(engine) if b.state == "running"]


def test_device(
    settings: Settings,
    name: str,
    *,
    engine=None,
    force: bool = False,
    timeout_s: float = 5.0,
) -> DeviceTest:
    """Run the device's test; a device error is a failed test naming device, port and what.

    With `engine`, refused while a batch runs (unless `force`: a batch left running by a crash).
    """
    if name not in DEVICES:
        raise InputError(f"unknown device {name!r}; devices: {', '.join(DEVICES)}")
    cfg = getattr(settings.devices, name, None)
    if cfg is None:
        raise InputError(f"{name} is not configured ([devices.{name}] in config.toml)")
    running = running_batches(engine) if engine is not None and not force else []
    if running:
        raise InputError(
            f"batch {', '.join(running)} is running: the line owns its devices. Stop or pause "
            "it first (a batch left running by a crash: test with --force)"
        )
    url = getattr(cfg, "url", None) or getattr(cfg, "source", "")
    try:
        if name in ("verify_camera", "case_camera"):
            return _camera(settings, name, url, timeout_s)
        dev = open_devices(settings)[name]
        try:
            dev.connect()
            ok, text = _TESTS[name](settings, dev, timeout_s)
        finally:
            try:
                dev.close()
            except Exception:  # closing after a failed test: the test's error is what counts
                pass
    except DriverError as exc:
        return DeviceTest(name, url, False, str(exc))
    return DeviceTest(name, url, ok, text)


def _plc(settings: Settings, plc, _timeout_s: float) -> tuple[bool, str]:
    from drivers.plc.base import StackLight

    plc.poll_triggers()  # reads the counter (and the PLC's heartbeat) in one go
    count = plc.trigger_count
    plc.heartbeat()
    for light in (StackLight.GREEN, StackLight.AMBER, StackLight.RED):
        plc.set_stack_light(light)
        time.sleep(LIGHT_S)
    plc.set_stack_light(StackLight.OFF)
    text = f"stack light green, amber, red, off; trigger counter {count}; heartbeat written"
    if plc.kicks_now:
        plc.request_reject(0)  # coil/bit mode: the kicker fires now
        return True, text + "; kicker fired (kick-now coil or bit)"
    return True, text + (
        "; kicker not fired: it kicks by item number (reject ring), fire it from the PLC panel"
    )


def _inkjet(settings: Settings, ink, _timeout_s: float) -> tuple[bool, str]:
    ink.select_job(settings.devices.inkjet.job)
    st = ink.status()
    level = "" if st.ink_level_pct is None else f", ink {st.ink_level_pct} %"
    faults = f" ({', '.join(st.faults)})" if st.faults else ""
    state = "ready" if st.ready else "NOT READY"
    return st.ready, (
        f"{state}{faults}; job {settings.devices.inkjet.job} selected; "
        f"{st.print_count} prints{level}; queue {st.queue_len}"
    )


def _label(settings: Settings, printer, _timeout_s: float) -> tuple[bool, str]:
    from drivers.labels.templates import case_label

    st = printer.status()
    if not st.ready:
        return False, "NOT READY (" + ", ".join(st.faults) + "): no test label sent"
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    code = f"LINESTATION-TEST-{stamp}"
    printer.print_label(case_label(code, product="TEST LABEL", lot=stamp, count=0))
    after = printer.status()
    state = "ready" if after.ready else "NOT READY (" + ", ".join(after.faults) + ")"
    return after.ready, f"test label {code} printed; {state}"


def _ticket(settings: Settings, printer, _timeout_s: float) -> tuple[bool, str]:
    stamp = datetime.now().strftime("%Y-%m-%d %H:%M:%S")
    printer.print_batch_ticket(
        "TEST TICKET",
        [("Station", settings.station.id), ("Line", settings.station.line), ("Time", stamp)],
        qr="TEST",
    )
    return True, f"test ticket printed ({stamp})"


def _reader(settings: Settings, reader, timeout_s: float) -> tuple[bool, str]:
    from drivers.errors import DriverTimeout

    soft = bool(getattr(getattr(reader, "dialect", None), "trigger_on", None))
    wait = min(timeout_s, 2.0)
    reader.trigger()  # software-triggered readers read now; others on their own photocell
    try:
        res = reader.read(timeout_s=wait)
    except DriverTimeout:
        if soft:
            return False, f"{reader.name} at {reader.url}: triggered, no answer in {wait:g} s"
        return True, (
            f"connected; nothing read in {wait:g} s: it reads on its own trigger, present a code"
        )
    if res.codes:
        return True, "read " + ", ".join(res.codes)
    return True, "triggered; no code in view (NOREAD)"


def _scanner(settings: Settings, scanner, _timeout_s: float) -> tuple[bool, str]:
    return True, "port open: scan a code on the QA screen to see it arrive"


def _checkweigher(settings: Settings, scale, _timeout_s: float) -> tuple[bool, str]:
    serial = scale.serial_number()
    w = scale.weigh_now()
    state = "stable" if w.stable else "still moving"
    return True, f"serial {serial}; on the platform now {w.grams:g} g ({state})"


_TESTS = {
    "plc": _plc,
    "inkjet": _inkjet,
    "case_labeler": _label,
    "pallet_labeler": _label,
    "ticket": _ticket,
    "reader": _reader,
    "scanner": _scanner,
    "checkweigher": _checkweigher,
}


def _camera(settings: Settings, name: str, source: str, timeout_s: float) -> DeviceTest:
    from drivers.camera.decode import make_decoder

    if source == "sim":
        return DeviceTest(
            name, source, True, "simulated by `station demo` (no camera to grab from)"
        )
    cam = open_frame_source(name, source)
    try:
        cam.connect()
        got = cam.get(timeout_s)
    finally:
        cam.close()
    if got is None:
        return DeviceTest(
            name, source, False,
            f"{name} at {source}: connected, no frame in {timeout_s:g} s: is it triggered "
            "(frames come with items) and lit?",
        )  # fmt: skip
    frame = got[1]
    cfg = getattr(settings.devices, name)
    decoder = make_decoder(cfg.formats, second_opinion=cfg.second_opinion)
    codes = tuple(d.text for d in decoder.decode(frame, 64))
    h, w = frame.shape[:2]
    return DeviceTest(
        name, source, True, f"frame {w}×{h}, {len(codes)} code(s) read", frame=frame, codes=codes
    )
