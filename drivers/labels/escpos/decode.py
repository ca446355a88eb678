"""Decode an ESC/POS byte stream into tickets: text lines, QR payloads, cuts, and what was wrong.

Used by the ticket simulator to check what python-escpos sent. Knows the commands receipt
printers document (init, text styles, alignment, code page, feed, cut, QR via GS ( k, raster
images, 1D barcodes) and flags anything else instead of guessing its length.
"""

from __future__ import annotations

from dataclasses import dataclass, field

ESC, GS, FS, DLE, LF, CR, HT = 0x1B, 0x1D, 0x1C, 0x10, 0x0A, 0x0D, 0x09
# Commands of fixed size: (prefix, command byte) -> total length in bytes.
_FIXED = {
    (ESC, ord("@")): 2,
    (ESC, ord("2")): 2,
    **{(ESC, ord(c)): 3 for c in "!EGM-a{dJtRV3U "},
    (ESC, ord("c")): 4,
    **{(GS, ord(c)): 3 for c in "!bBHfhwaLWr"},
    (ESC, ord("p")): 5,
    (DLE, 0x04): 3,
    (FS, ord("&")): 2,
    (FS, ord(".")): 2,
}
_FIXED[(GS, ord("L"))] = 4
_FIXED[(GS, ord("W"))] = 4
_CODEPAGES = {0: "cp437", 2: "cp850", 3: "cp860", 4: "cp863", 5: "cp865", 16: "cp1252", 19: "cp858"}


class EscposIncomplete(Exception):
    """The buffer ends inside a command; wait for more bytes."""


@dataclass
class Ticket:
    """One ticket: from ESC @ (or the first byte) to a cut."""

    lines: list[str] = field(default_factory=list)
    qr_codes: list[str] = field(default_factory=list)
    commands: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    initialized: bool = False
    cut: bool = False


class EscposDecoder:
    """Incremental decoder; feed() returns the tickets completed by a cut so far."""

    def __init__(self) -> None:
        self._buf = b""
        self._ticket = Ticket()
        self._line = bytearray()
        self._codepage = "cp437"
        self._qr_stored: bytes | None = None

    def feed(self, data: bytes) -> list[Ticket]:
        """Consume bytes; a command split across chunks waits for the rest."""
        self._buf += data
        done: list[Ticket] = []
        pos = 0
        while pos < len(self._buf):
            try:
                pos, finished = self._step(pos)
            except EscposIncomplete:
                break
            if finished:
                done.append(self._ticket)
                self._ticket = Ticket()
        self._buf = self._buf[pos:]
        return done

    def pending(self) -> Ticket:
        """The ticket in progress (not yet cut), with any unterminated line appended."""
        current = self._ticket
        ticket = Ticket(
            list(current.lines),
            list(current.qr_codes),
            list(current.commands),
            list(current.errors),
            current.initialized,
            current.cut,
        )
        if self._line:
            ticket.lines.append(self._line.decode(self._codepage, errors="replace"))
        return ticket

    def _need(self, end: int) -> None:
        if end > len(self._buf):
            raise EscposIncomplete

    def _end_line(self) -> None:
        self._ticket.lines.append(self._line.decode(self._codepage, errors="replace"))
        self._line.clear()

    def _step(self, pos: int) -> tuple[int, bool]:
        buf = self._buf
        byte = buf[pos]
        if byte == LF:
            self._end_line()
            return pos + 1, False
        if byte == CR:
            return pos + 1, False
        if byte == HT:
            self._line.append(0x20)
            return pos + 1, False
        if byte not in (ESC, GS, FS, DLE):
            if byte < 0x20:
                self._ticket.errors.append(f"stray control byte {byte:#04x}")
            else:
                self._line.append(byte)
            return pos + 1, False
        self._need(pos + 2)
        key = (byte, buf[pos + 1])
        name = {ESC: "ESC", GS: "GS", FS: "FS", DLE: "DLE"}[byte] + f" {chr(buf[pos + 1])}"
        if key == (GS, ord("V")):
            return self._cut(pos)
        if key == (GS, ord("(")):
            return self._gs_paren(pos), False
        if key == (GS, ord("v")):
            self._need(pos + 8)
            width = buf[pos + 4] | buf[pos + 5] << 8
            height = buf[pos + 6] | buf[pos + 7] << 8
            end = pos + 8 + width * height
            self._need(end)
            self._ticket.commands.append("GS v 0 (raster image)")
            return end, False
        if key == (GS, ord("k")):
            return self._barcode(pos), False
        if key in _FIXED:
            end = pos + _FIXED[key]
            self._need(end)
            self._apply(key, buf[pos + 2 : end])
            self._ticket.commands.append(name)
            return end, False
        self._ticket.errors.append(f"unknown command {name!r} ({byte:#04x} {buf[pos + 1]:#04x})")
        return pos + 2, False

    def _apply(self, key: tuple[int, int], args: bytes) -> None:
        if key == (ESC, ord("@")):
            if self._line:
                self._end_line()
            self._ticket.initialized = True
            self._codepage = "cp437"
        elif key == (ESC, ord("t")):
            self._codepage = _CODEPAGES.get(args[0], "cp437")
        elif key == (ESC, ord("d")) and self._line:
            self._end_line()

    def _cut(self, pos: int) -> tuple[int, bool]:
        self._need(pos + 3)
        mode = self._buf[pos + 2]
        end = pos + (4 if mode in (65, 66) else 3)
        self._need(end)
        if self._line:
            self._end_line()
        self._ticket.commands.append("GS V (cut)")
        self._ticket.cut = True
        if not self._ticket.initialized:
            self._ticket.errors.append("ticket not started with ESC @")
        self._qr_stored = None
        return end, True

    def _gs_paren(self, pos: int) -> int:
        buf = self._buf
        self._need(pos + 5)
        size = buf[pos + 3] | buf[pos + 4] << 8
        end = pos + 5 + size
        self._need(end)
        body = buf[pos + 5 : end]
        if chr(buf[pos + 2]) != "k":
            self._ticket.commands.append(f"GS ( {chr(buf[pos + 2])}")
            return end
        if len(body) < 2 or body[0] != ord("1"):
            self._ticket.errors.append(f"GS ( k for symbol {body[:1]!r}, not QR")
            return end
        fn = body[1]
        self._ticket.commands.append(f"GS ( k QR fn {fn}")
        if fn == 80:
            if body[2:3] != b"0":
                self._ticket.errors.append("QR store without m=48")
            self._qr_stored = body[3:]
        elif fn == 81:
            if self._qr_stored is None:
                self._ticket.errors.append("QR print before any QR data was stored")
            else:
                self._ticket.qr_codes.append(self._qr_stored.decode("utf-8", errors="replace"))
        elif fn == 67 and not (len(body) == 3 and 1 <= body[2] <= 16):
            self._ticket.errors.append(f"QR module size out of 1..16: {body[2:]!r}")
        return end

    def _barcode(self, pos: int) -> int:
        buf = self._buf
        self._need(pos + 3)
        kind = buf[pos + 2]
        if kind <= 6:
            stop = buf.find(b"\x00", pos + 3)
            if stop < 0:
                raise EscposIncomplete
            end = stop + 1
        else:
            self._need(pos + 4)
            end = pos + 4 + buf[pos + 3]
            self._need(end)
        self._ticket.commands.append(f"GS k barcode {kind}")
        return end
