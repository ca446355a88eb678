"""`station plant status`: every line on the plant database, its batches, rate, alarms, outbox."""

from __future__ import annotations

import json
from datetime import timedelta

from sqlalchemy import Engine, func, insert, select, update

from station.plant.blocks import blocks, held
from station.store import audit
from station.store.models import Batch, Meta, OutboxItem, Reject

_batches = Batch.__table__
_outbox = OutboxItem.__table__
_rejects = Reject.__table__
_meta = Meta.__table__
LIVE_KEY = "line:"  # meta key prefix of a line's last published state and alarms
OUTBOX_KEY = "outbox:"  # meta key prefix of a plant-link line's local outbox, by state
RECENT_BATCHES = 10


def publish(engine: Engine, station_id: str, state: str, alarms: list[dict]) -> None:
    """Record a line's run state and open alarms where the plant view can read them."""
    key = (LIVE_KEY + station_id)[:64]
    value = json.dumps({"state": state, "alarms": alarms, "at": audit.now().isoformat()})
    with engine.begin() as conn:
        n = conn.execute(update(_meta).where(_meta.c.key == key).values(value=value)).rowcount
        if not n:
            conn.execute(insert(_meta).values(key=key, value=value))


def _line(lines: dict, sid: str) -> dict:
    return lines.setdefault(
        sid,
        {
            "station_id": sid,
            "line": None,
            "batches": [],
            "batch_states": {},
            "rate_per_min": 0,
            "held": {},
            "blocks": 0,
            "open_rejects": 0,
            "outbox": {},
            "state": None,
            "alarms": [],
            "seen_at": None,
        },
    )


def plant_status(engine: Engine) -> dict:
    """One snapshot of the plant: pool by level, and per line everything the issue asks for."""
    since = audit.now() - timedelta(seconds=60)
    lines: dict[str, dict] = {}
    with engine.connect() as conn:
        pool: dict[str, dict[str, int]] = {}
        for level, holder, state, n in conn.execute(
            select(held.c.level, held.c.holder.is_not(None), held.c.state, func.count()).group_by(
                held.c.level, held.c.holder.is_not(None), held.c.state
            )
        ):
            p = pool.setdefault(level, {"total": 0, "free": 0, "held_available": 0})
            p["total"] += n
            if state == "available":
                p["held_available" if holder else "free"] += n
        for b in conn.execute(select(_batches).order_by(_batches.c.created_at.desc())):
            ln = _line(lines, b.station_id)
            ln["line"] = ln["line"] or b.line
            ln["batch_states"][b.state] = ln["batch_states"].get(b.state, 0) + 1
            if len(ln["batches"]) < RECENT_BATCHES:
                ln["batches"].append(
                    {
                        "batch": b.id,
                        "state": b.state,
                        "product": b.product_sku,
                        "lot": b.lot,
                        "quantity": b.quantity,
                        "started_at": b.started_at,
                        "closed_at": b.closed_at,
                    }
                )
        for sid, level, n in conn.execute(
            select(held.c.holder, held.c.level, func.count())
            .where(held.c.holder.is_not(None), held.c.state == "available")
            .group_by(held.c.holder, held.c.level)
        ):
            _line(lines, sid)["held"][level] = n
        for sid, n in conn.execute(select(blocks.c.holder, func.count()).group_by(blocks.c.holder)):
            _line(lines, sid)["blocks"] = n
        # Rate: codes of the line's batches that reached verified or linked in the last minute.
        for sid, n in conn.execute(
            select(_batches.c.station_id, func.count())
            .select_from(held.join(_batches, _batches.c.id == held.c.batch_id))
            .where(held.c.state.in_(("verified", "linked")), held.c.updated_at >= since)
            .group_by(_batches.c.station_id)
        ):
            _line(lines, sid)["rate_per_min"] = n
        for sid, n in conn.execute(
            select(_batches.c.station_id, func.count())
            .select_from(_rejects.join(_batches, _batches.c.id == _rejects.c.batch_id))
            .where(_rejects.c.decision.is_(None))
            .group_by(_batches.c.station_id)
        ):
            _line(lines, sid)["open_rejects"] = n
        for sid, state, n in conn.execute(
            select(_batches.c.station_id, _outbox.c.state, func.count())
            .select_from(_outbox.join(_batches, _batches.c.id == _outbox.c.batch_id))
            .group_by(_batches.c.station_id, _outbox.c.state)
        ):
            _line(lines, sid)["outbox"][state] = n
        # A plant-link line keeps its outbox in its own store and reports the counts by state.
        for key, value in conn.execute(
            select(_meta.c.key, _meta.c.value).where(_meta.c.key.like(OUTBOX_KEY + "%"))
        ):
            ln = _line(lines, key[len(OUTBOX_KEY) :])
            ln["outbox"] = ln["outbox"] or json.loads(value)
        for key, value in conn.execute(
            select(_meta.c.key, _meta.c.value).where(_meta.c.key.like(LIVE_KEY + "%"))
        ):
            live = json.loads(value)
            ln = _line(lines, key[len(LIVE_KEY) :])
            ln.update(state=live["state"], alarms=live["alarms"], seen_at=live["at"])
    return {
        "database": engine.url.render_as_string(hide_password=True),
        "pool": pool,
        "lines": [lines[k] for k in sorted(lines)],
    }


def render(status: dict) -> str:
    """The snapshot as text for a terminal."""
    out = [f"plant database {status['database']}"]
    for level, p in sorted(status["pool"].items()):
        out.append(
            f"  pool {level}: {p['free']} free, {p['held_available']} held by lines, "
            f"{p['total']} in all"
        )
    for ln in status["lines"]:
        held_txt = ", ".join(f"{lv} {n}" for lv, n in sorted(ln["held"].items())) or "none"
        states = ", ".join(f"{n} {s}" for s, n in sorted(ln["batch_states"].items())) or "none"
        out.append(
            f"line {ln['line'] or '?'} ({ln['station_id']}): {ln['state'] or 'no live state'}, "
            f"{ln['rate_per_min']}/min, batches {states}"
        )
        out.append(
            f"  holds {held_txt} in {ln['blocks']} block(s); open rejects {ln['open_rejects']}; "
            f"outbox {json.dumps(ln['outbox'])}"
        )
        for a in ln["alarms"]:
            out.append(f"  ALARM {a.get('device', '')}: {a.get('message', '')}")
        for b in ln["batches"][:3]:
            out.append(f"  {b['batch']} {b['state']} {b['product']} lot {b['lot']}")
    return "\n".join(out)


class LivePublisher:
    """Publishes a running line's state and alarms to the plant database, at most every few s."""

    def __init__(self, engine: Engine, station_id: str, every_s: float = 2.0) -> None:
        self.engine, self.station_id, self.every_s = engine, station_id, every_s
        self._last = 0.0

    def update(self, state: str, alarms, *, force: bool = False) -> None:
        """Record `state` and the open alarms (events.Alarm objects) unless published just now."""
        import time

        if not force and time.monotonic() - self._last < self.every_s:
            return
        self._last = time.monotonic()
        items = [
            {"code": a.code, "device": a.device, "message": a.message, "severity": a.severity}
            for a in alarms
        ]
        try:
            publish(self.engine, self.station_id, state, items)
        except Exception:  # the plant view is best effort; the line never stops for it
            pass
