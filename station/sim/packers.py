"""The simulated world's packers: boxes and cases formed, shown to their camera, passed or reworked.

One ContainerPacker per camera-checked level of the line's shape (a box packer, a case packer):
it takes the children that reached it (items the kicker let pass, or boxes the box gate passed),
puts `capacity` of them in a container under its code (a label the station's ZPL printer made, or
a code the packaging supplier printed, from the pack the world was given), shows the container to
the level's camera, and waits at the gate for the station's verdict. A passed container goes on to
the next packer (or the palletizer); a refused one is reworked as an operator would: the children
the station named and unreadable ones are taken out, the rest go back to the head of the packer,
and the container's code is kept unless the station refused the code itself.

Defects it injects (journalled as `<level>_<kind>`): a foreign child, a short container, and for
pre-printed codes a code in no pack and a code printed twice.
"""

from __future__ import annotations

import random
import time
from collections import deque
from typing import Any

from station.line.cases import COUNT_REASONS
from station.line.weigh import case_weight_g

LAYER_PX = 3


class ContainerPacker:
    """Forms containers of one level and presents them to the station's camera."""

    def __init__(
        self,
        world: Any,
        *,
        level: str,
        capacity: int,
        frames: Any,
        labeler: Any,
        codes: deque[str] | None,
        rng: random.Random,
        last: bool,
    ) -> None:
        self.w = world
        self.level = level
        self.capacity = capacity
        self.frames = frames
        self.labeler = labeler  # the simulated ZPL printer of the station's labels (or None)
        self.codes = codes  # the pre-printed container codes, when the supplier printed them
        self.rng = rng
        self.last = last  # its containers go to the palletizer
        self.upstream: ContainerPacker | None = None
        self.next: ContainerPacker | None = None
        self.acc: deque[tuple[str, str]] = deque()  # (child code, defect) waiting
        self.inspect: tuple | None = None  # (slot, code, children, final) at the gate
        self.shot: tuple | None = None  # (tag, frame, when) of the container at the gate
        self.returned_codes: deque[str] = deque()  # codes of refused containers, used again
        self.returned: set[str] = set()
        self.defect: str | None = None
        self.last_good: str | None = None
        kinds = ["foreign", "short"]
        if codes is not None:
            kinds += ["notinpack", "dupcode"]
        self.kinds = tuple(kinds)

    # -- state -------------------------------------------------------------------------------------
    @property
    def idle(self) -> bool:
        """Nothing waiting and nothing at the gate."""
        return self.inspect is None and not self.acc

    def done_upstream(self) -> bool:
        """Nothing more will reach this packer."""
        if self.upstream is None:
            return self.w.produced >= self.w.total and not self.w._heap
        return self.upstream.done_upstream() and self.upstream.idle

    # -- forming -----------------------------------------------------------------------------------
    def _take_label(self) -> str | None:
        if self.codes is not None:
            return self.codes.popleft() if self.codes else None
        zpl = self.labeler.pop_label() if self.labeler is not None else None
        if zpl is None:
            return None
        found = self.w.decoder.decode(self.labeler.render(zpl), 1)
        return found[0].text if found else None

    def step(self) -> None:
        """Form the next container when enough children are waiting (or the batch ends)."""
        if self.inspect is not None:
            return
        final = self.done_upstream()
        if len(self.acc) < self.capacity and not (final and self.acc):
            return
        code = self.returned_codes.popleft() if self.returned_codes else self._take_label()
        if code is None:
            return  # the erector waits for a label
        n = min(self.capacity, len(self.acc))
        take = [self.acc.popleft() for _ in range(n)]
        children = [m for m, _ in take]
        rng = self.rng
        if rng.random() < self.w.defect_rate * 3 and n == self.capacity and not final:
            kind = rng.choice(self.kinds)
            self.defect = kind
            if kind == "foreign":
                children[rng.randrange(n)] = "FOREIGN-" + "".join(
                    rng.choice("ABCDEFGHJK23456789") for _ in range(12)
                )
            elif kind == "short":
                self.acc.appendleft(take.pop())
                children.pop()
            elif kind == "notinpack":
                self.returned_codes.appendleft(code)  # the good carton waits for the next one
                code = "".join(rng.choice("ABCDEFGHJKMNPQRSTUVWXYZ") for _ in range(len(code)))
            elif kind == "dupcode" and self.last_good:
                self.returned_codes.appendleft(code)
                code = self.last_good
            else:
                self.defect = None
        self.present(code, children, final and not self.acc)

    def present(self, code: str, children: list[str], final: bool, resumed: bool = False) -> None:
        """Show the container at the gate to the level's camera."""
        from drivers.camera.sim import render_layer

        w = self.w
        w._slot += 1
        if not resumed:
            w.journal.write(
                t="case_formed", lv=self.level, label=code, items=children, d=self.defect,
                last=self.last,
            )  # fmt: skip
            self.defect = None
        self.inspect = (w._slot, code, children, final)
        cols = 5
        slots: list[str | None] = [m or None for m in children] + [code]
        rows = (len(slots) + cols - 1) // cols
        slots += [None] * (rows * cols - len(slots))
        frame = render_layer(slots, rows=rows, cols=cols, module_px=LAYER_PX, seed=w._slot)
        if w.sims.checkweigher is not None and self.level == "case":  # stops on the scale
            w.sims.checkweigher.place(case_weight_g(w.s, "case", len(children)) or 0.0)
        # The last container: the packer's infeed count (a blank item counts) is what it holds.
        tag = (w._slot, final, len(children) if final else None)
        self.shot = (tag, frame, time.monotonic())
        self.frames.put(tag, frame)

    def reshow(self, why: str) -> None:
        """Fire the camera again on the container waiting at the gate (same number)."""
        if self.inspect is None or self.shot is None:
            return
        tag, frame, _ = self.shot
        self.shot = (tag, frame, time.monotonic())
        self.w.journal.write(t="case_reshown", lv=self.level, label=self.inspect[1], why=why)
        self.frames.put(tag, frame)

    # -- the station's verdict ---------------------------------------------------------------------
    def accepted(self) -> None:
        """The gate passed it: on to the next packer, or to the palletizer."""
        _, code, children, _ = self.inspect
        self.w.journal.write(t="case_closed", lv=self.level, label=code, items=children,
                             last=self.last)  # fmt: skip
        self.last_good = code
        if self.next is not None:
            self.next.acc.append((code, ""))
        else:
            self.w._entry.append(code)
        self.inspect = self.shot = None

    def rejected(self, why: list) -> None:
        """The gate sent it to rework: take out what the station named, the rest goes back."""
        _, code, children, _ = self.inspect
        bad = {c for reason, c in why if reason not in COUNT_REASONS}
        self.w.journal.write(t="case_rejected", lv=self.level, label=code, bad=sorted(bad))
        keep = [m for m in children if m and m not in bad and not m.startswith("FOREIGN-")]
        # No list on a PLC gate: the same container refused twice goes to QA (a refused code
        # only says the code was bad: the container gets a new code and is shown again).
        if self.w.remote and code not in bad:
            again = set(keep) == self.returned
            self.returned = set(keep)
            if again:
                keep = []
        for m in reversed(keep):  # good children go back to the head of the packer
            self.acc.appendleft((m, ""))
        if code not in bad and code != self.last_good:
            self.returned_codes.appendleft(code)
        self.inspect = self.shot = None
