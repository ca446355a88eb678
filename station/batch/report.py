"""Batch report: planned vs actual, rejects by reason (Pareto), rework, containers, signatures.

`gather` reads the store into a plain dict (also the JSON output); `to_html` renders it as one
self-contained page (inline SVG bar chart, no JavaScript, no network). Inner (prize) codes are
masked unless the reader's role may see them.
"""

from __future__ import annotations

from collections import Counter
from html import escape

from sqlalchemy import func, select
from sqlalchemy.engine import Connection

from aggregation.reasons import reason_text
from station.codes.masking import SECRET_LEVELS, mask
from station.qa.decisions import DESTROYED_PREFIX
from station.store import audit, batches
from station.store.lifecycle import State
from station.store.models import AuditEntry, Code, Reject

_codes = Code.__table__
_rejects = Reject.__table__
_audit = AuditEntry.__table__
REWORK_ACTIONS = (
    "qa.release",
    "qa.replace",
    "qa.unpack",
    "qa.aggregate",
    "label.reprint",
    "qa.decommission",
    "qa.destroy",
)
GOOD = (State.VERIFIED, State.LINKED)


def gather(conn: Connection, settings, batch_id: str, *, reveal: bool = False) -> dict:
    """Everything the report shows, as a JSON-ready dict."""
    b = batches.get(conn, batch_id)
    levels = settings.level_names
    item = settings.line.printed_level if settings.line.printed_level in levels else levels[0]
    states = batches.counts(conn, batch_id)
    items = states.get(item, {})
    printed = sum(
        items.get(s, 0)
        for s in (State.PRINTED, State.VERIFIED, State.LINKED, State.REJECTED, State.DECOMMISSIONED)
    )
    good = sum(items.get(s, 0) for s in GOOD)
    destroyed = conn.execute(
        select(func.count())
        .select_from(_codes)
        .where(
            _codes.c.batch_id == batch_id,
            _codes.c.state == "decommissioned",
            _codes.c.reason.like(DESTROYED_PREFIX + "%"),
        )
    ).scalar_one()
    rejects = Counter(
        dict(
            conn.execute(
                select(_rejects.c.reason, func.count())
                .where(_rejects.c.batch_id == batch_id)
                .group_by(_rejects.c.reason)
            ).all()
        )
    )
    total_rejects = sum(rejects.values())
    pareto, running = [], 0
    lang = settings.station.language
    for reason, n in sorted(rejects.items(), key=lambda kv: (-kv[1], kv[0])):
        running += n
        pareto.append(
            {
                "reason": reason,
                "text": reason_text(reason, lang),
                "count": n,
                "cumulative_pct": round(100 * running / total_rejects, 1),
            }
        )
    waiting = conn.execute(
        select(func.count())
        .select_from(_rejects)
        .where(_rejects.c.batch_id == batch_id, _rejects.c.decision.is_(None))
    ).scalar_one()
    containers: dict[str, dict[str, int]] = {}
    for lv, status, n in conn.execute(
        select(_codes.c.level, _codes.c.container_status, func.count())
        .where(
            _codes.c.batch_id == batch_id,
            _codes.c.container_status.is_not(None),
            _codes.c.state != "decommissioned",
        )
        .group_by(_codes.c.level, _codes.c.container_status)
    ):
        containers.setdefault(lv, {})[status] = n
    trail = conn.execute(
        select(_audit)
        .where(
            _audit.c.batch_id == batch_id,
            _audit.c.action.in_((*REWORK_ACTIONS, "esign", "qa.after_close")),
        )
        .order_by(_audit.c.id)
    ).all()
    secret = {} if reveal else _secrets(conn, {r.subject for r in trail})
    rework = Counter(r.action for r in trail if r.action in REWORK_ACTIONS)
    decisions = [
        {
            "time": r.time.isoformat(timespec="seconds"),
            "user": r.user,
            "action": r.action,
            "code": secret.get(r.subject, r.subject),
            "old": r.old,
            "new": r.new,
            "reason": r.reason,
        }
        for r in trail
        if r.action in REWORK_ACTIONS
    ]
    signatures = [
        {
            "time": r.time.isoformat(timespec="seconds"),
            "user": r.user,
            "what": r.new,
            "code": secret.get(r.subject, r.subject),
            "reason": r.reason,
        }
        for r in trail
        if r.action == "esign"
    ]
    return {
        "batch": b.to_json(),
        "item_level": item,
        "planned": b.quantity,
        "actual": good,
        "printed": printed,
        "verified": good,
        "rejected_now": items.get(State.REJECTED, 0),
        "rejects_total": total_rejects,
        "rejects_waiting": waiting,
        "rejects_by_reason": pareto,
        "decommissioned": items.get("decommissioned", 0),
        "destroyed": destroyed,
        "voids": {lv: st.get(State.VOID, 0) for lv, st in states.items() if st.get(State.VOID)},
        "codes": states,
        "containers": containers,
        "reworked": dict(sorted(rework.items())),
        "decisions": decisions,
        "signatures": signatures,
        "generated_at": audit.now().isoformat(timespec="seconds"),
    }


