"""The dispatch note (发货单): a PDF beside the sealed set, and a ticket when a printer is set."""

from __future__ import annotations

import io
import logging
from pathlib import Path

from PIL import Image, ImageDraw

from station.batch.report_pdf import MARGIN, PAGE, _font, _wrap
from station.ship.settings import ship_settings
from sync.model import iso_time

log = logging.getLogger(__name__)


def _lines(info, items) -> list[tuple[str, int]]:
    head = [
        ("发货单 Dispatch note", 34),
        (f"出库单号 Order: {info.order}", 22),
        (f"时间 Time: {iso_time(info.closed_at)}  操作员 By: {info.closed_by}", 18),
        (f"发货 From: {info.shipper} ({info.shipper_gln or info.station_id})", 18),
        (f"收货 To: {info.distributor} ({info.distributor_gln or '-'})", 18),
        (f"件数 Entries: {len(items)}  码数 Codes: {sum(e.codes for e in items)}", 18),
        ("", 18),
    ]
    body = [(f"{e.level:<7} {e.code}  {e.lot or ''}  ×{e.codes}", 18) for e in items]
    return head + body


def render_pdf(info, items) -> bytes:
    """The note as A4 pages (Pillow, like the batch report)."""
    fonts = {s: _font(s) for s in (18, 22, 34)}
    pages: list[Image.Image] = []
    img = draw = None
    y = PAGE[1]
    for text, size in _lines(info, items):
        for line in _wrap(ImageDraw.Draw(Image.new("RGB", (1, 1))), text, fonts[size],
                          PAGE[0] - 2 * MARGIN) or [""]:  # fmt: skip
            if y + size + 10 > PAGE[1] - MARGIN or draw is None:
                img = Image.new("RGB", PAGE, "white")
                draw = ImageDraw.Draw(img)
                pages.append(img)
                y = MARGIN
            draw.text((MARGIN, y), line, fill="black", font=fonts[size])
            y += size + 10
    out = io.BytesIO()
    pages[0].save(out, "PDF", resolution=150, save_all=True, append_images=pages[1:])
    return out.getvalue()


def print_ticket(settings, info, items) -> str:
    """Print the note on the configured ticket printer; what happened, in words."""
    cfg = getattr(settings.devices, "ticket", None)
    if cfg is None:
        return "skipped: no ticket printer configured ([devices.ticket])"
    if not ship_settings(settings).print_note:
        return "skipped: ship.print_note is false"
    from drivers.errors import DriverError
    from drivers.labels.escpos.printer import TicketPrinter

    rows = [
        ("Order", info.order),
        ("To", info.distributor),
        ("GLN", info.distributor_gln or "-"),
        ("Time", f"{info.closed_at:%Y-%m-%d %H:%M}"),
        ("By", info.closed_by),
        ("Entries", str(len(items))),
        ("Codes", str(sum(e.codes for e in items))),
    ]
    rows += [(e.level, e.code) for e in items[:50]]
    if len(items) > 50:
        rows.append(("…", f"{len(items) - 50} more"))  # fmt: skip
    try:
        with TicketPrinter(cfg.url) as printer:
            printer.print_batch_ticket("DISPATCH NOTE", rows, qr=info.unit_id)
    except (DriverError, OSError) as exc:
        log.warning("dispatch note of %s not printed: %s", info.order, exc)
        return f"not printed: {exc}; the PDF holds the note"
    return f"printed on {cfg.url}"


def dispatch_note(settings, info, items, folder: Path) -> dict:
    """Write `<order>.dispatch.pdf` next to the sealed set (not in it) and print the ticket."""
    from sync.model import safe_name

    pdf = folder.parent / f"{safe_name(info.unit_id)}.dispatch.pdf"
    try:
        pdf.parent.mkdir(parents=True, exist_ok=True)
        pdf.write_bytes(render_pdf(info, items))
        where = str(pdf)
    except OSError as exc:
        where = f"not written: {exc}"
    return {"pdf": where, "ticket": print_ticket(settings, info, items)}
