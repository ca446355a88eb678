"""The simulated world of `station demo`: items on a conveyor, caps, cases and pallets.

It drives the device simulators exactly as the physical line drives real devices: the photocell
fires the PLC simulator's trigger and the inkjet simulator's print (the item carries exactly what
the printer received), the camera sees what is on the item, the kicker removes what the PLC was
told to reject, the case packer forms cases under labels taken from what the ZPL simulator
received, and the pallet reader reads each case's label. Physical facts are journalled (flushed
line by line) so a killed run can resume with the same world, and at the end every link in the
store is compared with where each item physically is.
"""

from __future__ import annotations

import heapq
import os
import queue
import random
import sys
import threading
import time
from collections import deque
from pathlib import Path

import numpy as np

from drivers.camera.sim import render_code, render_layer
from station.sim.journal import (  # noqa: F401  (re-exported: the world's names, one place)
    DEFECT_REASONS,
    ITEM_DEFECTS,
    READ_DEFECTS,
    Journal,
    Physical,
    cap_key,
    physical_duplicates,
    world_mismatches,
)
from station.sim.packers import ContainerPacker

GATE_RETRIGGER_S = 2.0
"""A case at the gate without a verdict this long (station alive) is shown to the camera again:
its frame may have gone to a station that died (the camera stream hands a frame to whichever
connection takes it, and a dead station's connection takes two before the stream notices).
Shorter than `station run`'s finish_idle_s (3 s), or a run that restarted after the last item
ended the batch while the last case waited at the gate. The station answers a case number it
decided already with the same verdict and records nothing twice (station/line/cases.py)."""


class FrameQueue:
    """A FrameSource fed by the world (the camera trigger carries the PLC's sequence number)."""

    def __init__(self) -> None:
        self.q: queue.Queue = queue.Queue()

    def put(self, tag, frame) -> None:
        """Queue one frame."""
        self.q.put((tag, frame))

    def get(self, timeout_s: float):
        """Next frame or None."""
        try:
            return self.q.get(timeout=timeout_s) if timeout_s else self.q.get_nowait()
        except queue.Empty:
            return None


