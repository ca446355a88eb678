"""Render the ZPL subset we emit (and designer templates commonly use) to a grayscale image.

The simulator and the simulated line use this; it models the printer, not our templates:
a QR's magnification carries into the module width of the next 1D barcode, as on real printers.
Supported: ^XA ^XZ ^PW ^LL ^LH ^CI ^CF ^BY ^FO ^FT ^A ^FH ^FD ^FS ^GB ^BQ ^BX ^BC (modes N, D).
Anything else is ignored.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import cv2
import numpy as np
import zxingcpp
from biip import BiipException
from biip.gs1_messages import GS1Message

WHITE = 255
_FNC1 = "\x1d"
_HEX = re.compile(rb"([^0-9A-Fa-f])")


@dataclass
class _Field:
    x: int = 0
    y: int = 0
    baseline: bool = False
    font_h: int = 0
    font_w: int = 0
    barcode: tuple[str, ...] = ()
    hex_indicator: str | None = None
    data: str | None = None


@dataclass
class _State:
    width: int = 812
    height: int = 1218
    home: tuple[int, int] = (0, 0)
    module_w: int = 2
    ratio: float = 3.0
    bar_h: int = 10
    font_h: int = 9
    font_w: int = 5
    ops: list[_Field] = field(default_factory=list)


def _ints(params: str, count: int, defaults: tuple[int, ...]) -> list[int]:
    parts = params.split(",")
    out: list[int] = []
    for i in range(count):
        text = parts[i].strip() if i < len(parts) else ""
        try:
            out.append(int(float(text)))
        except ValueError:
            out.append(defaults[i])
    return out


def _unhex(data: str, indicator: str) -> str:
    """Apply ^FH: indicator + two hex digits becomes that byte; the bytes are UTF-8 (^CI28)."""
    raw = data.encode("utf-8")
    mark = indicator.encode("latin-1")
    out = bytearray()
    i = 0
    while i < len(raw):
        if raw[i : i + 1] == mark and i + 2 < len(raw) + 0 and _is_hex(raw[i + 1 : i + 3]):
            out.append(int(raw[i + 1 : i + 3], 16))
            i += 3
        else:
            out.append(raw[i])
            i += 1
    return out.decode("utf-8", errors="replace")


def _is_hex(two: bytes) -> bool:
    return len(two) == 2 and all(c in b"0123456789abcdefABCDEF" for c in two)


def _dm_unescape(data: str, esc: str) -> str:
    """Data Matrix ECC 200 escapes: esc esc → esc, esc 1 → FNC1, esc dNNN → chr(NNN)."""
    out: list[str] = []
    i = 0
    while i < len(data):
        ch = data[i]
        if ch == esc and i + 1 < len(data):
            nxt = data[i + 1]
            if nxt == esc:
                out.append(esc)
                i += 2
                continue
            if nxt == "1":
                out.append(_FNC1)
                i += 2
                continue
            if nxt == "d" and data[i + 2 : i + 5].isdigit():
                out.append(chr(int(data[i + 2 : i + 5])))
                i += 5
                continue
        out.append(ch)
        i += 1
    return "".join(out)


def _c128_unescape(data: str) -> str:
    """Code 128 mode N invocation codes: >8 is FNC1, >; >: >9 >5 >6 >7 pick subsets, >< is '>'."""
    out: list[str] = []
    i = 0
    while i < len(data):
        if data[i] == ">" and i + 1 < len(data):
            code = data[i + 1]
            if code == "8":
                out.append(_FNC1)
            elif code == "<" or code == "0":
                out.append(">")
            i += 2
            continue
        out.append(data[i])
        i += 1
    return "".join(out)


def _gs1_hri(fnc1_data: str) -> str:
    """An element string with FNC1/GS separators (leading FNC1 removed) → '(AI)value…'."""
    return GS1Message.parse(fnc1_data).as_hri()


def _symbol(kind: str, text: str, gs1: bool, ec: str = "M") -> np.ndarray:
    fmt = {
        "Q": zxingcpp.BarcodeFormat.QRCode,
        "X": zxingcpp.BarcodeFormat.DataMatrix,
        "C": zxingcpp.BarcodeFormat.Code128,
    }[kind]
    options: dict[str, object] = {"gs1": True} if gs1 else {}
    if kind == "Q":
        options["ec_level"] = ec
    if kind == "X":
        # ^BX without rows/columns gives a square symbol on a Zebra; zxing-cpp would pick a
        # rectangular one for some data (8x64 modules), which then runs into the label's text.
        options["force_square"] = True
    # A printer puts the field's UTF-8 bytes in byte mode with no ECI; scanners guess the charset.
    content: str | bytes = text if text.isascii() else text.encode("utf-8")
    barcode = zxingcpp.create_barcode(content, fmt, **options)
    return np.asarray(barcode.to_image(scale=1, add_quiet_zones=False))


def _barcode_image(f: _Field, data: str) -> np.ndarray | None:
    kind = f.barcode[0]
    if kind == "Q":
        mag = int(f.barcode[1])
        if len(data) < 3 or data[2] != ",":
            return None
        ec = data[0] if data[0] in "HQML" else "M"
        text = data[3:]
        matrix = _symbol("Q", text, False, ec)
        return np.repeat(np.repeat(matrix, mag, axis=0), mag, axis=1)
    if kind == "X":
        module, esc = int(f.barcode[1]), f.barcode[2]
        text = _dm_unescape(data, esc)
        gs1 = text.startswith(_FNC1)
        matrix = _symbol("X", _gs1_hri(text[1:]) if gs1 else text, gs1)
        return np.repeat(np.repeat(matrix, module, axis=0), module, axis=1)
    # Code 128
    module, height, mode = int(f.barcode[1]), int(f.barcode[2]), f.barcode[4]
    if mode == "D":
        text, gs1 = data.replace(" ", ""), True
    else:
        text = _c128_unescape(data)
        gs1 = text.startswith(_FNC1)
        if gs1:
            text = _gs1_hri(text[1:])
    row = _symbol("C", text, gs1)[:1]
    return np.repeat(np.repeat(row, module, axis=1), height, axis=0)


def _paste(canvas: np.ndarray, image: np.ndarray, x: int, y: int) -> None:
    h, w = canvas.shape
    x0, y0 = max(0, x), max(0, y)
    x1, y1 = min(w, x + image.shape[1]), min(h, y + image.shape[0])
    if x1 > x0 and y1 > y0:
        canvas[y0:y1, x0:x1] = np.minimum(
            canvas[y0:y1, x0:x1], image[y0 - y : y1 - y, x0 - x : x1 - x]
        )


def _draw_text(canvas: np.ndarray, text: str, x: int, y: int, height: int, baseline: bool) -> None:
    ascii_text = "".join(ch if " " <= ch <= "~" else "?" for ch in text)
    scale = max(0.3, height / 30.0)
    thickness = max(1, round(height / 14))
    base_y = y if baseline else y + height
    cv2.putText(
        canvas, ascii_text, (x, base_y), cv2.FONT_HERSHEY_SIMPLEX, scale, 0, thickness, cv2.LINE_8
    )


def _draw(canvas: np.ndarray, f: _Field) -> None:
    data = f.data or ""
    if f.hex_indicator is not None:
        data = _unhex(data, f.hex_indicator)
    if f.barcode and f.barcode[0] == "G":
        w, h, t = (int(v) for v in f.barcode[1:4])
        cv2.rectangle(canvas, (f.x, f.y), (f.x + max(w, t) - 1, f.y + max(h, t) - 1), 0, t)
        return
    if f.barcode:
        try:
            image = _barcode_image(f, data)
        except (ValueError, RuntimeError, IndexError, BiipException):
            # Nothing for data the symbology cannot hold (or GS1 data with no valid AI, which a
            # real printer would encode anyway): the camera then sees no code and rejects.
            image = None
        if image is None:
            return
        y = f.y - image.shape[0] if f.baseline else f.y
        _paste(canvas, image, f.x, y)
        if f.barcode[0] == "C" and f.barcode[3] == "Y":
            _draw_text(canvas, data, f.x, y + image.shape[0] + 4, 24, False)
        return
    _draw_text(canvas, data, f.x, f.y, f.font_h, f.baseline)


def _parse(zpl: str) -> _State:
    st = _State()
    cur = _Field()
    started = False
    for token in re.split(r"(?=[\^~])", zpl):
        if len(token) < 2 or token[0] not in "^~":
            continue
        if token[1] == "A":
            cmd, params = "A", token[2:]
        else:
            cmd, params = token[1:3].upper(), token[3:]
        if cmd == "XA":
            started = True
        elif not started:
            continue
        elif cmd == "XZ":
            break
        elif cmd == "PW":
            st.width = _ints(params, 1, (st.width,))[0]
        elif cmd == "LL":
            st.height = _ints(params, 1, (st.height,))[0]
        elif cmd == "LH":
            st.home = tuple(_ints(params, 2, (0, 0)))  # type: ignore[assignment]
        elif cmd == "BY":
            w, h = _ints(params, 3, (st.module_w, 3, st.bar_h))[0::2]
            st.module_w, st.bar_h = w, h
        elif cmd == "CF":
            h, w = _ints(params[2:] if len(params) > 1 else "", 2, (st.font_h, 0))
            st.font_h, st.font_w = h, w or h
        elif cmd in ("FO", "FT"):
            x, y = _ints(params, 2, (0, 0))
            cur.x, cur.y, cur.baseline = x + st.home[0], y + st.home[1], cmd == "FT"
        elif cmd == "A":
            rest = params[1:].lstrip("NRIB") if params else ""
            h, w = _ints(rest.lstrip(","), 2, (st.font_h, 0))
            cur.font_h, cur.font_w = h, w or h
        elif cmd == "FH":
            cur.hex_indicator = params[:1] or "_"
        elif cmd == "BQ":
            mag = _ints(params, 3, (0, 2, 2))[2]
            # Real printers keep the QR magnification as the module width for what follows.
            st.module_w = mag
            cur.barcode = ("Q", str(mag))
        elif cmd == "BX":
            parts = params.split(",")
            module = _ints(params, 2, (0, st.module_w))[1]
            esc = parts[6][:1] if len(parts) > 6 and parts[6] else "_"
            cur.barcode = ("X", str(module), esc)
        elif cmd == "BC":
            parts = (params.split(",") + [""] * 6)[:6]
            height = _ints(params, 2, (0, st.bar_h))[1]
            interp = parts[2].strip() or "Y"
            mode = parts[5].strip() or "N"
            cur.barcode = ("C", str(st.module_w), str(height), interp, mode)
        elif cmd == "GB":
            w, h, t = _ints(params, 3, (1, 1, 1))
            cur.barcode = ("G", str(w), str(h), str(t))
        elif cmd == "FD":
            cur.data = params
        elif cmd == "FS":
            if not cur.font_h:
                cur.font_h, cur.font_w = st.font_h, st.font_w
            if cur.data is not None or (cur.barcode and cur.barcode[0] == "G"):
                st.ops.append(cur)
            cur = _Field()
    return st


def render(zpl: str) -> np.ndarray:
    """Render the first ^XA…^XZ label in `zpl` to a uint8 grayscale image (white 255, black 0)."""
    st = _parse(zpl)
    canvas = np.full((st.height, st.width), WHITE, dtype=np.uint8)
    for op in st.ops:
        _draw(canvas, op)
    return canvas
