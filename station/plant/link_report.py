"""Plant link, the report: what a line did locally with its claimed codes, pushed to the plant.

One round is ONE plant transaction: the line's batches (upserted), the current fields of every
code a new local audit entry names (state, batch, parent, pair, seq, grade, reason, container
status and count; only codes this line holds in the plant), new link rows, the rejects of
batches whose rejects changed (replaced), and the new local audit entries themselves (copied as
they are, hashes and all, onto the plant chain `<station>.local`, so `station audit verify` on
the plant checks them). The watermarks (last local audit, link and reject id reported) live in
the plant's meta table and move in the same transaction, so a report killed half-way commits
nothing, a re-run resumes where the last committed round ended, and a report with nothing new
changes nothing. Codes are matched by their text (ids differ between the stores).
"""

from __future__ import annotations

import json
import logging

from sqlalchemy import Engine, func, or_, select, text
from sqlalchemy.dialects.postgresql import insert as pg_insert

from station.config import Settings
from station.plant.link import plant_engine, plant_url, talking
from station.plant.status import OUTBOX_KEY, publish
from station.store.audit import HEAD_KEY
from station.store.db import read_engine
from station.store.models import AuditEntry, Batch, Code, Link, Meta, OutboxItem, Reject

log = logging.getLogger("station.plant.link")
_codes = Code.__table__
_links = Link.__table__
_rejects = Reject.__table__
_batches = Batch.__table__
_audit = AuditEntry.__table__
_meta = Meta.__table__
_outbox = OutboxItem.__table__
CHUNK = 20_000  # local audit entries (and link rows) per round: one bounded plant transaction
_IN = 500
_CODE_FIELDS = (
    *("code", "state", "batch_id", "parent", "pair", "seq", "reason", "grade", "child_count"),
    *("container_status", "updated_at"),
)
_CODE_TYPES = ("text", "text", "text", "text", "text", "bigint", "text", "text", "int", "text")
_UPDATE_CODES = text(
    "UPDATE codes c SET state = v.state, batch_id = v.batch_id, parent_id = p.id, pair_id = q.id, "
    "seq = v.seq, reason = v.reason, grade = v.grade, child_count = v.child_count, "
    "container_status = v.container_status, updated_at = v.updated_at "
    "FROM unnest("
    + ", ".join(
        f"CAST(:{f} AS {t}[])"
        for f, t in zip(_CODE_FIELDS, (*_CODE_TYPES, "timestamp"), strict=True)
    )
    + f") AS v({', '.join(_CODE_FIELDS)}) "
    "LEFT JOIN codes p ON p.code = v.parent LEFT JOIN codes q ON q.code = v.pair "
    "WHERE c.code = v.code AND c.holder = :sid AND ROW(c.state, c.batch_id, c.parent_id, "
    "c.pair_id, c.seq, c.reason, c.grade, c.child_count, c.container_status, c.updated_at) "
    "IS DISTINCT FROM ROW(v.state, v.batch_id, p.id, q.id, v.seq, v.reason, v.grade, "
    "v.child_count, v.container_status, v.updated_at)"
)
_FOREIGN = text(
    "SELECT count(*) FROM unnest(CAST(:code AS text[])) AS v(code) "
    "LEFT JOIN codes c ON c.code = v.code AND c.holder = :sid WHERE c.id IS NULL"
)
_INSERT_LINKS = text(
    'INSERT INTO links (parent_id, child_id, action, batch_id, time, "user") '
    "SELECT p.id, c.id, v.action, v.batch_id, v.time, v.usr FROM unnest(CAST(:parent AS text[]), "
    "CAST(:child AS text[]), CAST(:action AS text[]), CAST(:batch_id AS text[]), "
    "CAST(:time AS timestamp[]), CAST(:usr AS text[])) WITH ORDINALITY "
    "AS v(parent, child, action, batch_id, time, usr, n) "
    "JOIN codes p ON p.code = v.parent JOIN codes c ON c.code = v.child ORDER BY v.n"
)
_INSERT_REJECTS = text(
    "INSERT INTO rejects (batch_id, code_id, read_text, reason, detail, seq, time, decision, "
    "decided_by, decided_at) SELECT v.batch_id, c.id, v.read_text, v.reason, v.detail, v.seq, "
    "v.time, v.decision, v.decided_by, v.decided_at FROM unnest(CAST(:batch_id AS text[]), "
    "CAST(:code AS text[]), CAST(:read_text AS text[]), CAST(:reason AS text[]), "
    "CAST(:detail AS text[]), CAST(:seq AS bigint[]), CAST(:time AS timestamp[]), "
    "CAST(:decision AS text[]), CAST(:decided_by AS text[]), CAST(:decided_at AS timestamp[])) "
    "WITH ORDINALITY AS v(batch_id, code, read_text, reason, detail, seq, time, decision, "
    "decided_by, decided_at, n) LEFT JOIN codes c ON c.code = v.code ORDER BY v.n"
)
_AUDIT_FIELDS = ("time", "user", "action", "subject", "old", "new", "reason", "batch_id")
_INSERT_AUDIT = text(
    'INSERT INTO audit (time, "user", action, subject, old, new, reason, batch_id, prev_hash, '
    "hash, chain) SELECT v.time, v.usr, v.action, v.subject, v.old, v.new, v.reason, v.batch_id, "
    "v.prev_hash, v.hash, :chain FROM unnest(CAST(:time AS timestamp[]), CAST(:user AS text[]), "
    "CAST(:action AS text[]), CAST(:subject AS text[]), CAST(:old AS text[]), "
    "CAST(:new AS text[]), CAST(:reason AS text[]), CAST(:batch_id AS text[]), "
    "CAST(:prev_hash AS text[]), CAST(:hash AS text[])) WITH ORDINALITY AS v(time, usr, action, "
    "subject, old, new, reason, batch_id, prev_hash, hash, n) ORDER BY v.n"
)


