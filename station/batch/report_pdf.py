"""PDF of the batch report, drawn with Pillow (installed) as A4 pages at 150 dpi.

No PDF library is installed and Qt stays in ui/, so the pages are images in a PDF: fine to print
and archive, but the text is not selectable; the HTML report is the searchable form. Chinese
needs a CJK font (Debian fonts-noto-cjk); without one Chinese text draws as boxes.
"""

from __future__ import annotations

import io
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

from station.errors import InputError

DPI = 150
PAGE = (1240, 1754)  # A4 at 150 dpi
MARGIN = 90
FONTS = (
    ("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc", 2),  # index 2: Simplified Chinese
    ("/usr/share/fonts/truetype/noto/NotoSansCJK-Regular.ttc", 2),
    ("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf", 0),
)


def _font(size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    for path, index in FONTS:
        if Path(path).exists():
            return ImageFont.truetype(path, size, index=index)
    return ImageFont.load_default(size)


class _Pages:
    """Lines and bars placed top to bottom, starting a new page when one is full."""

    def __init__(self) -> None:
        self.pages: list[Image.Image] = []
        self.fonts = {s: _font(s) for s in (18, 22, 34)}
        self._new()

    def _new(self) -> None:
        self.img = Image.new("RGB", PAGE, "white")
        self.draw = ImageDraw.Draw(self.img)
        self.pages.append(self.img)
        self.y = MARGIN

    def room(self, height: int) -> None:
        if self.y + height > PAGE[1] - MARGIN:
            self._new()

    def text(self, text: str, size: int = 18, gap: int = 8) -> None:
        font = self.fonts[size]
        width = PAGE[0] - 2 * MARGIN
        for line in _wrap(self.draw, text, font, width):
            self.room(size + gap)
            self.draw.text((MARGIN, self.y), line, fill="black", font=font)
            self.y += size + gap

    def row(self, cells: list, widths: list[int], bold: bool = False) -> None:
        self.room(28)
        x = MARGIN
        font = self.fonts[18]
        for cell, w in zip(cells, widths, strict=False):
            text = _fit(self.draw, "" if cell is None else str(cell), font, w - 10)
            self.draw.text((x, self.y), text, fill="black", font=font)
            x += w
        if bold:
            self.draw.line((MARGIN, self.y + 25, x, self.y + 25), fill="#888", width=1)
        self.y += 28

    def table(self, head: list[str], rows: list[list], widths: list[int]) -> None:
        if not rows:
            self.text("None.")
            return
        self.row(head, widths, bold=True)
        for r in rows:
            self.row(r, widths)
        self.y += 12

    def bars(self, rows: list[dict]) -> None:
        if not rows:
            self.text("No rejects.")
            return
        top = max(r["count"] for r in rows)
        label_w, plot_w = 330, PAGE[0] - 2 * MARGIN - 330 - 140
        for r in rows:
            self.room(30)
            font = self.fonts[18]
            self.draw.text(
                (MARGIN, self.y),
                _fit(self.draw, r["text"], font, label_w - 10),
                fill="black",
                font=font,
            )
            w = max(2, round(plot_w * r["count"] / top))
            x0 = MARGIN + label_w
            self.draw.rectangle((x0, self.y + 2, x0 + w, self.y + 22), fill="#c0392b")
            self.draw.text(
                (x0 + w + 8, self.y),
                f"{r['count']} ({r['cumulative_pct']}%)",
                fill="black",
                font=font,
            )
            self.y += 30
        self.y += 12


def _wrap(draw: ImageDraw.ImageDraw, text: str, font, width: int) -> list[str]:
    lines, cur = [], ""
    for ch in text:
        if draw.textlength(cur + ch, font=font) > width and cur:
            lines.append(cur)
            cur = ch
        else:
            cur += ch
    return [*lines, cur] if cur or not lines else lines


def _fit(draw: ImageDraw.ImageDraw, text: str, font, width: int) -> str:
    if draw.textlength(text, font=font) <= width:
        return text
    while text and draw.textlength(text + "…", font=font) > width:
        text = text[:-1]
    return text + "…"


def render(data: dict) -> bytes:
    """The report (from report.gather) as PDF bytes."""
    if not data.get("batch"):
        raise InputError("nothing to render: the report has no batch")
    b = data["batch"]
    p = _Pages()
    p.text(f"Batch report {b['id']}", size=34, gap=16)
    p.text(
        f"{b['product_sku']} — {b['product_name']}; lot {b['lot']}; line {b['line']}; "
        f"state {b['state']}; produced {b['produced']}, expires {b['expires']}; "
        f"closed {b['closed_at']}"
    )
    p.y += 10
    p.text("Planned vs actual", size=22, gap=12)
    summary = [
        ["planned", data["planned"]],
        [f"actual (good {data['item_level']} items)", data["actual"]],
        ["printed", data["printed"]],
        ["verified", data["verified"]],
        ["rejects recorded", data["rejects_total"]],
        ["rejects waiting for QA", data["rejects_waiting"]],
        ["decommissioned", data["decommissioned"]],
        ["of which destroyed", data["destroyed"]],
        ["voids", sum(data["voids"].values())],
    ]
    p.table(["", "count"], summary, [500, 200])
    p.text("Rejects by reason (Pareto)", size=22, gap=12)
    p.bars(data["rejects_by_reason"])
    p.text("Containers", size=22, gap=12)
    cont = [[lv, st, n] for lv, by in data["containers"].items() for st, n in sorted(by.items())]
    p.table(["level", "status", "count"], cont, [250, 250, 150])
    p.text("Rework", size=22, gap=12)
    p.table(["action", "count"], [[k, v] for k, v in data["reworked"].items()], [400, 150])
    p.table(
        ["time (UTC)", "user", "action", "code", "reason"],
        [[d["time"], d["user"], d["action"], d["code"], d["reason"]] for d in data["decisions"]],
        [230, 120, 180, 230, 300],
    )
    p.text("Signatures", size=22, gap=12)
    p.table(
        ["time (UTC)", "signed by", "what", "code", "reason"],
        [[s["time"], s["user"], s["what"], s["code"], s["reason"]] for s in data["signatures"]],
        [230, 120, 160, 230, 320],
    )
    p.text(f"generated {data['generated_at']} UTC", gap=4)
    buf = io.BytesIO()
    first, *rest = p.pages
    first.save(
        buf,
        "PDF",
        resolution=DPI,
        save_all=True,
        append_images=rest,
        title=f"Batch report {b['id']}",
    )
    return buf.getvalue()