class World:
    """The simulated packing line around the station."""

    def __init__(
        self,
        settings,
        sims,
        *,
        items: int,
        rate_per_min: float,
        defects: float,
        seed: int,
        journal: Path,
        caps: list[str],
        decoder,
        prerender: dict | None = None,
        remote: bool = False,
        preprinted: dict[str, list[str]] | None = None,
    ) -> None:
        self.s = settings
        # remote: the station is another process, heard only through the devices (the PLC's
        # case gate and cases-placed registers, the pallet labeler); frames leave by the cameras.
        self.remote = remote
        self.sims = sims
        self.total = items
        self.interval = 60.0 / rate_per_min
        self.defect_rate = defects
        self.rng = random.Random(seed)
        # Each packer draws from its own stream: when a container is formed depends on timing,
        # and sharing one stream made the items' defects differ from run to run.
        line = settings.line
        mm_s = line.speed_m_per_s * 1000
        self.to_camera = line.trigger_to_camera_mm / mm_s
        self.to_kicker = (line.trigger_to_camera_mm + line.camera_to_kicker_mm) / mm_s
        shape = settings.shape
        self.pallet_cap = settings.level("pallet").capacity if shape.pallet_level else 0
        cams = shape.item.cameras
        # A camera gets frames; an item reader (a smart camera decoding on the device) is told
        # the codes it reads: its simulator sends them as a message over its socket.
        self.item_cams = [
            getattr(sims, c) if remote or c == "item_reader" else FrameQueue() for c in cams
        ]
        self.verify = self.item_cams[0]
        if remote and any(c is None for c in self.item_cams):
            raise ValueError(f"a remote world needs frame streams for {', '.join(cams)}")
        self._gate_seen = sims.plc.case_result
        self._placed_seen = sims.plc.cases_placed
        self.decoder = decoder
        self.prerender = prerender or {}
        self.ph = Journal.replay(journal)
        self.journal = Journal(journal)
        self.caps = deque(c for c in caps if cap_key(c) not in self.ph.caps_used)
        self.pair = bool(caps)
        pre = {lv: deque(c for c in codes if c not in self.ph.used)
               for lv, codes in (preprinted or {}).items()}  # fmt: skip
        self.item_codes = pre.get(shape.item.level) if shape.item.kind == "read" else None
        self.packers: list[ContainerPacker] = []
        for i, step in enumerate(shape.containers):
            frames = getattr(sims, step.camera) if remote else FrameQueue()
            if frames is None:
                raise ValueError(f"a remote world needs the {step.camera} frame stream")
            p = ContainerPacker(
                self, level=step.level, capacity=step.capacity, frames=frames,
                labeler=getattr(sims, step.labeler) if step.labeler else None,
                codes=pre.get(step.level, deque()) if step.preprinted else None,
                rng=random.Random(seed + 1 + i), last=i == len(shape.containers) - 1,
            )  # fmt: skip
            if self.packers:
                p.upstream, self.packers[-1].next = self.packers[-1], p
            self.packers.append(p)
        self.case_frames = self.packers[-1].frames if self.packers else None
        steps = zip(shape.containers, self.packers, strict=True)
        self.frames = {step.camera: p.frames for step, p in steps}
        self.frames.update((c, q) for c, q in zip(cams, self.item_cams, strict=True)
                           if c != "item_reader")  # fmt: skip
        self._events: queue.Queue = queue.Queue()
        self._heap: list = []
        self._n = 0
        self._hb_seen = False  # the station's heartbeat was seen once: its watchdog is armed
        self._hb_last: int | None = None
        self._halted_for: str | None = None
        self._last_good: str | None = None
        self._kicked: set[int] = set()
        self._slot = 0
        self.done = threading.Event()
        self.error: BaseException | None = None
        self.stop_flag = threading.Event()
        self._started = False
        self.produced = self.ph.items
        self._pallet_waiting = False
        self._entry: deque[str] = deque(self.ph.entry)
        self._entry_busy: str | None = None
        self.journal.write(t="restart", items=self.produced)

    # -- station events (called from the runner thread) ------------------------------------------
    def connect(self, signals) -> None:
        """Listen to the station as the physical line would (kicker, labels, palletizer gate)."""
        signals.case_accepted.connect(lambda slot, code: self._events.put(("accepted", slot, code)))
        signals.case_rejected.connect(
            lambda slot, label, why: self._events.put(("rejected", slot, label, why))
        )
        signals.case_palletized.connect(lambda c, p: self._events.put(("palletized", c, p)))
        signals.container_closed.connect(
            lambda lv, code, n, partial: (
                self._events.put(("closed", lv, code)) if lv == "pallet" else None
            )
        )
        signals.pallet_changed.connect(lambda op, r: self._events.put(("pallet", op, dict(r))))

    # -- the world's clock -----------------------------------------------------------------------
    def run(self) -> None:
        """Produce items until the planned count, then flush the last case; sets `done`."""
        self._started = True
        try:
            self._run()
        except BaseException as exc:
            self.error = exc
            raise
        finally:
            self.done.set()

    def _run(self) -> None:
        # The simulated devices' threads must get the GIL back quickly when the world fires a
        # trigger, or a printer simulator finds its queue unread and reports a missed print.
        sys.setswitchinterval(min(sys.getswitchinterval(), 0.001))
        if self.remote:  # the conveyor starts when the station shows green and fills its printer
            from drivers.plc.base import StackLight

            while self.sims.plc.stack_light != StackLight.GREEN:
                if self.stop_flag.wait(0.01):
                    return
            time.sleep(0.3)
        start = time.monotonic()
        next_item = start
        for p in self.packers:  # containers at a gate when the world was killed, shown again
            pending = self.ph.pending.get(p.level)
            if pending is not None and pending[0]:
                p.present(pending[0], list(pending[1]), final=False, resumed=True)
        while not self.stop_flag.is_set():
            now = time.monotonic()
            self._kicked.update(self.sims.plc.rejects())
            if self._conveyor_halted(now):  # line stop, or the station's heartbeat is lost
                next_item = now + self.interval
            elif self.produced < self.total and now >= next_item:
                self._new_item(now)
                next_item += self.interval
                if next_item < now:  # the simulator itself stalled (a case frame rendered, the
                    # GIL): a conveyor never bunches items up, so the next one keeps its spacing
                    next_item = now + self.interval
            while self._heap and self._heap[0][0] <= now:
                _, _, fn, args = heapq.heappop(self._heap)
                fn(*args)
            if self.remote:
                self._hear_devices()
            self._station_events()
            for p in self.packers:
                p.step()
            self._pallet_entry()
            if self.produced >= self.total and not self._heap and self._idle():
                break
            time.sleep(0.0005)
        while self.remote and not self.stop_flag.wait(0.01):
            self._hear_devices()  # the last pallet closes (and is labelled) when the batch ends

    def _conveyor_halted(self, now: float) -> bool:
        """What the PLC program does each scan: the conveyor runs only while the station asks
        for no line stop and its heartbeat is alive (SimPLC.station_timeout_ms); a station that
        comes back (heartbeat again, or restarted from 1) gets the case at the gate shown to its
        camera again, since a frame sent to a dead station is lost."""
        plc = self.sims.plc
        alive = plc.station_alive
        hb = plc.station_heartbeat  # any protocol's simulator (Modbus, S7, MC)
        restarted = self._hb_last is not None and hb < self._hb_last and self._hb_last < 65000
        if self._hb_seen and alive and (restarted or self._halted_for == "heartbeat"):
            self._reshow_case("station back")
        self._hb_last = hb if alive else self._hb_last
        self._hb_seen = self._hb_seen or alive
        why = "line stop" if plc.line_stop else None
        if why is None and self._hb_seen and not alive:
            why = "heartbeat"
        if why != self._halted_for:
            self.journal.write(t="conveyor", on=why is None, why=why, items=self.produced)
            if why == "heartbeat":  # fail safe: the verdicts on the items in flight died with
                # the station (or never came): the PLC kicks every item it tracks to the kicker
                zone = [args[0] for _, _, fn, args in self._heap if fn == self._kicker]
                self._kicked.update(zone)
                self.journal.write(t="failsafe_kick", seqs=zone)
            self._halted_for = why
        for p in self.packers:
            if why is None and p.shot is not None and now - p.shot[2] > GATE_RETRIGGER_S:
                p.reshow("no verdict")
        return why is not None

    def _reshow_case(self, why: str) -> None:
        """Fire the cameras again on the containers waiting at their gates (same numbers); a
        station back also gets the case waiting at the palletizer's reader read again: a read
        while no station was connected went to no one, and the palletizer waited for ever."""
        for p in self.packers:
            p.reshow(why)
        if why == "station back" and self._entry_busy is not None and self.sims.reader:
            self.journal.write(t="case_reread", case=self._entry_busy)
            self.sims.reader.read([self._entry_busy])

    def _hear_devices(self) -> None:
        """Remote: what the station said through the PLC and the pallet labeler."""
        from drivers.plc.base import CASE_ACCEPTED, CASE_LABEL_REFUSED

        gate = self.sims.plc.case_result
        if gate is not None and gate != self._gate_seen:
            no, verdict = gate
            for p in self.packers:  # container numbers are unique across the packers
                if p.inspect is None or no != p.inspect[0] % 65536:
                    continue
                self._gate_seen = gate
                slot = (p.inspect[0],)
                if verdict == CASE_ACCEPTED:
                    self._events.put(("accepted", slot, p.inspect[1]))
                else:
                    label = p.inspect[1]
                    why = [("label_refused", label)] if verdict == CASE_LABEL_REFUSED else []
                    self._events.put(("rejected", slot, label, why))
        placed = self.sims.plc.cases_placed
        while placed != self._placed_seen and self._entry_busy is not None:
            self._placed_seen = (self._placed_seen + 1) % 65536
            self._events.put(("palletized", self._entry_busy, None))
            self._station_events()
        zpl = self.sims.pallet_labeler.pop_label() if self.sims.pallet_labeler else None
        if zpl is not None:
            self._pallet_labelled(zpl, None)

    def _idle(self) -> bool:
        return all(p.idle for p in self.packers) and not self._entry and self._entry_busy is None

    def _at(self, t: float, fn, *args) -> None:
        self._n += 1
        heapq.heappush(self._heap, (t, self._n, fn, args))

    # -- items -------------------------------------------------------------------------------------
    def _new_item(self, now: float) -> None:
        seq = self.sims.plc.trigger()
        printed = self.sims.inkjet.trigger() if self.sims.inkjet else None
        defect = None
        kinds = ITEM_DEFECTS if self.item_codes is None else READ_DEFECTS
        if self.rng.random() < self.defect_rate:
            defect = self.rng.choice(kinds if self.pair else kinds[:4])
        mark = printed
        if self.item_codes is not None:  # pre-printed by the supplier: the next bottle's code
            mark = self.item_codes.popleft() if self.item_codes else None
            if mark and defect in ("missing", "notinpack", "duplicate"):
                self.item_codes.appendleft(mark)  # that bottle comes later
        smudge = 0.0
        if defect == "missing":
            mark = None
        elif defect == "notinpack" and mark:
            mark = "".join(self.rng.choice("ABCDEFGHJKMNPQRSTUVWXYZ") for _ in range(len(mark)))
        elif defect == "smudge":
            smudge = 1.0
        elif defect == "wrong" and mark:
            i = self.rng.randrange(len(mark))
            alt = "Z" if mark[i] != "Z" else "Y"
            mark = mark[:i] + alt + mark[i + 1 :]
        elif defect == "duplicate" and self._last_good:
            mark = self._last_good
        cap = self.caps.popleft() if self.caps and defect != "nocap" else None
        if defect != "nocap" and cap is None:
            cap = None
        self.produced += 1
        self.journal.write(t="item", s=seq, p=printed, m=mark, d=defect, c=cap_key(cap))
        if mark and defect is None:
            self._last_good = mark
        self._at(now + self.to_camera, self._camera, seq, mark, cap, smudge)
        self._at(now + self.to_kicker, self._kicker, seq, mark, defect)

    def _camera(self, seq: int, mark: str | None, cap: str | None, smudge: float) -> None:
        texts = [t for t in (cap, mark) if t]
        ready = self.prerender.get((cap, mark)) if not smudge else None
        if ready is not None:
            frame = ready
        elif not texts:
            frame = np.full((200, 320), 235, np.uint8)
        elif len(texts) == 1:
            frame = render_code(texts[0], module_px=3, size=(200, 320), smudge=smudge, seed=seq)
        else:
            frame = render_layer(texts, rows=1, cols=2, module_px=3, smudge=smudge, seed=seq)
        for cam in self.item_cams:  # two cameras see the same item from two sides
            if hasattr(cam, "put"):
                cam.put(seq, frame)
            else:  # a reader: what it decodes, one message per item (none when smudged)
                cam.read([] if smudge else texts)

    def _kicker(self, seq: int, mark: str | None, defect: str | None) -> None:
        if seq in self._kicked:
            self._kicked.discard(seq)
            return  # into the reject bin
        if self.packers:
            self.packers[0].acc.append((mark or "", defect or ""))

    # -- cases -------------------------------------------------------------------------------------
    def _station_events(self) -> None:
        while True:
            try:
                ev = self._events.get_nowait()
            except queue.Empty:
                return
            kind = ev[0]
            if kind in ("accepted", "rejected"):
                p = next((p for p in self.packers if p.inspect and ev[1][0] == p.inspect[0]), None)
                if p is not None and kind == "accepted":
                    p.accepted()
                elif p is not None:
                    p.rejected(list(ev[3]))
            elif kind == "palletized" and ev[1] == self._entry_busy:
                self.journal.write(t="palletized", case=ev[1], pallet=ev[2])
                self._entry_busy = None
            elif kind == "closed":
                self._pallet_labelled(self._pallet_label(), ev[2])
            elif kind == "pallet":
                self._pallet_op(ev[1], ev[2])

    def _pallet_label(self) -> str | None:
        zpl = None
        for _ in range(200):
            zpl = self.sims.pallet_labeler.pop_label()
            if zpl is not None:
                break
            time.sleep(0.005)
        return zpl

    def _pallet_op(self, op: str, r: dict) -> None:
        """What the line lead does by hand for a pallet operation of the station (issue 16)."""
        if op == "hold":
            self.journal.write(t="pallet_held", pallet=r["pallet"])
        elif op == "resume" and r.get("changed"):
            if r.get("held"):  # the pallet on the palletizer is swapped for the resumed one
                self.journal.write(t="pallet_held", pallet=r["held"])
            self.journal.write(t="pallet_resumed", pallet=r["pallet"])
        elif op == "clear":
            self.journal.write(t="pallet_cleared", pallet=r["pallet"], cases=r["cases"])
            self._entry.extend(r["cases"])  # stacked again: back through the reader
        elif op == "merge":
            self.journal.write(t="pallet_merged", into=r["into"], was=r["was"], cases=r["moved"])
        if not r.get("printed"):
            return
        if op == "close" and r["was"] == "held":  # closed where it stands, aside
            self._pallet_labelled(self._pallet_label(), r["pallet"], held=r["pallet"])
        elif op == "merge":
            was = r["was"][r["into"]]
            if r["status"] == "normal" and was in ("open", "held"):  # full now: closed
                held = r["into"] if was == "held" else None
                self._pallet_labelled(self._pallet_label(), r["into"], held=held)
            else:  # a closed pallet with more cases: its label is printed again
                self.journal.write(
                    t="pallet_relabelled", pallet=r["into"], ok=self._pallet_label() is not None
                )

    def _pallet_labelled(self, zpl: str | None, sscc: str | None, held: str | None = None) -> None:
        """The labeler applied a pallet label: the cases stacked so far (or those of the held
        pallet `held`) form that pallet."""
        if zpl is not None:
            found = self.decoder.decode(self.sims.pallet_labeler.render(zpl), 2)
            texts = [f.text for f in sorted(found, key=lambda f: f.symbology == "QRCode")]
            for text in texts:  # the GS1-128 (AI 00) first, else the QR's "00" + SSCC
                digits = text.replace("(00)", "")
                if len(digits) == 20 and digits.startswith("00"):
                    digits = digits[2:]
                if len(digits) == 18 and digits.isdigit():
                    sscc = digits
                    break
            else:  # a plant's own pallet number (`[line] pallet_number`): the QR says it
                sscc = texts[0] if texts else sscc
        if held:
            self.journal.write(t="pallet_closed", label=sscc, held=held)
        else:
            self.journal.write(t="pallet_closed", label=sscc)

    def _pallet_entry(self) -> None:
        if self._entry_busy is not None or not self._entry:
            return
        self._entry_busy = self._entry.popleft()
        self.sims.reader.read([self._entry_busy])

    def close(self) -> None:
        """Stop, let the running loop finish its step, then close the journal (a write on the
        closed file killed the world's thread when a run was stopped mid-item)."""
        self.stop_flag.set()
        if self._started:
            self.done.wait(5)
        self.journal.close()


def seed_everything(seed: int) -> None:
    """Determinism for the renderers."""
    random.seed(seed)
    np.random.seed(seed % (2**32))
    os.environ.setdefault("PYTHONHASHSEED", str(seed))