def chain_of(sid: str) -> str:
    """The plant audit chain holding a link line's local trail."""
    return f"{sid[: 64 - len(HEAD_KEY) - 7]}.local"


def _key(kind: str, sid: str) -> str:
    return f"link.{kind}:{sid}"[:64]


def _cols(rows: list, fields: tuple[str, ...]) -> dict[str, list]:
    return {f: [getattr(r, f) for r in rows] for f in fields}


def _upsert_meta(conn, key: str, value: str) -> None:
    stmt = pg_insert(_meta).values(key=key, value=value)
    conn.execute(stmt.on_conflict_do_update(index_elements=["key"], set_={"value": value}))


def _round(local: Engine, peng: Engine, sid: str, chunk: int) -> dict:
    """One report round in one plant transaction; its counts (all 0: nothing new)."""
    n = dict.fromkeys(("batches", "codes", "links", "rejects", "audit", "not_in_plant"), 0)
    with peng.begin() as pc, read_engine(local).connect() as lc:
        # One reporter per line at a time: a second one waits here, then finds nothing new.
        pc.execute(text("SELECT pg_advisory_xact_lock(hashtext(:k))"), {"k": _key("lock", sid)})
        marks = dict(
            pc.execute(
                select(_meta.c.key, _meta.c.value).where(
                    _meta.c.key.in_([_key(k, sid) for k in ("audit", "links", "rejects")])
                )
            ).all()
        )
        wm = {k: int(marks.get(_key(k, sid), 0)) for k in ("audit", "links", "rejects")}
        entries = lc.execute(
            select(_audit.c.id, _audit.c.prev_hash, _audit.c.hash, *_audit.c[_AUDIT_FIELDS])
            .where(_audit.c.id > wm["audit"])
            .order_by(_audit.c.id)
            .limit(chunk)
        ).all()
        p, ch, q = _codes.alias("p"), _codes.alias("ch"), _codes.alias("q")
        links = lc.execute(
            select(
                _links.c.id,
                p.c.code.label("parent"),
                ch.c.code.label("child"),
                _links.c.action,
                _links.c.batch_id,
                _links.c.time,
                _links.c.user.label("usr"),
            )
            .join(p, p.c.id == _links.c.parent_id)
            .join(ch, ch.c.id == _links.c.child_id)
            .where(_links.c.id > wm["links"])
            .order_by(_links.c.id)
            .limit(chunk)
        ).all()
        new_rejects = lc.execute(
            select(_rejects.c.id, _rejects.c.batch_id).where(_rejects.c.id > wm["rejects"])
        ).all()
        touched = {r.batch_id for r in new_rejects if r.batch_id} | {
            e.batch_id for e in entries if e.batch_id and e.action.startswith("qa.")
        }
        # The line's batches first: codes, links and rejects point at them.
        local_batches = lc.execute(select(_batches).where(_batches.c.station_id == sid)).all()
        if local_batches:
            ins = pg_insert(_batches).values([dict(b._mapping) for b in local_batches])
            cols = [c.name for c in _batches.c if c.name != "id"]
            changed = ins.on_conflict_do_update(
                index_elements=["id"],
                set_={c: ins.excluded[c] for c in cols},
                where=or_(*(_batches.c[c].is_distinct_from(ins.excluded[c]) for c in cols)),
            )
            n["batches"] = len(pc.execute(changed.returning(_batches.c.id)).all())
        subjects = sorted({e.subject for e in entries})
        rows = []
        for i in range(0, len(subjects), _IN):
            rows += lc.execute(
                select(
                    _codes.c.code,
                    _codes.c.state,
                    _codes.c.batch_id,
                    p.c.code.label("parent"),
                    q.c.code.label("pair"),
                    _codes.c.seq,
                    _codes.c.reason,
                    _codes.c.grade,
                    _codes.c.child_count,
                    _codes.c.container_status,
                    _codes.c.updated_at,
                )
                .select_from(
                    _codes.outerjoin(p, p.c.id == _codes.c.parent_id).outerjoin(
                        q, q.c.id == _codes.c.pair_id
                    )
                )
                .where(_codes.c.code.in_(subjects[i : i + _IN]), _codes.c.state != "available")
            ).all()
        if rows:
            cols = _cols(rows, _CODE_FIELDS)
            n["codes"] = pc.execute(_UPDATE_CODES, {**cols, "sid": sid}).rowcount
            n["not_in_plant"] = pc.execute(_FOREIGN, {"code": cols["code"], "sid": sid}).scalar()
        if links:
            fields = ("parent", "child", "action", "batch_id", "time", "usr")
            n["links"] = pc.execute(_INSERT_LINKS, _cols(links, fields)).rowcount
            _upsert_meta(pc, _key("links", sid), str(links[-1].id))
        if new_rejects:
            _upsert_meta(pc, _key("rejects", sid), str(max(r.id for r in new_rejects)))
        if touched:
            pc.execute(_rejects.delete().where(_rejects.c.batch_id.in_(sorted(touched))))
            mine = lc.execute(
                select(_rejects, _codes.c.code)
                .outerjoin(_codes, _codes.c.id == _rejects.c.code_id)
                .where(_rejects.c.batch_id.in_(sorted(touched)))
                .order_by(_rejects.c.id)
            ).all()
            if mine:
                fields = ("batch_id", "code", "read_text", "reason", "detail", "seq", "time")
                more = ("decision", "decided_by", "decided_at")
                n["rejects"] = pc.execute(_INSERT_REJECTS, _cols(mine, fields + more)).rowcount
        if entries:
            fields = (*_AUDIT_FIELDS, "prev_hash", "hash")
            pc.execute(_INSERT_AUDIT, {**_cols(entries, fields), "chain": chain_of(sid)})
            _upsert_meta(pc, f"{HEAD_KEY}:{chain_of(sid)}", entries[-1].hash)
            _upsert_meta(pc, _key("audit", sid), str(entries[-1].id))
            n["audit"] = len(entries)
    n["more"] = len(entries) == chunk or len(links) == chunk
    return n