def _secrets(conn: Connection, subjects: set[str]) -> dict[str, str]:
    items = sorted(subjects)
    out: dict[str, str] = {}
    for i in range(0, len(items), 500):
        for code, level in conn.execute(
            select(_codes.c.code, _codes.c.level).where(
                _codes.c.code.in_(items[i : i + 500]), _codes.c.level.in_(SECRET_LEVELS)
            )
        ):
            out[code] = mask(code, level)
    return out


def bar_chart_svg(rows: list[dict], width: int = 640) -> str:
    """Horizontal bars of rejects by reason, largest first, with count and cumulative %."""
    if not rows:
        return "<p>No rejects.</p>"
    bar_h, gap, label_w = 22, 6, 220
    top = max(r["count"] for r in rows)
    plot_w = width - label_w - 110
    height = len(rows) * (bar_h + gap) + gap
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'role="img" aria-label="Rejects by reason">'
    ]
    for i, r in enumerate(rows):
        y = gap + i * (bar_h + gap)
        w = max(1, round(plot_w * r["count"] / top))
        parts.append(
            f'<text x="{label_w - 8}" y="{y + bar_h * 0.7:.0f}" text-anchor="end" '
            f'font-size="13">{escape(r["text"])}</text>'
            f'<rect x="{label_w}" y="{y}" width="{w}" height="{bar_h}" fill="#c0392b">'
            f"<title>{escape(r['reason'])}: {r['count']}</title></rect>"
            f'<text x="{label_w + w + 6}" y="{y + bar_h * 0.7:.0f}" font-size="13">'
            f"{r['count']} ({r['cumulative_pct']}%)</text>"
        )
    parts.append("</svg>")
    return "".join(parts)


def _table(head: list[str], rows: list[list]) -> str:
    if not rows:
        return "<p>None.</p>"
    th = "".join(f"<th>{escape(h)}</th>" for h in head)
    body = "".join(
        "<tr>" + "".join(f"<td>{escape('' if c is None else str(c))}</td>" for c in r) + "</tr>"
        for r in rows
    )
    return f"<table><thead><tr>{th}</tr></thead><tbody>{body}</tbody></table>"


_CSS = (
    "body{font-family:'Noto Sans CJK SC','DejaVu Sans',sans-serif;margin:2em;color:#222}"
    "table{border-collapse:collapse;margin:.5em 0 1.5em}td,th{border:1px solid #bbb;"
    "padding:3px 8px;text-align:left}th{background:#eee}h2{margin-top:1.5em}"
    ".big td:nth-child(2){text-align:right;font-weight:bold}"
)


def to_html(r: dict) -> str:
    """A self-contained HTML page of the report."""
    b = r["batch"]
    summary = [
        ["planned", r["planned"]],
        [f"actual (good {r['item_level']} items)", r["actual"]],
        ["printed", r["printed"]],
        ["verified", r["verified"]],
        ["rejects recorded", r["rejects_total"]],
        ["rejects waiting for QA", r["rejects_waiting"]],
        ["rejected (codes still rejected)", r["rejected_now"]],
        ["decommissioned", r["decommissioned"]],
        ["of which destroyed", r["destroyed"]],
        ["voids", sum(r["voids"].values())],
    ]
    cont = [[lv, st, n] for lv, by in r["containers"].items() for st, n in sorted(by.items())]
    codes = [[lv, st, n] for lv, by in r["codes"].items() for st, n in sorted(by.items())]
    return "".join(
        [
            "<!DOCTYPE html><html><head><meta charset='utf-8'>",
            f"<title>Batch {escape(b['id'])}</title><style>{_CSS}</style></head><body>",
            f"<h1>Batch report {escape(b['id'])}</h1>",
            f"<p>{escape(b['product_sku'])} — {escape(b['product_name'])}; lot "
            f"{escape(b['lot'])}; line {escape(b['line'])}; state {escape(b['state'])}; "
            f"produced {escape(str(b['produced']))}, expires {escape(str(b['expires']))}; "
            f"closed {escape(str(b['closed_at']))}</p>",
            "<h2>Planned vs actual</h2>",
            _table(["", "count"], summary).replace("<table>", "<table class='big'>", 1),
            "<h2>Rejects by reason (Pareto)</h2>",
            bar_chart_svg(r["rejects_by_reason"]),
            _table(
                ["reason", "", "count", "cumulative %"],
                [
                    [p["reason"], p["text"], p["count"], p["cumulative_pct"]]
                    for p in r["rejects_by_reason"]
                ],
            ),
            "<h2>Containers</h2>",
            _table(["level", "status", "count"], cont),
            "<h2>Rework</h2>",
            _table(["action", "count"], [[k, v] for k, v in r["reworked"].items()]),
            _table(
                ["time (UTC)", "user", "action", "code", "old", "new", "reason"],
                [
                    [d["time"], d["user"], d["action"], d["code"], d["old"], d["new"], d["reason"]]
                    for d in r["decisions"]
                ],
            ),
            "<h2>Signatures</h2>",
            _table(
                ["time (UTC)", "signed by", "what", "code", "reason"],
                [
                    [s["time"], s["user"], s["what"], s["code"], s["reason"]]
                    for s in r["signatures"]
                ],
            ),
            "<h2>Codes by level and state</h2>",
            _table(["level", "state", "count"], codes),
            f"<p><small>generated {escape(r['generated_at'])} UTC</small></p>",
            "</body></html>",
        ]
    )