def _report_outbox(local: Engine, peng: Engine, sid: str) -> None:
    """The line's outbox by state (pending, sent, acknowledged, parked) for `station plant status`.

    Only the counts: the line sends its own batches, so copying the rows would let a plant-side
    sender push them a second time.
    """
    with read_engine(local).connect() as lc:
        counts = dict(
            lc.execute(
                select(_outbox.c.state, func.count())
                .group_by(_outbox.c.state)
                .order_by(_outbox.c.state)
            ).all()
        )
    with peng.begin() as pc:
        _upsert_meta(pc, (OUTBOX_KEY + sid)[:64], json.dumps(counts))


def report(
    local: Engine, settings: Settings, *, chunk: int = CHUNK, max_rounds: int | None = None
) -> dict:
    """Push everything not yet reported; counts of what changed in the plant (all 0: nothing).

    Raises PlantUnreachable when the plant does not answer; what was committed stays committed.
    """
    sid = settings.station.id
    peng = plant_engine(settings)
    total = dict.fromkeys(("batches", "codes", "links", "rejects", "audit", "not_in_plant"), 0)
    rounds = 0
    with talking(str(plant_url(settings))):
        while True:
            n = _round(local, peng, sid, chunk)
            rounds += 1
            for k in total:
                total[k] += n[k]
            if not n["more"] or (max_rounds is not None and rounds >= max_rounds):
                break
        _report_outbox(local, peng, sid)
        publish(peng, sid, "linked", [])
    if total["not_in_plant"]:
        log.warning(
            "plant link: %d local code(s) are not held by %s in the plant (made or imported "
            "locally?); the plant does not see them",
            total["not_in_plant"],
            sid,
        )
    total["rounds"], total["done"] = rounds, not n["more"]
    return total


def pending(local: Engine, settings: Settings) -> dict[str, int]:
    """Local audit entries, link and reject rows the plant has not seen yet (PlantUnreachable)."""
    sid = settings.station.id
    peng = plant_engine(settings)
    kinds = (("audit", _audit), ("links", _links), ("rejects", _rejects))
    with talking(str(plant_url(settings))), peng.connect() as pc:
        marks = dict(
            pc.execute(
                select(_meta.c.key, _meta.c.value).where(
                    _meta.c.key.in_([_key(k, sid) for k, _ in kinds])
                )
            ).all()
        )
    with read_engine(local).connect() as lc:
        return {
            kind: lc.execute(
                select(func.count()).where(table.c.id > int(marks.get(_key(kind, sid), 0)))
            ).scalar_one()
            for kind, table in kinds
        }
